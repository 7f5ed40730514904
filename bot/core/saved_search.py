"""A subscription is a saved search: a new entry is announced when that search would find it.

The filter is read by the search's own reader (``index.search_query.parse_query``) with the
same synonyms, so ``/subscribe 聚类`` catches a new "clustering" tool exactly as
``/search 聚类`` would find it, and ``topic:`` ``tag:`` ``year:`` ``source:`` mean what they
mean in a search. The entry is analysed with the query analyser (stems, Chinese words);
every concept of the filter must match one of its forms, and every filter must hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from index.analysis import query_tokens
from index.model import Entry
from index.search_query import ParsedQuery, parse_query
from index.search_synonyms import SynonymMap, SynonymsError, load_synonyms

__all__ = ["entry_matches", "saved_search"]


def _terms(entry: Entry) -> tuple[list[str], set[str]]:
    text = " ".join((entry.title, entry.description, *entry.section, *entry.tags))
    sequence: list[str] = []
    every: set[str] = set()
    for token in query_tokens(text):
        sequence.append(token.term)
        every.add(token.term)
        every.update(token.subterms)
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


def entry_matches(filter_text: str, entry: Entry, synonyms: SynonymMap) -> bool:
    """Would a search for ``filter_text`` return ``entry``? (An empty filter takes every entry.)"""
    parsed = parse_query(filter_text, synonyms)
    if not _filters_hold(parsed, entry):
        return False
    if not parsed.concepts:
        return True
    sequence, every = _terms(entry)
    for concept in parsed.concepts:
        if not any(
            (_in_order(terms, sequence) if exact and len(terms) > 1 else all(term in every for term in terms))
            for terms, _, exact in concept.alternatives
        ):
            return False
    return True


def saved_search(synonyms_path: Path | None) -> Callable[[str, Entry], bool]:
    """``match(filter, entry)`` for the store, with the synonyms a search uses (none if they are broken)."""
    try:
        synonyms = load_synonyms(synonyms_path)
    except SynonymsError:
        synonyms = SynonymMap([])
    return lambda filter_text, entry: entry_matches(filter_text, entry, synonyms)
