"""The index's own words, as the spelling reader (``spelling``) needs to see them.

``IndexLexicon`` answers three questions about an open searcher: is a term in the index
at all, how many entries hold it, and which index terms are within an edit or two of a
word. Ranking itself (BM25F, weighted coordination) is in ``search_scorer``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from rapidfuzz.distance import OSA
from whoosh.searching import Searcher

__all__ = ["IndexLexicon", "Vocabulary", "term_frequency"]

TEXT_FIELDS = ("title", "section", "tags", "description", "links")
CORRECTION_FIELDS = ("title", "section", "description")
MAX_ANSWERS = 100_000


def term_frequency(searcher: Searcher, term: str) -> int:
    """How many documents hold ``term`` (stemmed) in any text field (an upper bound)."""
    reader = searcher.reader()
    return sum(reader.doc_frequency(name, term) for name in TEXT_FIELDS)


class Vocabulary:
    """The correction fields' words as arrays, to find near misses without a full scan.

    Computing an edit distance to every term sharing the first letter costs tens of
    milliseconds on a big index. Here each term's letter histogram bounds the distance
    from below (one edit changes it by at most two), so only a handful of terms get the
    exact (optimal string alignment) distance from rapidfuzz. Built once per open
    searcher, on the first word that needs it.
    """

    def __init__(self, searcher: Searcher, fields: Sequence[str] = CORRECTION_FIELDS) -> None:
        reader = searcher.reader()
        terms = sorted({term for name in fields for term in reader.field_terms(name) if term.isalpha()})
        self.terms = terms
        self.term_set = frozenset(terms)
        self.answers: dict[tuple[str, str], int] = {}  # IndexLexicon's memory
        lengths = np.fromiter((len(term) for term in terms), dtype=np.int64, count=len(terms))
        points = np.frombuffer("".join(terms).encode("utf-32-le"), dtype=np.uint32)
        owners = np.repeat(np.arange(len(terms)), lengths)
        starts = np.cumsum(lengths) - lengths
        self._lengths = lengths
        self._first = points[starts] if len(terms) else np.zeros(0, dtype=np.uint32)
        self._histograms = np.bincount(
            owners * _LETTERS + _letter_codes(points), minlength=len(terms) * _LETTERS
        ).reshape(len(terms), _LETTERS).astype(np.int16)

    def within(self, word: str, maxdist: int) -> list[tuple[str, int]]:
        """(term, distance) of the terms sharing ``word``'s first letter within ``maxdist`` edits."""
        if not word or not self.terms:
            return []
        near = np.flatnonzero((self._first == ord(word[0])) & (np.abs(self._lengths - len(word)) <= maxdist))
        points = np.frombuffer(word.encode("utf-32-le"), dtype=np.uint32)
        wanted = np.bincount(_letter_codes(points), minlength=_LETTERS).astype(np.int16)
        bound = np.abs(self._histograms[near] - wanted).sum(axis=1)
        found = []
        for i in near[bound <= 2 * maxdist]:
            term = self.terms[i]
            distance = OSA.distance(word, term, score_cutoff=maxdist)
            if distance <= maxdist:
                found.append((term, int(distance)))
        return found


_LETTERS = 27  # a-z, then everything else


def _letter_codes(points: np.ndarray) -> np.ndarray:
    codes = points.astype(np.int64) - ord("a")
    codes[(codes < 0) | (codes >= 26)] = 26
    return codes


class IndexLexicon:
    """The ``spelling.Lexicon`` of one open searcher.

    Each question costs a posting-table lookup per field (a tenth of a millisecond),
    and a chatty query asks about twenty words, so answers are remembered with the
    vocabulary, which lives as long as the searcher.
    """

    def __init__(self, searcher: Searcher, vocabulary: Vocabulary) -> None:
        self._searcher = searcher
        self._vocabulary = vocabulary

    def known(self, term: str) -> bool:
        """The term is in some text field of some entry: a word the lists use."""
        if term in self._vocabulary.term_set:
            return True
        return self._remember("k", term, lambda: term_frequency(self._searcher, term)) > 0

    def frequency(self, term: str) -> int:
        reader = self._searcher.reader()
        return self._remember("f", term, lambda: sum(reader.doc_frequency(name, term) for name in CORRECTION_FIELDS))

    def has(self, term: str) -> bool:
        """Cheap membership in the correction fields' words (no posting lookups)."""
        return term in self._vocabulary.term_set

    def near(self, term: str, maxdist: int) -> list[tuple[str, int]]:
        return self._vocabulary.within(term, maxdist)

    def _remember(self, kind: str, term: str, count: Callable[[], int]) -> int:
        answers = self._vocabulary.answers
        key = (kind, term)
        found = answers.get(key)
        if found is None:
            if len(answers) >= MAX_ANSWERS:
                answers.clear()
            found = answers[key] = count()
        return found
