"""A lab member's question, typed as they would type it, finds what they mean.

Issue 11 part B: chat framing, intent words, word order, generic words, honest spelling
and Chinese in either script. Each story is one "why" of the issue, on a real Whoosh
index in a temp dir built from small Markdown lists written for the story.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.analysis import ANALYZER_VERSION, query_tokens
from index.parser import parse
from index.question import read_question
from index.search import SearchIndex, SearchResult, SourceSnapshot

SINGLE_CELL = """# Awesome Single Cell

## Pipelines
* [CellRanger](https://support.10xgenomics.com/cellranger) - 10x Genomics pipeline for alignment and counting.
* [CellRank](https://github.com/theislab/cellrank) - cell fate mapping with CellRank kernels.
* [CellRank tutorials](https://cellrank.org/tutorials) - CellRank notebooks.
* [CellRank for RNA velocity](https://example.org/cellrank-velocity) - CellRank on velocity data.

## Integration
* [Harmony](https://github.com/immunogenomics/harmony) - fast integration of single-cell data.
* [Data harmonization at scale](https://example.org/harmonization-1) - harmonization of cohorts.
* [Harmonization of clinical records](https://example.org/harmonization-2) - record harmonization.
* [MNN](https://example.org/mnn) - batch effect correction by matching mutual nearest neighbours.

## Tools
* [scScope](https://github.com/AltschulerWu-Lab/scScope) - recurrent autoencoder for cell profiles.
* [trfl](https://github.com/deepmind/trfl/) - reinforcement learning building blocks.

## Imputation
* [scImpute](https://example.org/scimpute) - statistical imputation of dropouts in scRNA-seq.
* [MAGIC](https://example.org/magic) - diffusion-based imputation of single cell data.

## 单细胞 细胞类型注释
* [CellAssign](https://github.com/Irrationone/cellassign) - probabilistic cell-type assignment.
"""
# Frequent neighbours of the rare right words: the corrector of old rewrote a word seen
# once or twice into a word seen twenty times (cellranger -> cellrank).
SINGLE_CELL += "\n## Neighbours\n" + "".join(
    f"* [CellRank study {n}](https://example.org/cellrank-{n}) - harmonization and connect, scope of a trial {n}.\n"
    for n in range(24)
)

GENOMICS = """# Awesome Genomics

## Variant effects
* [DeepSEA: predicting effects of noncoding variants](https://example.org/deepsea)
* [DeepWAS: integrating regulatory information into GWAS](https://github.com/cellmapslab/DeepWAS)
* [ExPecto: ab initio prediction of expression from sequence](https://example.org/expecto)
* [Differentiable expected BLEU for text generation](https://example.org/bleu)

## Survival
* [DeepSurv: survival analysis with a Cox deep neural network](https://example.org/deepsurv)
* [lifelines: survival analysis in Python](https://example.org/lifelines)

## Deep learning
* [Deep learning for histopathology](https://example.org/dl-1) - a deep learning method paper.
* [Deep learning for protein folding](https://example.org/dl-2) - a deep learning network paper.
* [Deep learning for drug discovery](https://example.org/dl-3) - a deep learning method paper.
* [Deep learning in radiology](https://example.org/dl-4) - a deep learning network paper.
* [Deep learning](https://example.org/dl-5) - deep learning, the textbook.
"""

IMAGING = """# Awesome Imaging

## Reports
* On the Automatic Generation of Medical Imaging Reports [`ACL 2018`](http://aclweb.org/anthology/P18-1240)

## Radiographs
* [MURA: bone X-ray abnormality detection](https://stanfordmlgroup.github.io/competitions/mura/)
* Lung nodules in chest CT [`MICCAI 2019`](https://example.org/nodules)

## Lesions
* Universal lesion detection [`MICCAI 2018`](https://example.org/uld)
* DeepLesion: lesion detection at scale [`JMI 2018`](https://example.org/deeplesion) [`code`](https://github.com/rsummers11/CADLab)
* Deep Lesion Graphs in the Wild [`CVPR 2018`](https://example.org/graphs)

## Explainability
* [SHAP: a unified approach to explaining model predictions](https://github.com/slundberg/shap) - python library.
* [Does anyone know? A survey of good questions](https://example.org/questions)
* [Know your data: a good checklist](https://example.org/know)

## Websites
* [HUGGING FACE](https://huggingface.co/)
* [huggingface/transformers](https://github.com/huggingface/transformers)

## 腫瘤
* [Deep learning based tumor type classification](https://example.org/tumour-types) 腫瘤類型分類
* [Attention is all you need](https://example.org/attention)
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    built = SearchIndex.open(tmp_path_factory.mktemp("understanding") / "index")
    built.sync(
        [
            SourceSnapshot(name, "v1", lambda name=name, text=text: parse(text, source=name))
            for name, text in (("single-cell", SINGLE_CELL), ("genomics", GENOMICS), ("imaging", IMAGING))
        ],
        progress=False,
    )
    yield built
    built.close()


def _titles(result: SearchResult) -> list[str]:
    return [hit.entry.title for hit in result.hits]


# --- honest spelling --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("cellranger", "CellRanger"),
        ("harmony", "Harmony"),
        ("scScope", "scScope"),
        ("trfl", "trfl"),
        ("DeepSEA", "DeepSEA: predicting effects of noncoding variants"),
        ("ExPecto", "ExPecto: ab initio prediction of expression from sequence"),
    ],
)
def test_a_lab_member_typing_a_known_tool_gets_it_with_no_did_you_mean(index: SearchIndex, typed: str, wanted: str) -> None:
    result = index.search(typed)
    assert _titles(result)[0] == wanted
    assert result.suggestion is None and not result.fuzzy


def test_batch_effect_correction_is_searched_as_typed(index: SearchIndex) -> None:
    result = index.search("batch effect correction")
    assert _titles(result)[0] == "MNN"
    assert result.suggestion is None


def test_a_capitalised_name_the_lists_lack_is_not_turned_into_another_tool(tmp_path: Path) -> None:
    """Without DeepSEA in the lists, "DeepSEA" is a name we do not have, not a typo of DeepWAS."""
    text = "# L\n\n## Tools\n* [DeepWAS: regulatory GWAS](https://example.org/deepwas)\n* [Chromatin features atlas](https://example.org/atlas)\n"
    with SearchIndex.open(tmp_path / "index") as small:
        small.sync([SourceSnapshot("l", "v1", lambda: parse(text, source="l"))], progress=False)
        result = small.search("GWAS with DeepSEA chromatin features")
        assert result.suggestion is None and not result.fuzzy
        assert "deepwas" not in (result.suggestion or "").lower()


@pytest.mark.parametrize(
    ("typed", "suggestion", "found"),
    [
        ("imputaton", "imputation", "scImpute"),  # a missing letter
        ("imputattion", "imputation", "scImpute"),  # a doubled letter
        ("lesoin detection", "lesion detection", "Universal lesion detection"),  # swapped letters
        ("lesionn detection", "lesion detection", "Universal lesion detection"),  # an extra letter
    ],
)
def test_an_unknown_word_is_searched_with_its_correction_and_says_did_you_mean(
    index: SearchIndex, typed: str, suggestion: str, found: str
) -> None:
    result = index.search(typed)
    assert found in _titles(result)
    assert result.fuzzy and result.suggestion is not None
    assert result.suggestion.lower() == suggestion


def test_did_you_mean_appears_only_when_the_correction_found_the_results(index: SearchIndex) -> None:
    corrected = index.search("universal lesiom detection")  # the first hit needs "lesion"
    assert corrected.suggestion == "universal lesion detection" and corrected.fuzzy
    # "harmonizaton" is corrected too, but the first hit is found by the other words
    unhelped = index.search("mutual nearest neighbours harmonizaton")
    assert _titles(unhelped)[0] == "MNN"
    assert unhelped.suggestion is None and not unhelped.fuzzy


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("huggingface", "HUGGING FACE"),
        ("hugging face", "huggingface/transformers"),
        ("singlecell imputation", "MAGIC"),
    ],
)
def test_joined_and_split_words_meet(index: SearchIndex, typed: str, wanted: str) -> None:
    assert wanted in _titles(index.search(typed, per_page=5))


def test_a_joined_word_the_lists_use_finds_itself_before_its_split_form(index: SearchIndex) -> None:
    titles = _titles(index.search("deeplesion"))
    assert titles[0].startswith("DeepLesion") and "Deep Lesion Graphs in the Wild" in titles


# --- word order, generic words ----------------------------------------------------------


@pytest.mark.parametrize("typed", ["radiology report generation", "report generation radiology"])
def test_word_order_does_not_change_what_is_found(index: SearchIndex, typed: str) -> None:
    assert _titles(index.search(typed))[0] == "On the Automatic Generation of Medical Imaging Reports"


def test_chest_x_ray_finds_the_x_ray_entries_when_no_entry_says_chest_x_ray(index: SearchIndex) -> None:
    titles = _titles(index.search("chest x-ray"))
    assert titles[:2] and "MURA: bone X-ray abnormality detection" in titles[:2]


def test_generic_words_do_not_swamp_the_specific_ones(index: SearchIndex) -> None:
    titles = _titles(index.search("survival analysis deep learning"))
    assert titles[0].startswith("DeepSurv")
    assert titles[1].startswith("lifelines"), "survival analysis alone beats deep learning alone"


# --- questions and intents --------------------------------------------------------------


def test_a_chatty_question_is_searched_by_its_subject(index: SearchIndex) -> None:
    result = index.search("hey all, does anyone know a good python library for explaining model predictions?")
    assert _titles(result)[0].startswith("SHAP")
    assert not any(title.startswith(("Does anyone know", "Know your data")) for title in _titles(result)[:2])


def test_the_chat_words_are_kept_when_the_text_is_not_a_message() -> None:
    assert read_question("know your data checklist").text == "know your data checklist"
    asked = read_question("hi folks, where can I download the MURA dataset?")
    assert "download" in asked.text and "folks" not in asked.text and asked.intents == {"data"}


def test_asking_for_code_prefers_entries_with_a_code_link_without_requiring_it(index: SearchIndex) -> None:
    with_code = index.search("lesion detection code")
    assert _titles(with_code)[0].startswith("DeepLesion")
    assert "Universal lesion detection" in _titles(with_code), "an entry without code is still found"
    plain = index.search("lesion detection")
    assert plain.total == with_code.total


# --- Chinese --------------------------------------------------------------------------


def test_traditional_chinese_finds_simplified_headings_and_back(index: SearchIndex) -> None:
    assert "CellAssign" in _titles(index.search("單細胞 細胞類型 注釋"))
    assert "Deep learning based tumor type classification" in _titles(index.search("肿瘤类型"))
    assert ANALYZER_VERSION >= 2, "the analyzer changed: old indexes must rebuild"
    assert [t.term for t in query_tokens("單細胞")] == [t.term for t in query_tokens("单细胞")]


def test_a_chinese_word_no_synonym_covers_is_looked_up_in_the_dictionary(index: SearchIndex) -> None:
    """注意力 (attention) is in no synonym group: the CC-CEDICT glossary supplies it."""
    assert _titles(index.search("注意力"))[0] == "Attention is all you need"
