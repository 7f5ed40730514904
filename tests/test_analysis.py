"""The analyzer reads English and Chinese the way a lab member writes them."""

from __future__ import annotations

import pickle

from whoosh import fields, query
from whoosh.filedb.filestore import RamStorage

from index.analysis import ANALYZER_VERSION, MixedTokenizer, query_tokens, text_analyzer
from index.search_synonyms import default_synonyms_path, load_synonyms


def _tokens(text: str) -> list[tuple[str, int]]:
    return [(token.text, token.pos) for token in text_analyzer()(text, positions=True)]


def test_a_bilingual_heading_is_segmented_and_stemmed() -> None:
    tokens = _tokens("2.4 表观基因组学 Epigenomes")
    texts = [text for text, _ in tokens]
    assert "表观" in texts and "基因组学" in texts
    assert "基因组" in texts, "search-mode sub-words make 基因组 findable inside 表观基因组学"
    assert "epigenom" in texts


def test_sub_words_share_their_word_position_and_positions_stay_sequential() -> None:
    positions = dict(_tokens("表观基因组学 deep learning"))
    assert positions["基因组"] == positions["基因组学"] == positions["表观"] + 1
    assert positions["deep"] == positions["基因组学"] + 1
    assert positions["learn"] == positions["deep"] + 1


def test_accents_full_width_letters_and_invisible_marks_are_folded() -> None:
    texts = [text for text, _ in _tokens("Demircioğlu ＲＮＡ ze\u200bro \u202ebrain\u202c nul\x00l")]
    assert texts[:2] == ["demircioglu", "rna"]
    assert "ze" in texts and "ro" in texts, "a zero-width space separates words"
    assert "brain" in texts and "nul" in texts


def test_stop_words_are_dropped_without_leaving_position_gaps() -> None:
    tokens = _tokens("the rise of the machines")
    assert tokens == [("rise", 0), ("machin", 1)]


def test_query_words_are_analysed_like_the_index() -> None:
    words = query_tokens("Segmentation of 单细胞数据集")
    assert [w.term for w in words] == ["segment", "单细胞", "数据", "集"]
    assert words[1].subterms == ("细胞",)


def test_phrases_match_in_english_and_in_chinese() -> None:
    schema = fields.Schema(body=fields.TEXT(analyzer=text_analyzer(), phrase=True))
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        writer.add_document(body="Deep learning for 表观基因组学 data")
        writer.add_document(body="Learning deep structures")
    with ix.searcher() as searcher:
        found = searcher.search(query.Phrase("body", ["deep", "learn"]))
        assert len(found) == 1
        assert len(searcher.search(query.Phrase("body", ["表观", "基因组"]))) == 1


def test_the_analyzer_survives_pickling_into_an_index() -> None:
    analyzer = pickle.loads(pickle.dumps(text_analyzer()))
    assert [t.text for t in analyzer("Running networks")] == ["run", "network"]
    assert MixedTokenizer() == MixedTokenizer()
    assert isinstance(ANALYZER_VERSION, int)


def test_the_bundled_synonyms_cover_the_field() -> None:
    synonyms = load_synonyms(default_synonyms_path())
    assert len(synonyms) >= 100

    def expansion(text: str) -> set[str]:
        tokens = query_tokens(text)
        used, variants = synonyms.match(tokens, 0)
        assert used == len(tokens), text
        return {variant.text for variant in variants}

    assert {"electronic medical record", "电子病历"} <= expansion("EMR")
    assert {"NER", "命名实体识别"} <= expansion("named entity recognition")
    assert "graph neural network" in expansion("GNNs")
    assert "scRNA-seq" in expansion("单细胞RNA测序")
    assert "dataset" in expansion("数据集")


def test_chinese_synonyms_match_however_the_query_was_segmented() -> None:
    synonyms = load_synonyms()
    tokens = query_tokens("单细胞数据集")  # segmented 单细胞 / 数据 / 集
    used_first, _ = synonyms.match(tokens, 0)
    used_second, variants = synonyms.match(tokens, used_first)
    assert used_first == 1 and used_second == 2
    assert "dataset" in {variant.text for variant in variants}
