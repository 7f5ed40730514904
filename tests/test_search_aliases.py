"""A lab member types a paper's short name, which its list entry never spells out.

"K-SAN", "PCAWG" or "ConvAI2" are how people know a paper, a consortium or a challenge;
the entry says "Knowledge-Guided Structural Attention Networks", "Pan-cancer analysis of
whole genomes" or links to convai.io. The index keeps such aliases (index/aliases.py),
derived from the entry itself, and only a word typed as a name looks them up, so they
never dilute an ordinary word or a name an entry does spell out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.aliases import acronyms, entry_aliases, host_words, hyphen_acronym, name_parts
from index.parser import parse
from index.search import SearchIndex, SourceSnapshot

NLP = """# Awesome NLP

## Dialogue
* Knowledge as a Teacher: Knowledge-Guided Structural Attention Networks [`arxiv`](https://arxiv.org/pdf/1609.03286.pdf)
* Denoising Distantly Supervised Open-Domain Question Answering [`code`](https://github.com/thunlp/OpenQA)
* [The Conversational Intelligence Challenge](http://convai.io/)
* [Structured attention notes](https://example.org/attention-notes) - a blog about attention.
* [CNNC: convolutional neural network based coexpression analysis](https://github.com/xiaoyeye/CNNC)

## Genomes
* [Pan-cancer analysis of whole genomes](https://www.nature.com/articles/s41586-020-1969-6)
* [A comparison of automatic cell identification methods for single-cell RNA sequencing data](https://example.org/cell-id-benchmark)
* [Cell identification with deep learning](https://example.org/cell-id-dl)
"""
# Titles whose initials happen to spell CNNC: a name an entry spells out must still win.
NLP += "\n## Distractors\n" + "".join(
    f"* [Clever Neural Network Cookbook {n}](https://example.org/cookbook-{n}) - recipes.\n" for n in range(12)
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    path = tmp_path_factory.mktemp("aliases") / "index"
    idx = SearchIndex.open(path, model=None)
    idx.sync([SourceSnapshot("nlp", "1", lambda: parse(NLP, source="nlp"))], progress=False)
    yield idx
    idx.close()


def _top(index: SearchIndex, query: str, count: int = 3) -> list[str]:
    return [hit.entry.title for hit in index.search(query, per_page=count).hits]


def test_a_lab_member_types_a_hyphenated_acronym_and_finds_the_paper_it_stands_for(index: SearchIndex) -> None:
    assert _top(index, "K-SAN")[0].startswith("Knowledge as a Teacher")
    assert _top(index, "K-SAN slot filling")[0].startswith("Knowledge as a Teacher")


def test_a_consortium_acronym_finds_its_flagship_paper(index: SearchIndex) -> None:
    assert _top(index, "PCAWG")[0] == "Pan-cancer analysis of whole genomes"


def test_a_challenge_named_with_its_edition_finds_the_challenge_by_its_site(index: SearchIndex) -> None:
    assert _top(index, "ConvAI2")[0] == "The Conversational Intelligence Challenge"


def test_an_acronym_made_of_two_acronyms_still_matches_their_expansions(index: SearchIndex) -> None:
    # "DS-QA": no title spells dsqa, but QA is question answering (a synonym) and DS is in none
    assert "Denoising Distantly Supervised Open-Domain Question Answering" in _top(index, "DS-QA")


def test_asking_x_vs_y_prefers_the_paper_that_compares_them(index: SearchIndex) -> None:
    assert _top(index, "cell identification tools vs each other")[0].startswith("A comparison of automatic cell")


def test_a_name_an_entry_spells_out_is_not_diluted_by_titles_whose_initials_spell_it(index: SearchIndex) -> None:
    top = _top(index, "CNNC", count=5)
    assert top[0].startswith("CNNC:")
    assert not any(title.startswith("Clever Neural Network Cookbook") for title in top)


def test_a_lowercase_word_never_looks_in_the_aliases(index: SearchIndex) -> None:
    # "ksan" typed in lower case is a word, not a name: the acronym of Knowledge-Guided
    # Structural Attention Networks is not searched, so nothing matches it.
    assert _top(index, "ksan") == [] or not _top(index, "ksan")[0].startswith("Knowledge as a Teacher")


def test_the_aliases_of_an_entry_come_from_its_title_and_links() -> None:
    assert "ksan" in acronyms("Knowledge as a Teacher: Knowledge-Guided Structural Attention Networks")
    assert "pcawg" in acronyms("Pan-cancer analysis of whole genomes")
    assert all(3 <= len(a) <= 6 for a in acronyms("A very long title with many words in it to spell things"))
    assert host_words(["http://convai.io/", "https://github.com/a/b", "https://www.med.upenn.edu/x"]) == ["convai", "med", "upenn"]
    assert name_parts("GraphSCI") == ["graph", "sci"]
    assert name_parts("ConvAI2") == ["conv", "ai", "2"]
    assert name_parts("harmony") == []
    assert hyphen_acronym("K-SAN") == "ksan"
    assert hyphen_acronym("RNA-seq") is None
    assert hyphen_acronym("d-vector") is None
    aliases = entry_aliases(["NeuralDialogPapers"], ["https://github.com/snakeztc/NeuralDialogPapers"])
    assert aliases[:3] == ["neural", "dialog", "papers"]


def test_an_unparseable_link_gives_no_alias_rather_than_an_error(tmp_path: Path) -> None:
    assert host_words(["http://[oops", "not a url at all", ""]) == []


def test_a_lab_is_found_by_its_repository_account(tmp_path: Path) -> None:
    """"theislab" is how people know the Theis lab's tools: the account, not a word in any title."""
    text = "# Tools\n## Denoising\n* [DCA: deep count autoencoder](https://github.com/theislab/dca) - denoising.\n" \
        "* [Other autoencoder](https://github.com/someone/other) - denoising too.\n"
    idx = SearchIndex.open(tmp_path / "index", model=None)
    idx.sync([SourceSnapshot("tools", "1", lambda: parse(text, source="tools"))], progress=False)
    try:
        assert _top(idx, "theislab") == ["DCA: deep count autoencoder"]
    finally:
        idx.close()
