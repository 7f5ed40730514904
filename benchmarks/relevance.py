"""hit@5 on the shared development relevance set, judged the same way for every engine.

A query hits when one of its first five results has a link containing one of the
expected substrings (case-insensitive), as ``relevance-dev.yaml`` itself describes.
The set is only read here, never used to tune anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.corpus import shared_dir

__all__ = ["RELEVANCE_SETS", "Judged", "hit_at_5", "load_relevance", "relevance_path", "relevance_sets"]

RELEVANCE_SETS = ("relevance-dev.yaml", "relevance-dev-v2.yaml")


@dataclass(frozen=True, slots=True)
class Judged:
    group: str
    query: str
    expect: tuple[str, ...]


def relevance_path() -> Path | None:
    shared = shared_dir()
    path = shared / "eval" / "relevance-dev.yaml" if shared else None
    return path if path is not None and path.is_file() else None


def relevance_sets() -> dict[str, str]:
    """Every shared relevance set present here, by short name ("dev", "dev-v2") -> path."""
    shared = shared_dir()
    found: dict[str, str] = {}
    for name in RELEVANCE_SETS:
        path = shared / "eval" / name if shared else None
        if path is not None and path.is_file():
            found[name.removeprefix("relevance-").removesuffix(".yaml")] = str(path)
    return found


def load_relevance(path: Path) -> list[Judged]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    judged: list[Judged] = []
    for group, items in data.items():
        for item in items or []:
            if isinstance(item, dict) and item.get("q") and item.get("expect"):
                judged.append(Judged(str(group), str(item["q"]), tuple(str(x) for x in item["expect"])))
    return judged


def hit_at_5(judged: Sequence[Judged], search: Callable[[str], list[tuple[str, ...]]]) -> dict[str, float | int]:
    """hit@5 and MRR (over the first five), overall and per group."""
    ranks: dict[str, list[int]] = {}
    for item in judged:
        wanted = [x.lower() for x in item.expect]
        results = search(item.query)[:5]
        rank = next((n for n, urls in enumerate(results, 1) if any(w in url.lower() for url in urls for w in wanted)), 0)
        ranks.setdefault(item.group, []).append(rank)
    every = [r for group in ranks.values() for r in group]
    summary: dict[str, float | int] = {"queries": len(every), **_figures("", every)}
    for group, values in ranks.items():
        summary.update(_figures(f"_{group}", values))
    return summary


def _figures(suffix: str, ranks: Sequence[int]) -> dict[str, float]:
    if not ranks:
        return {f"hit_at_5{suffix}": 0.0, f"mrr{suffix}": 0.0}
    return {
        f"hit_at_5{suffix}": round(sum(r > 0 for r in ranks) / len(ranks), 3),
        f"mrr{suffix}": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
    }
