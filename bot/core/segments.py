"""A description as runs of text, some of them links: how every platform keeps inline links.

The parser flattens a description to plain text and keeps its links beside it, so
"desc. [Paper](url)" becomes "desc. Paper" plus ``Link("Paper", url)``. To show "Paper"
as a link again, each link's text is found, in order, in the description. Renderers
then turn a run with a URL into their own link form (Telegram ``<a>``, Discord masked
links, ``text <url>`` in plain text) and clip by runs, so a cut never breaks a link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["Segment", "clip_segments", "plain_segments", "split_description"]

Segment = tuple[str, "str | None"]
"""(text, url or None): one run of a description."""


def split_description(description: str, links: Iterable[tuple[str, str]]) -> tuple[Segment, ...]:
    """``description`` cut into runs, each link's text (found left to right) carrying its URL."""
    segments: list[Segment] = []
    cursor = 0
    for text, url in links:
        if not text.strip():
            continue
        at = description.find(text, cursor)
        if at < 0:
            continue
        if at > cursor:
            segments.append((description[cursor:at], None))
        segments.append((text, url))
        cursor = at + len(text)
    if cursor < len(description):
        segments.append((description[cursor:], None))
    return tuple(segments)


def clip_segments(segments: Sequence[Segment], limit: int) -> tuple[Segment, ...]:
    """At most ``limit`` characters of text, cut at a run; a link that does not fit loses its URL."""
    total = sum(len(text) for text, _ in segments)
    if total <= limit:
        return tuple(segments)
    kept: list[Segment] = []
    room = max(0, limit - 1)
    for text, url in segments:
        if len(text) <= room:
            kept.append((text, url))
            room -= len(text)
            continue
        if room > 0:
            kept.append((text[:room].rstrip(), None))
        break
    kept.append(("…", None))
    return tuple(kept)


def plain_segments(segments: Sequence[Segment]) -> str:
    """Plain text that keeps the links: ``Paper <https://...>`` (console, CLI, logs)."""
    return "".join(f"{text} <{url}>" if url else text for text, url in segments)
