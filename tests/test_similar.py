"""``/similar``: entries on the same topic come before entries from unrelated lists.

Before vectors, more-like-this on a few words gave a single-cell clustering tool an
Elixir HL7 parser ("health", "data") and DeepLesion the Universal Transformers paper
("universal"). Measured with and without the sentence model, among the bundled lists
and, for the HL7 case, the Elixir list it came from (or the whole haystack).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.search import Hit, SearchIndex
from tests.haystack import CORPUS, MODEL, SEEDS, model_available, snapshots

ELIXIR = CORPUS / "h4cc__awesome-elixir.md"
MODELS = [None, pytest.param(str(MODEL), marks=pytest.mark.skipif(not model_available(), reason="no model"), id="model")]


@pytest.fixture(scope="module", params=MODELS, ids=["lexical", "model"])
def index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    paths = SEEDS + ([ELIXIR] if ELIXIR.is_file() else [])
    directory = tmp_path_factory.mktemp("similar")
    # the haystack's vector cache holds these entries too (same text, same key)
    (directory / "vectors").symlink_to(Path(request.config.cache.mkdir("medbot-haystack-vectors")))
    built = SearchIndex.open(directory, model=request.param)
    built.sync(snapshots(paths), progress=False)
    built.embed()
    yield built
    built.close()


def _entry(index: SearchIndex, url_part: str) -> Hit:
    hit = index.get(url_part)
    assert hit is not None, url_part
    return hit


def _on_topic(hit: Hit, section: str) -> bool:
    return any(section.lower() in part.lower() for part in hit.entry.section)


def test_deeplesion_is_followed_by_lesion_detection_papers_not_universal_transformers(index: SearchIndex) -> None:
    deeplesion = _entry(index, "https://arxiv.org/pdf/1710.01766.pdf")
    similar = index.similar(deeplesion.entry.id, limit=5)
    titles = [hit.entry.title for hit in similar]
    assert similar and _on_topic(similar[0], "Lesion Detection"), titles
    on_topic = [n for n, hit in enumerate(similar) if _on_topic(hit, "Lesion Detection")]
    universal = [n for n, hit in enumerate(similar) if "Universal Transformers" in hit.entry.title]
    assert not universal or min(universal) > max(on_topic), titles
    assert deeplesion.entry.id not in {hit.entry.id for hit in similar}


def test_a_single_cell_clustering_tool_is_followed_by_single_cell_tools_not_an_hl7_parser(index: SearchIndex) -> None:
    if not ELIXIR.is_file():
        pytest.skip("shared corpus not available")
    tool = _entry(index, "https://github.com/ttgump/scDeepCluster")
    similar = index.similar(tool.entry.id, limit=5)
    titles = [hit.entry.title for hit in similar]
    assert all(_on_topic(hit, "Single-Cell") for hit in similar), titles
    assert all(hit.sources == ("awesome-medical-machine-learning",) for hit in similar), titles


@pytest.mark.slow
def test_among_fifty_thousand_entries_neighbours_stay_on_topic(corpus_index: SearchIndex) -> None:
    tool = _entry(corpus_index, "https://github.com/ttgump/scDeepCluster")
    titles = [hit.entry.title for hit in corpus_index.similar(tool.entry.id, limit=5)]
    assert not any("hl7" in title.lower() for title in titles), titles
    assert sum("single" in title.lower() or "cell" in title.lower() for title in titles) >= 3, titles
    deeplesion = _entry(corpus_index, "https://arxiv.org/pdf/1710.01766.pdf")
    similar = corpus_index.similar(deeplesion.entry.id, limit=5)
    assert _on_topic(similar[0], "Lesion Detection"), [hit.entry.title for hit in similar]
