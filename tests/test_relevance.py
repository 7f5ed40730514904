"""Does search find what a lab member means? hit@5 and MRR on the shared relevance set.

The set (../shared/eval/relevance-dev.yaml) holds paraphrases, abbreviations, typos and
Chinese queries with the links they should find; it stands for queries we have not seen,
so nothing in the product special-cases them. Measured twice: on the two bundled lists,
and with the shared corpus of ~50k entries from unrelated awesome lists as distractors.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from index.parser import parse_file
from index.search import SearchIndex, SourceSnapshot
from tests.conftest import shared_dir

REPO = Path(__file__).resolve().parents[1]
SHARED = shared_dir() or REPO.parent / "shared"
EVAL = SHARED / "eval" / "relevance-dev.yaml"
CORPUS = SHARED / "corpus" / "lists"
SEEDS = sorted((REPO / "data" / "lists").glob("*.md"))

pytestmark = pytest.mark.skipif(not EVAL.exists(), reason="shared relevance set not available")


def _snapshots(paths: Sequence[Path]) -> list[SourceSnapshot]:
    return [SourceSnapshot(path.stem, f"{path.stat().st_mtime_ns}", lambda p=path: parse_file(p)) for path in paths]


def _queries() -> list[tuple[str, str, list[str]]]:
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    return [(group, item["q"], [str(e) for e in item["expect"]]) for group, items in data.items() for item in items]


def _rank(index: SearchIndex, query: str, expect: Sequence[str]) -> int | None:
    """1-based rank of the first result whose url or a link contains an expected part."""
    wanted = [part.lower() for part in expect]
    for rank, hit in enumerate(index.search(query, per_page=5).hits, 1):
        urls = [hit.entry.url or ""] + [link.url for link in hit.entry.links]
        if any(part in url.lower() for url in urls for part in wanted):
            return rank
    return None


def measure(index: SearchIndex) -> dict[str, tuple[float, float, int]]:
    """hit@5, MRR and query count per group and overall ("all")."""
    ranks: dict[str, list[int | None]] = {}
    for group, query, expect in _queries():
        rank = _rank(index, query, expect)
        ranks.setdefault(group, []).append(rank)
        ranks.setdefault("all", []).append(rank)
        if rank is None:
            print(f"  miss [{group}] {query!r}")
    return {
        group: (
            sum(r is not None for r in found) / len(found),
            sum(1 / r for r in found if r) / len(found),
            len(found),
        )
        for group, found in ranks.items()
    }


def _report(title: str, figures: dict[str, tuple[float, float, int]]) -> None:
    print(f"\n{title}")
    for group, (hit, mrr, count) in sorted(figures.items()):
        print(f"  {group:7s} hit@5={hit:.3f} MRR={mrr:.3f} (n={count})")


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    index = SearchIndex.open(tmp_path_factory.mktemp("seed-index"))
    index.sync(_snapshots(SEEDS), progress=False)
    yield index
    index.close()


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    index = SearchIndex.open(tmp_path_factory.mktemp("corpus-index"))
    started = time.perf_counter()
    report = index.sync(_snapshots(SEEDS + sorted(CORPUS.glob("*.md"))), progress=False)
    print(f"\ncorpus index: {report.entries} documents in {time.perf_counter() - started:.1f}s (parse included)")
    yield index
    index.close()


def test_a_lab_member_finds_the_entry_they_mean_in_the_bundled_lists(seed_index: SearchIndex) -> None:
    figures = measure(seed_index)
    _report("bundled lists", figures)
    assert figures["all"][0] >= 0.95


@pytest.mark.slow
def test_the_right_entry_stays_on_top_among_fifty_thousand_distractors(corpus_index: SearchIndex) -> None:
    figures = measure(corpus_index)
    _report("bundled lists + shared corpus", figures)
    assert figures["all"][0] >= 0.90
    for group, (hit, _, _) in figures.items():
        assert hit >= 0.80, f"group {group}: hit@5 {hit:.2f}"
