"""From what a lab member typed to a Whoosh query, without ever failing.

We do not use Whoosh's query parser: its syntax (``AND``, ``field:``, ``*``, parentheses)
is not what people in a chat mean, and every bit of it is a way to fail. Instead a small
pure reader picks out the few things we support — quoted phrases and the filters
``topic:`` ``year:`` ``source:`` ``tag:`` — and treats everything else as plain words.
Words become *concepts*: one typed word, or a run of words that the synonym map knows,
each searchable in several forms ("EMR" = "electronic medical records" = 电子病历).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from whoosh import query as wq

from index.analysis import QueryToken, query_tokens
from index.search_synonyms import SynonymMap

__all__ = [
    "Concept",
    "ParsedQuery",
    "YearRange",
    "concept_query",
    "parse_query",
]

MAX_QUERY_CHARS = 1000
MAX_CONCEPTS = 24

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FILTER = re.compile(r'(?<![^\s(])(topic|year|source|tag)\s*:\s*(?:"([^"]*)"|(\S+))', re.I)
_PHRASE = re.compile(r'"([^"]*)"')
_YEARS = re.compile(r"^(\d{4})?\s*(\.\.|-|–|to)?\s*(\d{4})?$")

# How much a variant counts against the form the user typed.
SYNONYM_WEIGHT = 0.9
LOOSE_WEIGHT = 0.6
SUBWORD_WEIGHT = 0.4


@dataclass(frozen=True, slots=True)
class YearRange:
    low: int | None
    high: int | None


@dataclass(frozen=True, slots=True)
class Concept:
    """One thing the user asked for, in every form it may be written.

    ``alternatives`` are (terms, weight, exact): a single term, or a word sequence
    searched as a phrase when ``exact`` and as all-of-these-words otherwise.
    ``word`` is the typed word when the concept is one plain word (a typo candidate).
    """

    label: str
    alternatives: tuple[tuple[tuple[str, ...], float, bool], ...]
    word: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str
    concepts: tuple[Concept, ...]
    topics: tuple[str, ...] = ()
    years: tuple[YearRange, ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    phrases: tuple[str, ...] = field(default=())

    @property
    def has_filters(self) -> bool:
        return bool(self.topics or self.years or self.sources or self.tags)


def parse_query(text: str, synonyms: SynonymMap) -> ParsedQuery:
    """Read a query; anything that is not a well-formed filter or phrase is plain words."""
    cleaned = _CONTROL.sub(" ", text or "")[:MAX_QUERY_CHARS]
    topics: list[str] = []
    years: list[YearRange] = []
    sources: list[str] = []
    tags: list[str] = []

    def take_filter(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        value = (match.group(2) if match.group(2) is not None else match.group(3) or "").strip()
        if not value:
            return " "
        if name == "year":
            years_range = _parse_years(value)
            if years_range is None:
                return f" {value} "
            years.append(years_range)
        elif name == "topic":
            topics.append(value)
        elif name == "source":
            sources.append(value)
        else:
            tags.append(value)
        return " "

    rest = _FILTER.sub(take_filter, cleaned)
    concepts: list[Concept] = []
    phrases: list[str] = []

    def take_phrase(match: re.Match[str]) -> str:
        tokens = query_tokens(match.group(1))
        if len(tokens) > 1:
            phrases.append(match.group(1).strip())
            concepts.append(
                Concept(match.group(1).strip(), (((tuple(t.term for t in tokens)), 1.0, True),))
            )
            return " "
        return f" {match.group(1)} "

    rest = _PHRASE.sub(take_phrase, rest)
    concepts.extend(_word_concepts(query_tokens(rest), synonyms))
    return ParsedQuery(
        text=text,
        concepts=tuple(_dedupe(concepts))[:MAX_CONCEPTS],
        topics=tuple(topics),
        years=tuple(years),
        sources=tuple(sources),
        tags=tuple(tags),
        phrases=tuple(phrases),
    )


def _parse_years(value: str) -> YearRange | None:
    match = _YEARS.match(value.strip())
    if not match or not (match.group(1) or match.group(3)):
        return None
    low = int(match.group(1)) if match.group(1) else None
    high = int(match.group(3)) if match.group(3) else None
    if not match.group(2):
        if low is None or high is not None:
            return None
        high = low
    if low is not None and high is not None and low > high:
        low, high = high, low
    return YearRange(low, high)


def _word_concepts(tokens: Sequence[QueryToken], synonyms: SynonymMap) -> list[Concept]:
    concepts: list[Concept] = []
    index = 0
    while index < len(tokens) and len(concepts) < MAX_CONCEPTS:
        used, variants = synonyms.match(tokens, index)
        if used:
            typed = tokens[index : index + used]
            typed_terms = tuple(token.term for token in typed)
            alternatives: list[tuple[tuple[str, ...], float, bool]] = [(typed_terms, 1.0, True)]
            if len(typed_terms) > 1 and not all(token.han for token in typed):
                alternatives.append((typed_terms, LOOSE_WEIGHT, False))
            for variant in variants:
                if variant.terms != typed_terms:
                    alternatives.append((variant.terms, SYNONYM_WEIGHT, True))
            label = " ".join(token.word for token in typed)
            concepts.append(Concept(label, tuple(alternatives)))
            index += used
            continue
        token = tokens[index]
        alternatives = [((token.term,), 1.0, True)]
        alternatives.extend(((sub,), SUBWORD_WEIGHT, True) for sub in token.subterms)
        concepts.append(Concept(token.word, tuple(alternatives), word=token.word))
        index += 1
    return concepts


def _dedupe(concepts: Sequence[Concept]) -> list[Concept]:
    seen: set[tuple[tuple[str, ...], ...]] = set()
    unique = []
    for concept in concepts:
        key = tuple(terms for terms, _, _ in concept.alternatives)
        if key not in seen:
            seen.add(key)
            unique.append(concept)
    return unique


def concept_query(
    concept: Concept,
    fields: Sequence[tuple[str, float]],
    phrase_fields: frozenset[str],
) -> wq.Query:
    """One concept in every weighted field; its forms compete (best form counts)."""
    forms: list[wq.Query] = []
    for terms, weight, exact in concept.alternatives:
        per_field: list[wq.Query] = []
        for name, field_weight in fields:
            boost = field_weight * weight
            if len(terms) == 1:
                per_field.append(wq.Term(name, terms[0], boost=boost))
            elif exact and name in phrase_fields:
                per_field.append(wq.Phrase(name, list(terms), boost=boost))
        if not exact and len(terms) > 1:
            # every typed word somewhere in the entry, each in its best field
            per_field = [
                wq.And([wq.Or([wq.Term(name, term, boost=fw * weight) for name, fw in fields]) for term in terms])
            ]
        if per_field:
            forms.append(per_field[0] if len(per_field) == 1 else wq.Or(per_field))
    if len(forms) == 1:
        return forms[0]
    return wq.DisjunctionMax(forms, tiebreak=0.1)
