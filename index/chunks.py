"""A big list cut into pieces markdown-it can read one at a time, with the same result.

markdown-it builds every token of a document before we walk them: a 20 MB list held
about 600 MB of tokens at once. ``chunks`` cuts a text longer than ``CHUNK_CHARS`` only
just before a top-level ATX heading (``# `` at column 0) that follows a blank line and
is outside a fenced code block and outside a raw HTML block (comment, ``<pre>``,
``<script>``, ``<style>``, ``<textarea>``): there no list, quote, table, paragraph or
HTML block can continue across the cut, so each piece parses exactly as it would
inside the whole. Reference-link definitions (``[name]: url``) are repeated at the end
of every piece, since a link may use one defined in another piece. Shorter texts are
one piece, unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["CHUNK_CHARS", "chunks"]

CHUNK_CHARS = 1 << 20
_HEADING = re.compile(r"#{1,6}(?:[ \t]|$)")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_RAW_OPEN = re.compile(r" {0,3}(?:<(pre|script|style|textarea)\b|<!--)", re.IGNORECASE)
_DEFINITION = re.compile(r"^ {0,3}\[(?:[^\]\\\n]|\\.)+\]:[ \t]*\S.*$", re.MULTILINE)


def chunks(text: str, size: int | None = None) -> Iterator[tuple[int, str]]:
    """``(first line number, text)`` pieces of ``text``, each about ``size`` or longer."""
    size = CHUNK_CHARS if size is None else size
    if len(text) <= size:
        yield 0, text
        return
    definitions = "\n".join(match.group(0) for match in _DEFINITION.finditer(text))
    tail = "\n\n" + definitions + "\n" if definitions else ""
    lines = text.split("\n")
    start = 0
    length = 0
    fence: str | None = None  # the opening run of an open fence
    raw: str | None = None  # what ends the open raw HTML block
    for number, line in enumerate(lines):
        if fence is None and raw is None and length >= size and _HEADING.match(line) and number and not lines[number - 1].strip():
            yield start, "\n".join(lines[start:number]) + tail
            start, length = number, 0
        length += len(line) + 1
        fence, raw = _state_after(line, fence, raw)
    yield start, "\n".join(lines[start:]) + tail


def _state_after(line: str, fence: str | None, raw: str | None) -> tuple[str | None, str | None]:
    """Whether a fence or a raw HTML block is open after ``line`` (erring towards open)."""
    if raw is not None:
        return fence, (None if raw in line.lower() else raw)
    opened = _FENCE.match(line)
    if fence is not None:
        closes = opened is not None and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence)
        return (None if closes and opened is not None and not line[opened.end():].strip() else fence), None
    if opened is not None:
        return opened.group(1), None
    html = _RAW_OPEN.match(line)  # deeper ones are inside a container a heading closes
    if html is None:
        return None, None
    end = "-->" if html.group(1) is None else f"</{html.group(1).lower()}>"
    return None, (None if end in line[html.end():].lower() else end)
