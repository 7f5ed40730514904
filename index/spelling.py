"""Honest spelling: help with words the lists do not use, never overrule ones they do.

A spell checker that "corrects" ``cellranger`` to cellrank, because cellrank is more
frequent, hides the very tool the lab member asked for. So:

- a word the index knows is never corrected, however rare it is;
- a word typed with deliberate capitals (``DeepSEA``, ``ExPecto``, ``scScope``) is a
  name: not corrected either;
- an unknown word gets its nearest index word (one missing, extra, swapped or doubled
  letter; two edits for stems of seven letters or more) as an *extra* form: the typed word and the
  correction are searched together, and the caller says "did you mean" only when the
  correction is what found the shown results;
- joined and split words meet: ``singlecell`` also searches "single cell", and
  ``hugging face`` also searches huggingface.

Everything here is pure given a ``Lexicon`` (``search_rank.IndexLexicon`` for an open
index; tests may pass a small fake).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from string import ascii_lowercase
from typing import Protocol

from index.aliases import name_words
from index.analysis import STOP_WORDS, stem_word, words
from index.search_query import LOOSE_WEIGHT, Concept, Form, ParsedQuery
from index.search_results import Hit

__all__ = ["CORRECTION_WEIGHT", "Correction", "Lexicon", "SPLIT_WEIGHT", "apply_corrections", "readable_suggestion", "understand"]

CORRECTION_WEIGHT = 0.8
SPLIT_WEIGHT = 0.9
# The split form of a word the index also has as typed (huggingface / HUGGING FACE).
SPLIT_KNOWN_WEIGHT = 0.3
MIN_CORRECTED = 4
MIN_PART = 3
MAX_EDITS1_LENGTH = 16
TWO_EDITS_LENGTH = 7
"""A stem this long may be two slips away from the word meant; a shorter one two edits
from an index word is usually another word ("insert" is not a slip of "infer")."""
# One-edit variants are tried in the last letters only: where an ending hides a slip.
TAIL = 6
# A word this many entries use is an established word, not a joined pair.
COMMON = 50



class Lexicon(Protocol):
    def known(self, term: str) -> bool: ...
    def frequency(self, term: str) -> int: ...
    def has(self, term: str) -> bool: ...
    def near(self, term: str, maxdist: int) -> list[tuple[str, int]]: ...


@dataclass(frozen=True, slots=True)
class Correction:
    """``word`` (as typed, folded) is unknown; ``replacement`` is the index stem searched too."""

    word: str
    replacement: str


def understand(parsed: ParsedQuery, lexicon: Lexicon) -> tuple[ParsedQuery, tuple[Correction, ...]]:
    """``parsed`` with joined/split forms and corrections of unknown words added."""
    names = name_words(parsed.text)
    concepts, corrections = _join_pairs(parsed.concepts, lexicon)
    result: list[Concept] = []
    for concept in concepts:
        concept = _with_split(concept, lexicon)
        correction = _correction(concept, lexicon, names)
        if correction is not None:
            corrections.append(correction)
            concept = replace(
                concept, alternatives=concept.alternatives + (((correction.replacement,), CORRECTION_WEIGHT, True),)
            )
        result.append(concept)
    return replace(parsed, concepts=tuple(result)), tuple(corrections)


def _plain(concept: Concept) -> str | None:
    """The typed word of a one-word ASCII concept (what spelling can work on)."""
    word = concept.word
    if word and word.isascii() and word.isalpha() and not concept.parts:
        return word
    return None


def _join_pairs(concepts: Sequence[Concept], lexicon: Lexicon) -> tuple[list[Concept], list[Correction]]:
    """Two typed words the index writes as one ("news room" -> newsroom) become one concept.

    When one of the two is unknown, the joined word may be a slip away from an index
    word ("bouy health" -> buoyhealth): that is a correction like any other.
    """
    result: list[Concept] = []
    corrections: list[Correction] = []
    index = 0
    while index < len(concepts):
        first = concepts[index]
        second = concepts[index + 1] if index + 1 < len(concepts) else None
        a, b = _plain(first), _plain(second) if second is not None else None
        if second is not None and a and b and not first.soft and not second.soft:
            joined = _joined_term(a, b, lexicon)
            if joined is not None:
                terms = (first.alternatives[0][0][0], second.alternatives[0][0][0])
                forms: tuple[Form, ...] = ((terms, 1.0, True), (terms, LOOSE_WEIGHT, False), ((joined,), SPLIT_WEIGHT, True))
                result.append(Concept(f"{a} {b}", forms, parts=(first, second)))
                if joined != stem_word(a + b):
                    corrections.append(Correction(f"{a} {b}", joined))
                index += 2
                continue
        result.append(first)
        index += 1
    return result, corrections


def _joined_term(a: str, b: str, lexicon: Lexicon) -> str | None:
    joined = stem_word(a + b)
    if len(joined) < 2 * MIN_PART:
        return None
    if lexicon.known(joined):  # repository names too ("MedicalChatbot")
        return joined
    if lexicon.known(stem_word(a)) and lexicon.known(stem_word(b)):
        return None  # two good words: leave them be
    near = [(term, lexicon.frequency(term)) for term, _ in lexicon.near(joined, 1)]
    return max(near, key=lambda found: (found[1], found[0]))[0] if near else None


def _with_split(concept: Concept, lexicon: Lexicon) -> Concept:
    """A joined word also searched as the two index words it is made of (singlecell)."""
    word = _plain(concept)
    if word is None or len(word) < 2 * MIN_PART or lexicon.frequency(stem_word(word)) >= COMMON:
        return concept
    forms = list(concept.alternatives)
    # "DeepLesion" typed as one word means that tool first, "Deep Lesion Graphs" after;
    # a phrase scores both its words, hence the low weight.
    weight = SPLIT_WEIGHT if not lexicon.known(stem_word(word)) else SPLIT_KNOWN_WEIGHT
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        left, right = word[:cut], word[cut:]
        if left in STOP_WORDS or right in STOP_WORDS:
            continue
        terms = (stem_word(left), stem_word(right))
        if lexicon.has(terms[0]) and lexicon.has(terms[1]):
            forms.append((terms, weight, True))
    return replace(concept, alternatives=tuple(forms)) if len(forms) > len(concept.alternatives) else concept


def _correction(concept: Concept, lexicon: Lexicon, names: frozenset[str]) -> Correction | None:
    """The likeliest index word for an unknown typed word (None when it is known or a name)."""
    word = _plain(concept)
    if word is None or len(word) < MIN_CORRECTED or word in names or concept.soft:
        return None
    stemmed = stem_word(word)
    if lexicon.known(stemmed) or lexicon.known(word):
        return None
    if any(len(terms) == 1 and lexicon.known(terms[0]) for terms, _, _ in concept.alternatives[1:]):
        return None  # a synonym ("summarization" for "summarisation") already finds it
    candidates: dict[str, int] = {}
    maxdist = 2 if len(stemmed) >= TWO_EDITS_LENGTH else 1
    for term, distance in lexicon.near(stemmed, maxdist):
        candidates[term] = min(distance, candidates.get(term, distance))
    for term in _one_edit_stems(word, lexicon):
        candidates[term] = 1
    candidates.pop(stemmed, None)
    if not candidates:
        return None
    frequencies = {term: lexicon.frequency(term) for term in candidates}
    best = min(candidates, key=lambda term: (candidates[term], -frequencies[term], term))
    if frequencies[best] <= 0:
        return None
    return Correction(word, best)


def _one_edit_stems(word: str, lexicon: Lexicon) -> set[str]:
    """Index stems of the words one edit away from ``word``.

    Comparing stems alone misses a slip in the ending: ``imputaton`` stems to itself,
    while "imputation" stems to imput, four edits away. So each one-edit variant is
    checked for a known stem at its start, and stemmed only then (stemming every
    variant would cost milliseconds).
    """
    if len(word) > MAX_EDITS1_LENGTH:
        return set()
    found: set[str] = set()
    for variant in _edits1(word, max(0, len(word) - TAIL)):
        for end in range(max(MIN_PART, len(variant) - 5), len(variant) + 1):
            prefix = variant[:end]
            if lexicon.has(prefix) and stem_word(variant) == prefix:
                found.add(prefix)
                break
    return found


@lru_cache(maxsize=2048)
def _edits1(word: str, start: int = 0) -> frozenset[str]:
    """Every string one deletion, transposition, replacement or insertion from ``word``,
    with the edit at ``start`` or later (slips before the ending are the stems' job)."""
    splits = [(word[:i], word[i:]) for i in range(start, len(word) + 1)]
    variants = {left + right[1:] for left, right in splits if right}
    variants |= {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    variants |= {left + letter + right[1:] for left, right in splits if right for letter in ascii_lowercase}
    variants |= {left + letter + right for left, right in splits for letter in ascii_lowercase}
    variants.discard(word)
    return frozenset(variants)


def apply_corrections(query: str, corrections: Sequence[Correction]) -> str:
    """``query`` with each corrected word replaced (case-insensitively, whole words only)."""
    text = query
    for correction in corrections:
        text = re.sub(rf"(?i)\b{re.escape(correction.word)}\b", correction.replacement, text)
    return text


def readable_suggestion(query: str, corrections: Sequence[Correction], hits: Sequence[Hit]) -> str:
    """The corrected query with each corrected stem shown as a word the entries use."""
    surface: dict[str, str] = {}
    for hit in hits:
        for word, _ in words(f"{hit.entry.title} {hit.entry.description} {' '.join(hit.entry.section)}"):
            surface.setdefault(stem_word(word), word)
    readable = [replace(c, replacement=surface.get(c.replacement, c.replacement)) for c in corrections]
    return apply_corrections(query, readable)
