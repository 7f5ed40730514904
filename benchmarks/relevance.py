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

__all__ = ["Judged", "hit_at_5", "load_relevance", "relevance_path"]


@dataclass(frozen=True, slots=True)
class Judged:
    group: str
    query: str
    expect: tuple[str, ...]


def relevance_path() -> Path | None:
    shared = shared_dir()
    path = shared / "eval" / "relevance-dev.yaml" if shared else None
    return path if path is not None and path.is_file() else None


def load_relevance(path: Path) -> list[Judged]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    judged: list[Judged] = []
    for group, items in data.items():
        for item in items or []:
            if isinstance(item, dict) and item.get("q") and item.get("expect"):
                judged.append(Judged(str(group), str(item["q"]), tuple(str(x) for x in item["expect"])))
    return judged


def hit_at_5(judged: Sequence[Judged], search: Callable[[str], list[tuple[str, ...]]]) -> dict[str, float | int]:
    """The share of queries whose top five hold an expected link, overall and per group."""
    hits: dict[str, list[bool]] = {}
    for item in judged:
        wanted = [x.lower() for x in item.expect]
        results = search(item.query)[:5]
        found = any(w in url.lower() for urls in results for url in urls for w in wanted)
        hits.setdefault(item.group, []).append(found)
    every = [h for group in hits.values() for h in group]
    summary: dict[str, float | int] = {"queries": len(every), "hit_at_5": round(sum(every) / len(every), 3) if every else 0.0}
    for group, values in hits.items():
        summary[f"hit_at_5_{group}"] = round(sum(values) / len(values), 3)
    return summary
