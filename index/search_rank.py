"""Typo corrections from the index's own vocabulary.

An unknown (or very rare) word is replaced by its nearest frequent neighbour among the
index terms. Ranking itself (BM25F, concept bonus, coordination) is in ``search_scorer``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from whoosh.searching import Searcher

from index.analysis import stem_word
from index.search_query import Concept

__all__ = ["Correction", "Vocabulary", "correct_word", "term_frequency"]

TEXT_FIELDS = ("title", "section", "tags", "description", "links")
CORRECTION_FIELDS = ("title", "section", "description")


def term_frequency(searcher: Searcher, term: str) -> int:
    """How many documents hold ``term`` (stemmed) in any text field (an upper bound)."""
    reader = searcher.reader()
    return sum(reader.doc_frequency(name, term) for name in TEXT_FIELDS)


@dataclass(frozen=True, slots=True)
class Correction:
    word: str
    replacement: str
    known: bool  # the typed word occurs in the index at all


class Vocabulary:
    """The correction fields' words as arrays, to find near misses without a full scan.

    Whoosh's ``terms_within`` computes an edit distance for every term sharing the first
    letter (tens of milliseconds). Here each term's letter histogram bounds the distance
    from below (one edit changes it by at most two), so only a handful of terms get the
    exact distance. Built once per open searcher, on the first unknown word.
    """

    def __init__(self, searcher: Searcher, fields: Sequence[str] = CORRECTION_FIELDS) -> None:
        reader = searcher.reader()
        terms = sorted({term for name in fields for term in reader.field_terms(name) if term.isalpha()})
        self.terms = terms
        lengths = np.fromiter((len(term) for term in terms), dtype=np.int64, count=len(terms))
        points = np.frombuffer("".join(terms).encode("utf-32-le"), dtype=np.uint32)
        owners = np.repeat(np.arange(len(terms)), lengths)
        starts = np.cumsum(lengths) - lengths
        self._lengths = lengths
        self._first = points[starts] if len(terms) else np.zeros(0, dtype=np.uint32)
        self._histograms = np.bincount(
            owners * _LETTERS + _letter_codes(points), minlength=len(terms) * _LETTERS
        ).reshape(len(terms), _LETTERS).astype(np.int16)

    def within(self, word: str, maxdist: int) -> list[str]:
        """Terms sharing the first letter of ``word`` and within ``maxdist`` edits of it."""
        if not word or not self.terms:
            return []
        near = np.flatnonzero((self._first == ord(word[0])) & (np.abs(self._lengths - len(word)) <= maxdist))
        points = np.frombuffer(word.encode("utf-32-le"), dtype=np.uint32)
        wanted = np.bincount(_letter_codes(points), minlength=_LETTERS).astype(np.int16)
        bound = np.abs(self._histograms[near] - wanted).sum(axis=1)
        return [
            self.terms[i] for i in near[bound <= 2 * maxdist] if _distance(word, self.terms[i]) <= maxdist
        ]


_LETTERS = 27  # a-z, then everything else


def _letter_codes(points: np.ndarray) -> np.ndarray:
    codes = points.astype(np.int64) - ord("a")
    codes[(codes < 0) | (codes >= 26)] = 26
    return codes


def correct_word(searcher: Searcher, concept: Concept, vocabulary: Callable[[], Vocabulary]) -> Correction | None:
    """A likelier spelling of a one-word concept, when the word is unknown or very rare.

    Candidates are index terms (stems) within one or two edits of the typed word's
    stem; the closest, then the most frequent, wins. ``replacement`` is that stem; the
    caller turns it back into a word people write.
    """
    word = concept.word
    if not word or not word.isascii() or not word.isalpha() or len(word) < 4:
        return None
    stemmed = stem_word(word)
    frequency = term_frequency(searcher, stemmed)
    if frequency > 2:
        return None
    reader = searcher.reader()
    maxdist = 1 if len(stemmed) <= 5 else 2
    counts: dict[str, int] = {}
    for candidate in vocabulary().within(stemmed, maxdist):
        if candidate != stemmed:
            counts[candidate] = sum(reader.doc_frequency(name, candidate) for name in CORRECTION_FIELDS)
    if not counts:
        return None
    best = min(counts, key=lambda candidate: (_distance(stemmed, candidate), -counts[candidate], candidate))
    if frequency and counts[best] < max(20, 10 * frequency):
        return None
    return Correction(word, best, known=frequency > 0)


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance of two short words."""
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        previous_previous, previous = previous, current
    return previous[-1]
