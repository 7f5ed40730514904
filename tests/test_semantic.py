"""Sentence vectors beside Whoosh: cached, incremental, ready in the background, optional.

Real model (../shared/models/all-MiniLM-L6-v2), real Whoosh, real files; the tests
that need the model skip when it is absent, and the fallbacks never touch a network.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.corpus import generate_list
from index.parser import parse_file
from index.search import SearchIndex
from index.semantic import VectorCache, load_embedder, model_slug
from tests.haystack import MODEL, SEEDS, model_available, snapshots

needs_model = pytest.mark.skipif(not model_available(), reason="shared model or fastembed not available")


def _lists(tmp_path: Path, extra: int = 0) -> list[Path]:
    lists = tmp_path / "lists"
    lists.mkdir(exist_ok=True)
    paths = [Path(shutil.copy(seed, lists / seed.name)) for seed in SEEDS]
    if extra:
        path = lists / "generated.md"
        path.write_text(generate_list(extra, seed=5, name="generated"), encoding="utf-8")
        paths.append(path)
    return paths


def _count(index: SearchIndex) -> int:
    embedder = index._semantic.embedder
    assert embedder is not None
    return embedder.embedded


@needs_model
def test_a_paraphrase_finds_the_paper_whose_title_uses_other_words(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path / "index", model=str(MODEL))
    index.sync(snapshots(_lists(tmp_path)), progress=False)
    query = "spotting lesions in CT by looking at the slices next to the one being read"
    index.semantic_paused = True
    lexical = [hit.entry.title for hit in index.search(query).hits]
    index.semantic_paused = False
    assert not index.semantic_ready  # nothing embedded yet: search stays lexical
    index.embed()
    assert index.semantic_ready
    titles = [hit.entry.title for hit in index.search(query).hits]
    assert any("3D Context" in title for title in titles[:3]), titles
    assert titles != lexical
    index.close()


@needs_model
def test_a_rebuild_reuses_every_cached_vector_and_a_new_list_embeds_only_its_entries(tmp_path: Path) -> None:
    paths = _lists(tmp_path)
    index = SearchIndex.open(tmp_path / "index", model=str(MODEL))
    index.sync(snapshots(paths), progress=False)
    first = index.embed()
    assert first == _count(index) > 100

    index.sync(snapshots(paths), progress=False, rebuild=True)
    assert index.embed() == 0
    assert index.semantic_ready

    paths = _lists(tmp_path, extra=60)
    index.sync(snapshots(paths), progress=False)
    added = len({entry.id for entry in parse_file(paths[-1]).entries})
    assert index.embed() == added
    assert _count(index) == first + added
    index.close()

    reopened = SearchIndex.open(tmp_path / "index", model=str(MODEL))
    assert reopened.embed() == 0  # another process: every vector comes from the cache on disk
    assert reopened.semantic_ready
    reopened.close()


@needs_model
def test_a_running_bot_answers_lexically_then_switches_to_vectors_without_a_restart(tmp_path: Path) -> None:
    index = SearchIndex.open(tmp_path / "index", model=str(MODEL))
    index.sync(snapshots(_lists(tmp_path)), progress=False)
    index.warm()  # starts the background embedding and returns at once
    assert index.search("lesion detection").hits  # answered while the vectors are being made
    deadline = time.monotonic() + 120
    while not index.semantic_ready and time.monotonic() < deadline:
        time.sleep(0.2)
    assert index.semantic_ready

    # a list changes under the running index: cached vectors line up at once, the new
    # entries are embedded in the background
    paths = _lists(tmp_path, extra=20)
    index.sync(snapshots(paths), progress=False)
    assert index.search("lesion detection").hits
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        dense = index._semantic._dense
        if dense is not None and dense.complete and dense.searcher is index._searcher:
            break
        time.sleep(0.2)
    assert index._semantic._dense is not None and index._semantic._dense.complete
    index.close()


def test_vectors_are_stored_by_text_key_and_saved_atomically(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "v", 4)
    cache.add([30, 10], np.eye(4, dtype=np.float32)[:2])
    cache.add([20], np.eye(4, dtype=np.float32)[2:3], keep=np.array([10, 20]))
    again = VectorCache(tmp_path / "v", 4)
    assert list(again.keys) == [10, 20]
    assert list(again.find(np.array([20, 30, 10]))) == [1, -1, 0]
    assert again.missing([10, 30, 30]) == [30]
    assert not list((tmp_path / "v").glob("*.tmp.npy"))


def test_no_model_means_lexical_search(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    index = SearchIndex.open(tmp_path / "index", model="none")
    index.sync(snapshots(SEEDS), progress=False)
    index.warm()
    assert index.embed() == 0
    assert not index.semantic_ready and not index.semantic_enabled
    assert index.search("lesion detection").hits
    assert not caplog.records
    index.close()


def test_an_unknown_model_name_falls_back_to_lexical_with_one_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("fastembed")
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    index = SearchIndex.open(tmp_path / "index", model="no-such-org/no-such-model")
    index.sync(snapshots(SEEDS), progress=False)
    assert index.embed() == 0
    assert index.embed() == 0  # asked twice, said once
    assert index.search("lesion detection").hits
    assert time.monotonic() - started < 30
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "semantic search off" in warnings[0].getMessage()
    index.close()


def test_a_known_model_that_is_not_cached_and_not_downloadable_is_lexical(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("fastembed")
    started = time.monotonic()
    embedder = load_embedder("sentence-transformers/all-MiniLM-L6-v2", tmp_path / "models", probe=lambda: False)
    assert embedder is None
    assert time.monotonic() - started < 30
    assert any("unreachable" in r.getMessage() for r in caplog.records)


def test_without_fastembed_search_is_lexical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "fastembed", None)  # import fastembed raises ImportError
    assert load_embedder(str(MODEL), tmp_path) is None
    assert any("fastembed is not installed" in r.getMessage() for r in caplog.records)


def test_each_model_has_its_own_vector_directory() -> None:
    assert model_slug(str(MODEL)) != model_slug("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")
    assert model_slug(str(MODEL)) == model_slug(str(MODEL) + "/")


def test_search_model_comes_from_the_config_file_or_the_environment(tmp_path: Path) -> None:
    from bot.core.config import load_settings
    from bot.core.settings import DEFAULT_SEARCH_MODEL, ConfigError

    config = tmp_path / "medbot.yaml"
    config.write_text("search:\n  model: ./models/minilm\n", encoding="utf-8")
    assert load_settings(config, tmp_path, environ={}).search_model == str(tmp_path / "models" / "minilm")
    assert load_settings(config, tmp_path, environ={"MEDBOT_SEARCH_MODEL": "none"}).search_model == "none"
    assert load_settings(None, tmp_path, environ={}).search_model == DEFAULT_SEARCH_MODEL
    config.write_text("search:\n  modle: none\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="search"):
        load_settings(config, tmp_path, environ={})


@needs_model
def test_an_english_question_keeps_the_chinese_post_that_answers_it(tmp_path: Path) -> None:
    """The English-only model cannot read a Chinese blog post: its keyword match must not be
    pushed down by English entries the vectors happen to like ("DeepMind graph_nets")."""
    index = SearchIndex.open(tmp_path / "index", model=str(MODEL))
    index.sync(snapshots(_lists(tmp_path)), progress=False)
    index.embed()
    query = "DeepMind graph_nets library release"
    titles = [hit.entry.title for hit in index.search(query).hits]
    assert any("图网络" in title for title in titles), titles
    index.close()


def test_fusion_takes_the_vectors_to_agree_with_the_keywords_on_entries_they_cannot_read() -> None:
    from index.search_fusion import fuse

    lexical = [(0, 10.0), (1, 9.0)]  # 0 is a Chinese post, 1 an English entry
    similarities = np.array([0.05, 0.9, 0.85])  # the model likes 1 and 2 and cannot read 0
    unreadable = np.array([True, False, False])
    blind = [doc for doc, _ in fuse(lexical, 0.4, similarities)]
    seen = [doc for doc, _ in fuse(lexical, 0.4, similarities, unreadable=unreadable)]
    assert blind.index(0) > blind.index(1)  # without the mark the post sinks
    assert seen[0] == 0  # with it, the best keyword match stays first
    # a multilingual model reads it: the mark is ignored and the similarity counts again
    assert [doc for doc, _ in fuse(lexical, 0.4, similarities, unreadable=unreadable, multilingual=True)] == blind


@needs_model
def test_a_bulk_embedding_is_ordered_by_the_models_tokens_and_answers_in_the_callers_order(tmp_path: Path) -> None:
    """Batches pad to their longest text: a Chinese title has far more tokens than its
    characters suggest, so ordering by characters would pad its English neighbours."""
    embedder = load_embedder(str(MODEL), tmp_path)
    assert embedder is not None
    chinese, english = "电子病历命名实体识别评测", "entity recognition in notes"
    counts = embedder.token_counts([chinese, english])
    assert len(chinese) < len(english) and counts[0] > counts[1]
    texts = [english, chinese, "DeepLesion: lesion detection in CT"]
    together = embedder.embed(texts)
    one_by_one = np.vstack([embedder.embed([text]) for text in texts])
    assert np.allclose((together * one_by_one).sum(axis=1), 1.0, atol=0.02)  # row i is text i
    in_token_order = embedder.embed([english, chinese], ordered=True)  # a pass that ordered them itself
    assert np.allclose((in_token_order * one_by_one[:2]).sum(axis=1), 1.0, atol=0.02)
