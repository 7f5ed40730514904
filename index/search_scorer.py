"""Ranking every match at array speed: BM25F per (field, term) once, then numpy sums.

Whoosh scores a query by walking a tree of matchers one posting at a time (about 1.5 µs
per posting per tree level); a common word in 13k entries then costs half a second.
This module computes the same BM25F contributions, but per (field, term) as whole
arrays — document numbers and scores, read block by block from the posting file and
cached per open searcher — and combines a query's concepts with dense numpy arithmetic
over all documents:

- a form (one term, a phrase, or all-of-these-words) scores the sum of its weighted
  fields, exactly as Whoosh's Or of boosted Terms would;
- a concept scores its best form (DisjunctionMax);
- a query of several concepts sums them, each matched concept adding ``bonus`` so
  entries with more of the concepts form the re-ranking window;
- the window is then re-ranked by the share of concepts each entry matches.

Only phrases need positions: their documents are those holding every word (from the term
arrays) whose decoded positions put the words in a row, as Whoosh's phrase matcher would
find them but without its span matchers (cached too); their scores come from the term
arrays. The total count is the number of non-zero scores, so counting costs nothing
extra.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from index.aliases import ALIAS_FIELD, ALIAS_MARK, ALIAS_WEIGHT
from index.search_query import Concept, Form
from index.whoosh_internals import leaf_lengths, read_positions, read_postings

__all__ = ["VectorScorer"]

B = 0.75
K1 = 1.2
COORD_POWER = 2.0
# Concept weights are IDF to this power: higher makes rare words decide more.
IDF_POWER = 1.0
# An entry that has some words of a multi-word concept scores them at this fraction.
PART_WEIGHT = 0.5
# A term's fields other than its best one count at this fraction.
OTHER_FIELDS = 0.3
# An intent word ("code", "dataset") adds this share of its score; it is never required.
SOFT_WEIGHT = 0.5
# Postings kept in memory per searcher (docnum + score: 12 bytes each).
CACHE_POSTINGS = 3_000_000
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))

Postings = tuple[np.ndarray, np.ndarray]
T = TypeVar("T")


class _Lru:
    """A small LRU bounded by a cost (postings held), not by entry count."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._used = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], T], cost: Callable[[T], int]) -> T:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found[0]  # type: ignore[no-any-return]
        value = make()
        size = cost(value) + 1
        self._items[key] = (value, size)
        self._used += size
        while self._used > self._budget and len(self._items) > 1:
            _, (_, dropped) = self._items.popitem(last=False)
            self._used -= dropped
        return value


def _consecutive(leaf: Any, field: str, terms: tuple[str, ...], docs: np.ndarray) -> np.ndarray:
    """Which of ``docs`` (local to ``leaf``, each holding every term) have the terms in a row."""
    positions = [read_positions(leaf.postings(field, term), docs) for term in terms]
    kept = []
    for doc in docs.tolist():
        starts = set(positions[0].get(doc, ()))
        for shift, term_positions in enumerate(positions[1:], 1):
            starts &= {position - shift for position in term_positions.get(doc, ())}
            if not starts:
                break
        if starts:
            kept.append(doc)
    return np.asarray(kept, dtype=np.int64)


