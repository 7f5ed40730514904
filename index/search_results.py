"""What a search answers: hits, a page of them, and the empty page."""

from __future__ import annotations

from dataclasses import dataclass

from index.model import Entry

__all__ = ["Hit", "SearchResult", "empty_result", "page_count"]


@dataclass(frozen=True)
class Hit:
    entry: Entry
    sources: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    page: int
    pages: int
    per_page: int
    suggestion: str | None
    fuzzy: bool
    hits: tuple[Hit, ...]
    relaxed: bool = False
    """No entry the filters let through has the words: these are all the filtered entries."""


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def empty_result(query: str, page: int, per_page: int) -> SearchResult:
    return SearchResult(query, 0, page, 1, per_page, None, False, ())
