"""Subscription filters as ``/subscribe`` receives and shows them.

A filter is what the user typed: a topic path ("Genomics › Single-Cell"), keywords or
search filters, kept as typed. Here it is only checked for having any word at all and
described back; whether a new entry matches is a saved search (``saved_search.py``).
"""

from __future__ import annotations

import re

from index.model import normalise_title

__all__ = ["describe_filter", "filter_words"]

_SEPARATORS = re.compile(r"[›»>/|]")


def filter_words(filter_text: str) -> tuple[str, ...]:
    """The words a filter asks for: case, accents, punctuation and path separators folded."""
    return tuple(normalise_title(_SEPARATORS.sub(" ", filter_text)).split())


def describe_filter(filter_text: str, lang: str = "en") -> str:
    if not filter_text:
        return "所有新条目" if lang == "zh" else "every new entry"
    return f"“{filter_text}”"
