"""A lab member types the narrow jargon of a paper the list describes in general words.

Issue 11, acronyms and field jargon: "chromothripsis templated insertions" means the
PCAWG structural-variation paper, whose title says "structural variation" and neither
word typed. ``data/synonyms.yaml`` records what a narrow term is a kind of (``broader``);
these stories check that the broader terms find such a paper, that an entry naming the
typed term still comes first, and that the spelling reader does not turn the typed
jargon into other words of the index on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.parser import parse
from index.search import SearchIndex, SearchResult, SourceSnapshot
from index.search_synonyms import SynonymsError, load_synonyms

GENOMES = """# Awesome Cancer Genomes

## Structural variants
* [Patterns of somatic structural variation in human cancer genomes](https://example.org/sv-patterns) Li, Y., Roberts, N.D., Wala, J.A. et al. Nature 578 (2020).
* [Chromothripsis from DNA damage in micronuclei](https://example.org/chromothripsis) Zhang, C.Z. et al. Nature (2015).
* [Calling structural variants from long reads](https://example.org/sv-calling) - a structural variant caller.

## Point mutations
* [Somatic point mutations in tumours](https://example.org/snv) - single nucleotide variants of 2,658 cancers.

## Language
* [Enhanced LSTM for natural language inference](https://example.org/esim)
* [Inference of gene networks from expression](https://example.org/grn) - network inference.

## Speech
* [只对你有感觉：谷歌用声纹识别实现定向人声分离](https://example.org/voicefilter)
* [Speech recognition with deep recurrent networks](https://example.org/asr)
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    built = SearchIndex.open(tmp_path_factory.mktemp("broader") / "index")
    built.sync([SourceSnapshot("genomes", "v1", lambda: parse(GENOMES, source="genomes"))], progress=False)
    yield built
    built.close()


def _urls(result: SearchResult) -> list[str]:
    return [hit.entry.url or "" for hit in result.hits]


def test_chromothripsis_finds_the_structural_variation_papers_after_the_one_naming_it(index: SearchIndex) -> None:
    urls = _urls(index.search("chromothripsis"))
    assert urls[0] == "https://example.org/chromothripsis"
    assert set(urls[1:3]) == {"https://example.org/sv-patterns", "https://example.org/sv-calling"}
    assert "https://example.org/snv" not in urls


def test_jargon_no_entry_names_finds_the_paper_in_general_words(index: SearchIndex) -> None:
    result = index.search("templated insertions")
    assert _urls(result)[:2] and set(_urls(result)[:2]) <= {"https://example.org/sv-patterns", "https://example.org/sv-calling"}
    assert result.suggestion is None


def test_a_real_word_the_lists_lack_is_not_corrected_into_a_distant_one(index: SearchIndex) -> None:
    """"insertions" (stem "insert") is two edits from "infer": another word, not a slip."""
    result = index.search("insertions")
    assert result.suggestion is None
    assert not any("inference" in (hit.entry.title or "").lower() for hit in result.hits)


def test_a_hyphenated_term_does_not_match_the_initials_in_reference_lines(index: SearchIndex) -> None:
    """The "d" of d-vector alone would match "N.D." in every author list."""
    urls = _urls(index.search("d-vector"))
    assert "https://example.org/sv-patterns" not in urls
    # a d-vector is a voiceprint (声纹): the Chinese post on voice separation is the one
    assert urls[:1] == ["https://example.org/voicefilter"]


def test_a_broader_relation_in_a_lab_s_own_synonyms_file_is_used(tmp_path: Path) -> None:
    synonyms = tmp_path / "synonyms.yaml"
    synonyms.write_text(
        "groups:\n  - [SNV, single nucleotide variant]\n"
        "broader:\n  - {terms: [kataegis], broader: [point mutation, SNV]}\n",
        encoding="utf-8",
    )
    read = load_synonyms(synonyms)
    broader = {variant.text for variant in read.broader_for("kataegi")}
    assert {"point mutation", "SNV", "single nucleotide variant"} <= broader


@pytest.mark.parametrize(
    "body",
    [
        "broader: {kataegis: SNV}\n",
        "broader:\n  - [kataegis, SNV]\n",
        "broader:\n  - {terms: kataegis, broader: [SNV]}\n",
    ],
)
def test_a_malformed_broader_section_is_a_clear_error(tmp_path: Path, body: str) -> None:
    synonyms = tmp_path / "synonyms.yaml"
    synonyms.write_text("groups: []\n" + body, encoding="utf-8")
    with pytest.raises(SynonymsError, match="broader"):
        load_synonyms(synonyms)


def test_a_lab_following_a_narrow_term_is_not_sent_every_paper_of_the_broader_one() -> None:
    """A search ranks by the broader terms; a subscription is kept to what was asked."""
    from bot.core.saved_search import saved_search
    from index.model import Entry

    matches = saved_search(None)
    general = Entry(id="sv", title="Patterns of somatic structural variation in human cancer genomes", url="https://example.org/sv")
    named = Entry(id="ct", title="Chromothripsis from DNA damage in micronuclei", url="https://example.org/ct")
    assert matches("chromothripsis", named)
    assert not matches("chromothripsis", general)
    assert matches("structural variant", general)
