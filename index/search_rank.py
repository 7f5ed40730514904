"""Typo corrections from the index's own vocabulary.

An unknown (or very rare) word is replaced by its nearest frequent neighbour among the
index terms. Ranking itself (BM25F, concept bonus, coordination) is in ``search_scorer``.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh.searching import Searcher

from index.analysis import stem_word
from index.search_query import Concept

__all__ = ["Correction", "correct_word", "term_frequency"]

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


def correct_word(searcher: Searcher, concept: Concept) -> Correction | None:
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
    for name in CORRECTION_FIELDS:
        for candidate in reader.terms_within(name, stemmed, maxdist, prefix=1):
            if candidate != stemmed and candidate.isalpha():
                counts[candidate] = counts.get(candidate, 0) + reader.doc_frequency(name, candidate)
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
