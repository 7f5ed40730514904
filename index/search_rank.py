"""Ranking on top of Whoosh: the coordination bonus and typo corrections.

Whoosh scores each matching document with BM25F summed over the query's concepts; a
document matching one rare word can then beat one matching every word. We re-rank the
best few hundred by how many of the query's concepts they match, so entries with all
the words come first. Typos are corrected from the index's own (unstemmed) vocabulary:
an unknown word is replaced by its nearest frequent neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.searching import Searcher

from index.analysis import stem_word
from index.search_query import Concept

__all__ = ["Correction", "coordinate", "correct_word", "term_frequency"]

COORD_POWER = 2.0
TEXT_FIELDS = ("title", "section", "tags", "description", "links")
SPELL_FIELD = "spell"


def matched_docs(searcher: Searcher, q: wq.Query, docnums: Sequence[int]) -> set[int]:
    """Which of ``docnums`` (sorted) ``q`` matches, by skipping through its matcher."""
    found: set[int] = set()
    matcher = q.matcher(searcher)
    for docnum in docnums:
        if not matcher.is_active():
            break
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                break
        if matcher.id() == docnum:
            found.add(docnum)
    return found


def coordinate(
    searcher: Searcher, concept_queries: Sequence[wq.Query], scored: Sequence[tuple[int, float]]
) -> list[tuple[int, float]]:
    """Scores scaled by the share of concepts each document matches, best first."""
    if len(concept_queries) < 2 or not scored:
        return list(scored)
    docnums = sorted(docnum for docnum, _ in scored)
    counts = dict.fromkeys(docnums, 0)
    for q in concept_queries:
        for docnum in matched_docs(searcher, q, docnums):
            counts[docnum] += 1
    total = len(concept_queries)
    rescored = [
        (docnum, score * ((1 + counts[docnum]) / (1 + total)) ** COORD_POWER) for docnum, score in scored
    ]
    rescored.sort(key=lambda item: (-item[1], item[0]))
    return rescored


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
    """A likelier spelling of a one-word concept, when the word is unknown or very rare."""
    word = concept.word
    if not word or not word.isascii() or not word.isalpha() or len(word) < 4:
        return None
    frequency = term_frequency(searcher, stem_word(word))
    if frequency > 2:
        return None
    reader = searcher.reader()
    maxdist = 1 if len(word) <= 5 else 2
    best: tuple[int, int, str] | None = None
    for candidate in reader.terms_within(SPELL_FIELD, word, maxdist, prefix=1):
        if candidate == word or not candidate.isalpha():
            continue
        count = reader.doc_frequency(SPELL_FIELD, candidate)
        rank = (_distance(word, candidate), -count, candidate)
        if best is None or rank < best:
            best = rank
    if best is None:
        return None
    count = -best[1]
    if frequency and count < max(20, 10 * frequency):
        return None
    return Correction(word, best[2], known=frequency > 0)


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
