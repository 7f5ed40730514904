"""The section tree of all lists, and finding a section from what someone typed.

Lists are merged by section name (numbering, case and punctuation ignored), so
"Datasets" of one list and "Datasets" of another are one topic. A lab member asks for a
topic the way they remember it: "single cell", 单细胞, "2.3", "lesoin detection"; the
matcher tries exact name, either language half of a bilingual heading, word overlap,
then similarity.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from index.analysis import query_tokens
from index.model import section_key
from index.search_store import path_key

__all__ = ["TopicNode", "TopicTable", "source_section_counts"]

_HAN_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)*)\.?(?:\s|$)")
SIMILAR = 0.75  # difflib ratio from which a name counts as a (mistyped) section name
MATCH_CACHE = 512

# Section names repeat across lists and levels: fold each once.
_key = lru_cache(maxsize=50_000)(section_key)


@dataclass(frozen=True)
class TopicNode:
    """A section of the merged tree: its display name and path, entries below it."""

    name: str
    path: tuple[str, ...]
    count: int
    children: tuple[TopicNode, ...] = ()


@dataclass
class _Node:
    name: str
    path: tuple[str, ...]
    key: str
    children: dict[str, _Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Candidate:
    path: tuple[str, ...]
    key: str
    parts: tuple[str, ...]
    terms: frozenset[str]
    number: str | None
    count: int


class TopicTable:
    """The merged section tree with counts, plus lookup by name and by prefix."""

    def __init__(self, section_lists: Iterable[Sequence[Sequence[str]]], count: Callable[[str], int], *,
                 matching: bool = True) -> None:
        roots: dict[str, _Node] = {}
        for sections in section_lists:
            for path in sections:
                level = roots
                display: tuple[str, ...] = ()
                for part in path:
                    key = _key(part) or part.strip().lower()
                    node = level.get(key)
                    if node is None:
                        node = _Node(part.strip(), display + (part.strip(),), key)
                        level[key] = node
                    display = node.path
                    level = node.children
        self._count = count
        self.roots = tuple(node for node in (self._freeze(n) for n in roots.values()) if node is not None)
        # matching=False: a tree only to show (no lookup by name), without the cost of folding names
        self._candidates = tuple(self._flatten(self.roots)) if matching else ()
        self._matches: dict[str, tuple[str, ...] | None] = {}

    def _freeze(self, node: _Node) -> TopicNode | None:
        count = self._count(path_key(node.path))
        if count <= 0:
            return None
        children = tuple(child for child in (self._freeze(c) for c in node.children.values()) if child)
        return TopicNode(node.name, node.path, count, children)

    def _flatten(self, nodes: Sequence[TopicNode]) -> Iterable[_Candidate]:
        for node in nodes:
            key = _key(node.name)
            han = " ".join(_HAN_RUNS.findall(key))
            latin = _HAN_RUNS.sub(" ", key).split()
            parts = tuple(part for part in (key, han, " ".join(latin)) if part)
            terms = frozenset(token.term for token in query_tokens(key))
            number = _NUMBER.match(node.name)
            yield _Candidate(node.path, key, parts, terms, number.group(1) if number else None, node.count)
            yield from self._flatten(node.children)

    def match(self, name: str) -> tuple[str, ...] | None:
        """The best section for ``name``, or None when nothing is close enough (cached)."""
        if name in self._matches:
            return self._matches[name]
        found = self._match(name)
        if len(self._matches) >= MATCH_CACHE:
            self._matches.clear()
        self._matches[name] = found
        return found

    def _match(self, name: str) -> tuple[str, ...] | None:
        text = (name or "").strip()
        number = _NUMBER.match(text)
        if number and not text[number.end() :].strip():
            for candidate in self._candidates:
                if candidate.number == number.group(1):
                    return candidate.path
        wanted = section_key(text)
        if not wanted:
            return None
        # the common case, a name as written (or one of its languages): no fuzzy scoring
        exact = [candidate for candidate in self._candidates if candidate.key == wanted or wanted in candidate.parts]
        if exact:
            return max(exact, key=lambda c: (c.key == wanted, -len(c.path), c.count)).path
        wanted_terms = frozenset(token.term for token in query_tokens(wanted))
        best: tuple[float, int, int] | None = None
        best_path: tuple[str, ...] | None = None
        for candidate in self._candidates:
            score = _score(wanted, wanted_terms, candidate)
            if score <= 0:
                continue
            rank = (score, -len(candidate.path), candidate.count)
            if best is None or rank > best:
                best, best_path = rank, candidate.path
        return best_path

    def complete(self, prefix: str, limit: int = 25) -> list[tuple[str, tuple[str, ...]]]:
        """Sections whose name starts with or contains ``prefix`` (either language)."""
        wanted = section_key(prefix or "")
        ranked: list[tuple[int, int, str, tuple[str, ...]]] = []
        for candidate in self._candidates:
            if not wanted:
                rank = 0
            elif any(part.startswith(wanted) for part in candidate.parts):
                rank = 0
            elif any(word.startswith(wanted) for word in candidate.key.split()):
                rank = 1
            elif wanted in candidate.key:
                rank = 2
            else:
                continue
            ranked.append((rank, -candidate.count, " / ".join(candidate.path), candidate.path))
        ranked.sort(key=lambda item: (item[0], item[1], len(item[3])))
        return [(_label(label), path) for _, _, label, path in ranked[:limit]]


def _label(text: str) -> str:
    return text if len(text) <= 100 else text[:99] + "…"


def _best_ratio(wanted: str, parts: Sequence[str]) -> float:
    """The best difflib ratio of ``wanted`` to a part, skipping parts that cannot reach
    ``SIMILAR`` (the length bound is exact: ratio <= 2 * shorter / total); 0 if none can."""
    ratios = [
        difflib.SequenceMatcher(None, wanted, part).ratio()
        for part in parts
        if 2 * min(len(wanted), len(part)) >= SIMILAR * (len(wanted) + len(part))
    ]
    return max(ratios, default=0.0)


def _score(wanted: str, wanted_terms: frozenset[str], candidate: _Candidate) -> float:
    if wanted == candidate.key:
        return 100.0
    if wanted in candidate.parts:
        return 95.0
    if wanted_terms and wanted_terms <= candidate.terms:
        return 80.0 + 10.0 * len(wanted_terms) / max(1, len(candidate.terms))
    if len(wanted) >= 2 and wanted in candidate.key:
        return 70.0 + 10.0 * len(wanted) / len(candidate.key)
    ratio = _best_ratio(wanted, candidate.parts)
    if ratio >= SIMILAR:
        return 60.0 * ratio
    overlap = len(wanted_terms & candidate.terms)
    if overlap and overlap * 2 >= len(wanted_terms):
        return 40.0 + 10.0 * overlap / len(wanted_terms)
    return 0.0


def source_section_counts(searcher: Any, names: Sequence[str]) -> dict[str, Counter[str]]:
    """Entries per section key, per source: ``{source: Counter({path_key: count})}``.

    One pass over the postings of the ``source`` and ``paths`` fields with numpy, so
    every list's tree costs about what the merged tree does (a query per section and
    list took seconds on 91 lists).
    """
    import numpy as np

    reader = searcher.reader()
    total = reader.doc_count_all()
    owner = np.full(total, -1, dtype=np.int64)  # the one source of a document, -2 for several
    several: dict[int, list[int]] = {}
    for number, name in enumerate(names):
        for leaf, offset in reader.leaf_readers():
            if ("source", name.lower()) not in leaf:
                continue
            for docnum in leaf.postings("source", name.lower()).all_ids():
                doc = docnum + offset
                if owner[doc] == -1:
                    owner[doc] = number
                else:
                    several.setdefault(doc, [int(owner[doc])] if owner[doc] >= 0 else []).append(number)
                    owner[doc] = -2
    for doc in range(total):
        if owner[doc] != -1 and reader.is_deleted(doc):
            owner[doc] = -1
    counts: dict[str, Counter[str]] = {name: Counter() for name in names}
    for leaf, offset in reader.leaf_readers():
        for term, _ in leaf.iter_field("paths"):
            ids = np.fromiter(leaf.postings("paths", term).all_ids(), dtype=np.int64) + offset
            sources = owner[ids]
            key = term.decode("utf-8")
            tally = np.bincount(sources[sources >= 0], minlength=len(names))
            for doc in ids[sources == -2]:
                for number in several.get(int(doc), ()):
                    tally[number] += 1
            for number in np.flatnonzero(tally).tolist():
                counts[names[number]][key] += int(tally[number])
    return counts