class VectorScorer:
    """Scores parsed queries over one open searcher; build a new one after each reopen."""

    def __init__(self, searcher: Searcher, fields: Sequence[tuple[str, float]], phrase_fields: frozenset[str]):
        self.searcher = self._searcher = searcher
        self._fields = tuple(fields)
        self._phrase_fields = phrase_fields
        reader = searcher.reader()
        self._size = reader.doc_count_all()
        self._leaves = [(leaf, int(offset)) for leaf, offset in reader.leaf_readers()]
        self._live: np.ndarray | None = None
        if reader.has_deletions():
            live = np.ones(self._size, dtype=bool)
            for leaf, offset in self._leaves:
                if leaf.has_deletions():
                    deleted = [d for d in range(leaf.doc_count_all()) if leaf.is_deleted(d)]
                    live[np.asarray(deleted, dtype=np.int64) + offset] = False
            self._live = live
        self._lengths: dict[str, np.ndarray] = {}
        self._cache = _Lru(CACHE_POSTINGS)
        self._masks = _Lru(64 * self._size + 1)

    # --- postings -------------------------------------------------------------------

    def postings(self, field: str, term: str) -> Postings:
        """Sorted global docnums holding ``term`` in ``field`` and their BM25F scores."""
        return self._cache.get(("t", field, term), lambda: self._load(field, term), lambda p: len(p[0]))

    def _load(self, field: str, term: str) -> Postings:
        ids: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for leaf, offset in self._leaves:
            if (field, term) not in leaf:
                continue
            leaf_ids, leaf_weights = read_postings(leaf.postings(field, term))
            ids.append(leaf_ids + offset)
            weights.append(leaf_weights)
        if not ids:
            return _EMPTY
        docs = np.concatenate(ids)
        tf = np.concatenate(weights)
        lengths = self._field_lengths(field)[docs]
        searcher = self._searcher
        idf = searcher.idf(field, term)
        avg = searcher.avg_field_length(field) or 1
        scores = idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / avg))
        return docs, scores

    def warm(self) -> None:
        """Load every field's length column now (the bot does this at start-up)."""
        for field, _weight in self._fields:
            self._field_lengths(field)

    def _field_lengths(self, field: str) -> np.ndarray:
        lengths = self._lengths.get(field)
        if lengths is None:
            parts = [leaf_lengths(leaf, field) for leaf, _ in self._leaves]
            lengths = np.concatenate(parts) if parts else np.zeros(0)
            self._lengths[field] = lengths
        return lengths

    def _phrase_docs(self, field: str, terms: tuple[str, ...]) -> np.ndarray:
        """Documents with ``terms`` at consecutive positions of ``field`` (Whoosh's Phrase)."""

        def find() -> np.ndarray:
            shared = self.postings(field, terms[0])[0]
            for term in terms[1:]:
                if not len(shared):
                    break
                shared = np.intersect1d(shared, self.postings(field, term)[0], assume_unique=True)
            if self._live is not None:
                shared = shared[self._live[shared]]
            if not len(shared):
                return _EMPTY[0]
            found: list[np.ndarray] = []
            for leaf, offset in self._leaves:
                inside = shared[(shared >= offset) & (shared < offset + leaf.doc_count_all())] - offset
                if len(inside):
                    found.append(_consecutive(leaf, field, terms, inside) + offset)
            return np.concatenate(found) if found else _EMPTY[0]

        return self._cache.get(("p", field, terms), find, len)

    def filter_mask(self, filter_query: wq.Query) -> np.ndarray:
        """Which documents a filter query lets through (cached per filter)."""

        def make() -> np.ndarray:
            mask = np.zeros(self._size, dtype=bool)
            docs = np.fromiter(self._searcher.docs_for_query(filter_query), dtype=np.int64)
            mask[docs] = True
            return mask

        return self._masks.get(("f", repr(filter_query)), make, lambda mask: self._size)

    # --- scoring --------------------------------------------------------------------

    def _form(self, terms: tuple[str, ...], weight: float, exact: bool) -> np.ndarray:
        """One form of a concept as a dense score array (0 = no match)."""
        scores = np.zeros(self._size)
        if len(terms) == 1 and terms[0].startswith(ALIAS_MARK):
            docs, values = self.postings(ALIAS_FIELD, terms[0][len(ALIAS_MARK):])
            scores[docs] += values * (ALIAS_WEIGHT * weight)
            return scores
        if len(terms) == 1:
            found = [
                (docs, values * (field_weight * weight))
                for name, field_weight in self._fields
                for docs, values in (self.postings(name, terms[0]),)
                if len(docs)
            ]
            if len(found) <= 1 or OTHER_FIELDS == 1.0:
                for docs, values in found:
                    scores[docs] += values
                return scores
            return self._fields_combined(found, scores)
        if exact:
            found = []
            for name, field_weight in self._fields:
                if name not in self._phrase_fields:
                    continue
                docs = self._phrase_docs(name, terms)
                if not len(docs):
                    continue
                total = np.zeros(len(docs))
                for term in terms:
                    term_docs, values = self.postings(name, term)
                    total += values[np.searchsorted(term_docs, docs)]
                found.append((docs, total * (field_weight * weight)))
            if len(found) <= 1 or OTHER_FIELDS == 1.0:
                for docs, values in found:
                    scores[docs] += values
                return scores
            return self._fields_combined(found, scores)
        # every word somewhere in the entry, each in its best-weighted fields summed
        every = np.ones(self._size, dtype=bool)
        for term in terms:
            one = self._form((term,), weight, True)
            every &= one > 0
            scores += one
        scores[~every] = 0.0
        return scores

    def _fields_combined(self, found: Sequence[Postings], scores: np.ndarray) -> np.ndarray:
        """A term's best field in full, its other fields at ``OTHER_FIELDS`` (into ``scores``).

        Summing every field let a generic word repeated in the title, the repository name
        and the description ("bubble-table") outscore a rare word said once in a title.
        """
        best = np.zeros(self._size)
        for docs, values in found:
            scores[docs] += values
            best[docs] = np.maximum(best[docs], values)
        # best + (sum - best) * damping, as two whole-array operations
        scores *= OTHER_FIELDS
        scores += best * (1.0 - OTHER_FIELDS)
        return scores

    def form_scores(self, form: Form) -> np.ndarray:
        """One form's score per document (0 = no match): which entries a form found."""
        terms, weight, exact = form
        return self._form(terms, weight, exact)

    def concept_scores(self, concept: Concept) -> np.ndarray:
        """The concept's score per document: its best form (DisjunctionMax), or its parts."""
        return self._concept(concept)[0]

    def _concept(self, concept: Concept) -> tuple[np.ndarray, np.ndarray, float]:
        """(scores, coverage in [0, 1], weight) of a concept over all documents.

        A multi-word concept that an entry does not match as a whole still covers the
        share of its words (by weight) the entry has: "chest x-ray" half-matches an
        entry about x-rays. Its weight is its words' weights together.
        """
        best = np.zeros(self._size)
        aliases = []
        typed_found = False
        for number, form in enumerate(concept.alternatives):
            if form[0] and form[0][0].startswith(ALIAS_MARK):
                aliases.append(form)
                continue
            scores = self._form(*form)
            typed_found = typed_found or (number == 0 and bool(scores.any()))
            np.maximum(best, scores, out=best)
        for form in concept.broader:
            np.maximum(best, self._form(*form), out=best)
        if aliases and not typed_found:
            # a name no entry spells out: only then do the entries it is an alias of count
            for form in aliases:
                np.maximum(best, self._form(*form), out=best)
        if not concept.parts:
            return best, (best > 0).astype(np.float64), self._weight(best)
        partial = np.zeros(self._size)
        covered = np.zeros(self._size)
        weight = 0.0
        for part in concept.parts:
            part_scores, part_coverage, part_weight = self._concept(part)
            partial += part_scores
            covered += part_coverage * part_weight
            weight += part_weight
        if weight <= 0:
            return best, (best > 0).astype(np.float64), self._weight(best)
        whole = best > 0
        scores = np.maximum(best, partial * PART_WEIGHT)
        coverage = np.where(whole, 1.0, covered / weight)
        return scores, coverage, weight

    def _weight(self, scores: np.ndarray) -> float:
        """How informative a concept is: the IDF of the entries it matches (0 if none).

        "deep learning" matches thousands of entries and "survival analysis" a handful;
        judging "matches every word" by these weights keeps generic words from deciding.
        """
        matched = int(np.count_nonzero(scores))
        if not matched:
            return 0.0
        return math.pow(math.log((self._size + 1) / (matched + 0.5)), IDF_POWER)

    def rank(
        self, concepts: Sequence[Concept], filter_query: wq.Query | None, window: int, bonus: float
    ) -> tuple[int, list[tuple[int, float]]]:
        """(matches, best ``window`` (docnum, score)), scaled by the weighted share matched."""
        if not concepts:
            return 0, []
        hard = [c for c in concepts if not c.soft] or list(concepts)
        soft = [c for c in concepts if c.soft and c not in hard]
        combined = np.zeros(self._size)
        covered = np.zeros(self._size)
        weights: list[float] = []
        for concept in hard:
            scores, coverage, weight = self._concept(concept)
            combined += scores
            if weight > 0:
                covered += coverage * weight
                weights.append(weight)
                if len(hard) > 1:
                    combined += coverage * bonus
        for concept in soft:
            combined += self.concept_scores(concept) * SOFT_WEIGHT
        if self._live is not None:
            combined[~self._live] = 0.0
        if filter_query is not None:
            combined[~self.filter_mask(filter_query)] = 0.0
        if weights:
            combined[covered <= 0] = 0.0
        hits = np.flatnonzero(combined > 0)
        total = len(hits)
        if not total:
            return 0, []
        if len(weights) > 1:
            base = sum(weights) / len(weights)
            share = ((base + covered[hits]) / (base + sum(weights))) ** COORD_POWER
            final = combined[hits] * share
        else:
            final = combined[hits]
        scored = np.zeros(self._size)
        scored[hits] = final
        top = _top(hits, final, window)
        return total, [(int(doc), float(scored[doc])) for doc in top]


def _top(docs: np.ndarray, scores: np.ndarray, window: int) -> np.ndarray:
    """The ``window`` best docs, best first, ties to the lower docnum (as Whoosh)."""
    if len(docs) > window:
        kth = np.partition(scores, len(scores) - window)[len(scores) - window]
        keep = scores >= kth
        docs, scores = docs[keep], scores[keep]
    order = np.lexsort((docs, -scores))[:window]
    return docs[order]
