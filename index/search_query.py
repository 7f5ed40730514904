"""From what a lab member typed to concepts and filters, without ever failing.

We do not use Whoosh's query parser: its syntax (``AND``, ``field:``, ``*``, parentheses)
is not what people in a chat mean, and every bit of it is a way to fail. Instead a small
pure reader picks out the few things we support — quoted phrases and the filters
``topic:`` ``year:`` ``source:`` ``tag:`` — and treats everything else as plain words,
after ``question`` has taken the chat around a message away.
Words become *concepts*: one typed word, or a run of words that the synonym map knows,
each searchable in several forms ("EMR" = "electronic medical records" = 电子病历). A
run of words also keeps its single words as *parts*, so an entry that has only some of
them ("chest" without "x-ray") still counts for those. Intent words ("code",
"dataset") become *soft* concepts: they raise entries, never exclude them. Chinese words
that no synonym covers are looked up in the Chinese-English glossary (``chinese``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from index.aliases import ALIAS_MARK, hyphen_acronym, name_parts, name_words
from index.analysis import QueryToken, is_han, query_tokens, stem_word
from index.question import intent_of, read_question
from index.search_synonyms import SynonymMap, Variant, token_key

__all__ = [
    "Concept",
    "Form",
    "Glossary",
    "ParsedQuery",
    "YearRange",
    "parse_query",
]

MAX_QUERY_CHARS = 1000
MAX_CONCEPTS = 24

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FILTER = re.compile(r'(?<![^\s(])(topic|year|source|tag)\s*:\s*(?:"([^"]*)"|(\S+))', re.I)
_PHRASE = re.compile(r'"([^"]*)"')
_HYPHENATED = re.compile(r"(?<![\w-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+(?![\w-])")
_NAMED = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_YEARS = re.compile(r"^(\d{4})?\s*(\.\.|-|–|to)?\s*(\d{4})?$")

# How much a variant counts against the form the user typed.
SYNONYM_WEIGHT = 0.9
# A variant in the other script (English for a Chinese query, and back) still counts,
# but entries written the way the user wrote come first.
CROSS_SCRIPT_WEIGHT = 0.4
# A dictionary gloss of a Chinese word: looser than a curated synonym.
GLOSS_WEIGHT = 0.35
# What a narrow term is a kind of (chromothripsis: structural variation): an entry
# about the broader thing may be the one meant, but one naming the term comes first.
BROADER_WEIGHT = 0.5
LOOSE_WEIGHT = 0.6
SUBWORD_WEIGHT = 0.4
# The pieces of a joined name (GraphSCI: graph + sci), and its letters without a version
# number (ConvAI2: convai): how papers' names are made, so worth looking for.
NAME_PARTS_WEIGHT = 0.6
NAME_STEM_WEIGHT = 0.9
MAX_GLOSSES = 4

Form = tuple[tuple[str, ...], float, bool]
"""(terms, weight, exact): one term, or a phrase (exact) / all-of-these-words (loose)."""

Glossary = Callable[[str], Sequence[str]]
"""English glosses of a (simplified) Chinese word, most common sense first."""


@dataclass(frozen=True, slots=True)
class YearRange:
    low: int | None
    high: int | None


@dataclass(frozen=True, slots=True)
class Concept:
    """One thing the user asked for, in every form it may be written.

    ``alternatives`` are the forms (see ``Form``). ``word`` is the typed word when the
    concept is one plain word (a typo candidate). ``parts`` are the single-word concepts
    of a multi-word one, for entries that have only some of its words. ``soft`` marks
    an intent word ("code"): it adds to an entry's score but is never required; ``kind``
    is the kind of entry it prefers. ``broader`` are forms of what the concept is a kind
    of: a search ranks by them too, a subscription does not match by them (a lab that
    follows "chromothripsis" does not want every structural-variation paper).
    """

    label: str
    alternatives: tuple[Form, ...]
    word: str | None = None
    parts: tuple[Concept, ...] = ()
    soft: bool = False
    kind: str | None = None
    broader: tuple[Form, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str
    concepts: tuple[Concept, ...]
    topics: tuple[str, ...] = ()
    years: tuple[YearRange, ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    intents: frozenset[str] = frozenset()


def parse_query(text: str, synonyms: SynonymMap, glossary: Glossary | None = None) -> ParsedQuery:
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

    def take_phrase(match: re.Match[str]) -> str:
        tokens = query_tokens(match.group(1))
        if len(tokens) > 1:
            concepts.append(
                Concept(match.group(1).strip(), (((tuple(t.term for t in tokens)), 1.0, True),))
            )
            return " "
        return f" {match.group(1)} "

    rest = _PHRASE.sub(take_phrase, rest)
    question = read_question(rest)

    def take_acronym(match: re.Match[str]) -> str:
        joined = hyphen_acronym(match.group())
        if joined is None or synonyms.knows(match.group()):
            return match.group()
        tokens = query_tokens(match.group())
        phrase = tuple(t.term for t in tokens)
        pieces = _informative(_word_concepts(tokens, synonyms, glossary))
        forms: tuple[Form, ...] = (
            ((stem_word(joined),), 1.0, True), ((ALIAS_MARK + stem_word(joined),), 1.0, True), (phrase, 1.0, True)
        )
        concepts.append(Concept(match.group(), forms, parts=pieces))
        return " "

    subject = _HYPHENATED.sub(take_acronym, question.text)
    typed_names = name_words(subject)
    names = {word.lower(): word for word in _NAMED.findall(subject) if word.lower() in typed_names}
    concepts.extend(_word_concepts(query_tokens(subject), synonyms, glossary, names=names))
    return ParsedQuery(
        text=text,
        concepts=tuple(_dedupe(concepts))[:MAX_CONCEPTS],
        topics=tuple(topics),
        years=tuple(years),
        sources=tuple(sources),
        tags=tuple(tags),
        intents=question.intents,
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


def _word_concepts(
    tokens: Sequence[QueryToken], synonyms: SynonymMap, glossary: Glossary | None, longest: int | None = None,
    names: dict[str, str] | None = None,
) -> list[Concept]:
    """Concepts of a run of words; ``longest`` caps synonym spans (for a span's parts)."""
    concepts: list[Concept] = []
    index = 0
    while index < len(tokens) and len(concepts) < MAX_CONCEPTS:
        used, variants = synonyms.match(tokens, index)
        if used and (longest is None or used <= longest):
            typed = tokens[index : index + used]
            parts = _informative(_word_concepts(typed, synonyms, glossary, used - 1)) if used > 1 else ()
            broader = synonyms.broader_for(token_key([token.term for token in typed]))
            concepts.append(_soften(_span_concept(typed, variants, parts, broader)))
            index += used
            continue
        concepts.append(_soften(_single_concept(tokens[index], glossary, (names or {}).get(tokens[index].word))))
        index += 1
    return concepts


def _informative(concepts: Sequence[Concept]) -> tuple[Concept, ...]:
    """The parts of a run of words worth matching alone: not a lone letter or digit
    (the "d" of d-vector would match every author's initial)."""
    return tuple(c for c in concepts if not (len(c.label) == 1 and c.label.isascii()))


def _span_concept(
    typed: Sequence[QueryToken], variants: Sequence[Variant], parts: tuple[Concept, ...], broader: Sequence[Variant] = ()
) -> Concept:
    """A synonym match: the typed words as a phrase, every variant, each also in any
    order, and what it is a kind of, looser still."""
    typed_terms = tuple(token.term for token in typed)
    typed_han = any(token.han for token in typed)
    alternatives: list[Form] = [(typed_terms, 1.0, True)]
    if len(typed_terms) > 1 and not all(token.han for token in typed):
        alternatives.append((typed_terms, LOOSE_WEIGHT, False))
    for variant in variants:
        terms = variant.terms
        if terms == typed_terms:
            continue
        same_script = any(is_han(term) for term in terms) == typed_han
        weight = SYNONYM_WEIGHT if same_script else CROSS_SCRIPT_WEIGHT
        alternatives.append((terms, weight, True))
        if len(terms) > 1 and not any(is_han(term) for term in terms):
            alternatives.append((terms, weight * LOOSE_WEIGHT, False))
    wider: list[Form] = []
    for variant in broader:
        same_script = any(is_han(term) for term in variant.terms) == typed_han
        # A phrase scores the sum of its words: per word, so that "structural variation"
        # counts as one broader term and never as twice the typed one.
        weight = BROADER_WEIGHT * (1.0 if same_script else CROSS_SCRIPT_WEIGHT) / len(variant.terms)
        wider.append((variant.terms, weight, True))
    label = " ".join(token.word for token in typed)
    word = typed[0].word if len(typed) == 1 else None
    return Concept(label, tuple(alternatives), word=word, parts=parts, broader=tuple(wider))


def _single_concept(token: QueryToken, glossary: Glossary | None, typed: str | None = None) -> Concept:
    alternatives: list[Form] = [((token.term,), 1.0, True)]
    alternatives.extend(((sub,), SUBWORD_WEIGHT, True) for sub in token.subterms)
    if typed:
        alternatives.extend(_name_forms(typed, token.term))
    if glossary is not None and token.han:
        alternatives.extend(_gloss_forms(token, glossary))
    return Concept(token.word, tuple(alternatives), word=token.word)


def _name_forms(typed: str, term: str) -> list[Form]:
    """A word typed as a name (``PCAWG``, ``ConvAI2``, ``GraphSCI``; ``aliases.name_words``):
    the entries it is an alias of, its pieces (all of them, any order) and its letters
    without a number."""
    forms: list[Form] = [((ALIAS_MARK + term,), 1.0, True)]
    letters = typed.rstrip("0123456789").lower()
    if letters != typed.lower() and len(letters) >= 3 and stem_word(letters) != term:
        forms.append(((stem_word(letters),), NAME_STEM_WEIGHT, True))
        forms.append(((ALIAS_MARK + stem_word(letters),), NAME_STEM_WEIGHT, True))
    pieces = tuple(stem_word(piece) for piece in name_parts(typed) if not piece.isdigit())
    if len(pieces) > 1:
        forms.append((pieces, NAME_PARTS_WEIGHT, False))
    return forms


def _gloss_forms(token: QueryToken, glossary: Glossary) -> list[Form]:
    """English forms of a Chinese word: its glosses, or its sub-words' glosses."""
    glosses = list(glossary(token.word))
    if not glosses:
        for sub in token.subterms:
            glosses.extend(glossary(sub)[:2])
    forms: list[Form] = []
    for gloss in glosses[:MAX_GLOSSES]:
        terms = tuple(t.term for t in query_tokens(gloss))
        if terms and not any(is_han(term) for term in terms):
            forms.append((terms, GLOSS_WEIGHT, True))
    return forms


def _soften(concept: Concept) -> Concept:
    """An intent word ("code", "dataset", 数据集) is a preference, not a requirement."""
    kinds = {intent_of(word) for word in concept.label.split()}
    if len(kinds) == 1 and None not in kinds:
        return replace(concept, soft=True, kind=kinds.pop())
    return concept


def _dedupe(concepts: Sequence[Concept]) -> list[Concept]:
    seen: set[tuple[tuple[str, ...], ...]] = set()
    unique = []
    for concept in concepts:
        key = tuple(terms for terms, _, _ in concept.alternatives)
        if key not in seen:
            seen.add(key)
            unique.append(concept)
    return unique
