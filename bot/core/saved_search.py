"""A subscription is a saved search: a new entry is announced when that search would find it.

The filter is read by the search's own reader (``index.search_query.parse_query``) with the
same synonyms, so ``/subscribe 聚类`` catches a new "clustering" tool exactly as
``/search 聚类`` would find it, and ``topic:`` ``tag:`` ``year:`` ``source:`` mean what they
mean in a search. The entry is analysed with the query analyser (stems, Chinese words);
every concept of the filter must match one of its forms, and every filter must hold.

On top of the search's syntax a subscription may exclude (``-word``, ``-"a phrase"``,
``-topic:NAME``, ``-tag:X``, ``-source:X``) and ask for an author or venue named in the
entry (``author:Ronneberger``, ``venue:MICCAI``; lists write these in the description).
There are no patterns: every test is a word or substring comparison, linear in the
entry, so no filter can be made slow on purpose. ``explain`` says which part decided,
for ``/why``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.i18n import t
from index.aliases import ALIAS_MARK, entry_aliases
from index.analysis import query_tokens, stem_word
from index.model import Entry
from index.search_query import ParsedQuery, parse_query
from index.search_synonyms import SynonymMap, SynonymsError, load_synonyms

__all__ = ["SubscriptionFilter", "Verdict", "entry_matches", "explain", "read_filter", "saved_search"]


_EXTRA = re.compile(r'(?<!\S)(-?)(?:(topic|tag|source|author|venue)\s*:\s*)?(?:"([^"]*)"|(\S+))', re.I)


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """A filter read into the search part and the subscription-only parts."""

    search: str
    exclude_words: tuple[str, ...] = ()
    exclude_topics: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    exclude_sources: tuple[str, ...] = ()
    exclude_people: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    venues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a filter takes an entry, and the part of the filter that decided: an i18n
    key (``verdict_*``) and its values, so ``/why`` says it in the chat's language."""

    matched: bool
    key: str = ""
    values: tuple[tuple[str, str], ...] = ()
    excluded_by: str = ""

    def reason(self, lang: str = "en") -> str:
        return t(lang, self.key, **dict(self.values)) if self.key else ""


def read_filter(filter_text: str) -> SubscriptionFilter:
    """Split off exclusions and author/venue tests; the rest is read as a search."""
    keep: list[str] = []
    parts: dict[str, list[str]] = {key: [] for key in ("word", "topic", "tag", "source", "people", "author", "venue")}
    for match in _EXTRA.finditer(filter_text):
        minus, name, quoted, bare = match.group(1), (match.group(2) or "").lower(), match.group(3), match.group(4)
        value = (quoted if quoted is not None else bare or "").strip()
        if not minus and name not in ("author", "venue"):
            keep.append(match.group(0))
        elif not value:
            continue
        elif not minus:
            parts[name].append(value)
        elif name in ("author", "venue"):
            parts["people"].append(value)
        else:
            parts[name or "word"].append(value)
    return SubscriptionFilter(
        " ".join(keep), tuple(parts["word"]), tuple(parts["topic"]), tuple(parts["tag"]), tuple(parts["source"]),
        tuple(parts["people"]), tuple(parts["author"]), tuple(parts["venue"]),
    )


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def _names(entry: Entry) -> str:
    """Where a list names authors and venues: the description and the title."""
    return _folded(f"{entry.title} {entry.description}")


def _terms(entry: Entry) -> tuple[list[str], set[str]]:
    text = " ".join((entry.title, entry.description, *entry.section, *entry.tags))
    sequence: list[str] = []
    every: set[str] = set()
    for token in query_tokens(text):
        sequence.append(token.term)
        every.add(token.term)
        every.update(token.subterms)
    # the names a search finds it by (K-SAN, PCAWG): the same aliases the index keeps
    every.update(ALIAS_MARK + stem_word(alias) for alias in entry_aliases([entry.title], (link.url for link in entry.links)))
    return sequence, every


def _in_order(needle: Sequence[str], haystack: Sequence[str]) -> bool:
    size = len(needle)
    return any(tuple(haystack[at : at + size]) == tuple(needle) for at in range(len(haystack) - size + 1))


def _filters_hold(parsed: ParsedQuery, entry: Entry) -> bool:
    where = " › ".join(entry.section).lower()
    if any(topic.lower() not in where and topic.lower() != entry.source.lower() for topic in parsed.topics):
        return False
    if any(source.lower() not in entry.source.lower() for source in parsed.sources):
        return False
    if any(not any(tag.lower() in have.lower() for have in entry.tags) for tag in parsed.tags):
        return False
    for years in parsed.years:
        if entry.year is None or (years.low is not None and entry.year < years.low) or (years.high is not None and entry.year > years.high):
            return False
    return True


def _has_words(words: str, sequence: Sequence[str], every: set[str]) -> bool:
    terms = [token.term for token in query_tokens(words)]
    return bool(terms) and (_in_order(terms, sequence) if len(terms) > 1 else terms[0] in every)


def explain(filter_text: str, entry: Entry, synonyms: SynonymMap) -> Verdict:
    """Would this subscription take ``entry``, and if not, which part of it said no?"""
    wanted = read_filter(filter_text)
    where = " › ".join(entry.section).casefold()
    for topic in wanted.exclude_topics:
        if topic.casefold() in where or topic.casefold() == entry.source.casefold():
            return Verdict(False, "verdict_topic", (("part", f"-topic:{topic}"),), f"-topic:{topic}")
    for tag in wanted.exclude_tags:
        if any(tag.casefold() in have.casefold() for have in entry.tags):
            return Verdict(False, "verdict_tag", (("part", f"-tag:{tag}"),), f"-tag:{tag}")
    for source in wanted.exclude_sources:
        if source.casefold() in entry.source.casefold():
            return Verdict(False, "verdict_source", (("part", f"-source:{source}"),), f"-source:{source}")
    sequence, every = _terms(entry)
    for word in wanted.exclude_words:
        if _has_words(word, sequence, every):
            return Verdict(False, "verdict_word", (("word", word), ("part", f"-{word}")), f"-{word}")
    names = _names(entry)
    for person in wanted.exclude_people:
        if _folded(person) in names:
            return Verdict(False, "verdict_person", (("name", person), ("part", f"-{person}")), f"-{person}")
    for label, needed in (("author", wanted.authors), ("venue", wanted.venues)):
        for value in needed:
            if _folded(value) not in names:
                return Verdict(False, f"verdict_no_{label}", (("name", value),))
    parsed = parse_query(wanted.search, synonyms)
    if not _filters_hold(parsed, entry):
        return Verdict(False, "verdict_filters")
    for concept in parsed.concepts:
        if not any(
            (_in_order(terms, sequence) if exact and len(terms) > 1 else all(term in every for term in terms))
            for terms, _, exact in concept.alternatives
        ):
            return Verdict(False, "verdict_missing", (("word", concept.label),))
    return Verdict(True)


def entry_matches(filter_text: str, entry: Entry, synonyms: SynonymMap) -> bool:
    """Would a search for ``filter_text`` return ``entry``? (An empty filter takes every entry.)"""
    return explain(filter_text, entry, synonyms).matched


def saved_search(synonyms_path: Path | None) -> Callable[[str, Entry], bool]:
    """``match(filter, entry)`` for the store, with the synonyms a search uses (none if they are broken)."""
    try:
        synonyms = load_synonyms(synonyms_path)
    except SynonymsError:
        synonyms = SynonymMap([])
    return lambda filter_text, entry: entry_matches(filter_text, entry, synonyms)
