"""Subscription filters: does a new entry match what a chat asked to hear about?

A filter is what the user typed after ``/subscribe``: a topic path ("Genomics ›
Single-Cell") or a few keywords. It is kept as typed and matched as plain words —
every word must be found in the entry's title, description, section path or tags,
ignoring case and punctuation — so there is no user regex to go wrong and the rule is
easy to explain.
"""

from __future__ import annotations

import re

from index.model import Entry, normalise_title

__all__ = ["describe_filter", "filter_matches", "filter_words"]

_SEPARATORS = re.compile(r"[›»>/|]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def filter_words(filter_text: str) -> tuple[str, ...]:
    """The words a filter asks for: case, accents, punctuation and path separators folded."""
    return tuple(normalise_title(_SEPARATORS.sub(" ", filter_text)).split())


def filter_matches(filter_text: str, entry: Entry) -> bool:
    """True when every word of the filter occurs in the entry (an empty filter takes all).

    Latin words match the start of a word ("segment" finds "segmentation"); Chinese has
    no spaces, so a Chinese word matches anywhere in the text.
    """
    words = filter_words(filter_text)
    if not words:
        return True
    text = normalise_title(" ".join((entry.title, entry.description, *entry.section, *entry.tags)))
    text_words = text.split()
    squeezed = text.replace(" ", "")
    for word in words:
        if _CJK.search(word):
            if word not in squeezed:
                return False
        elif not any(candidate.startswith(word) for candidate in text_words):
            return False
    return True


def describe_filter(filter_text: str, lang: str = "en") -> str:
    if not filter_text:
        return "所有新条目" if lang == "zh" else "every new entry"
    return f"“{filter_text}”"
