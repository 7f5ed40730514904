"""Which versions of a list to believe, and which of their entries are really new.

A download can be whole by every HTTP measure and still be a cut file: the server itself
may hold half of it (a failed deploy, a cache object written halfway, a bad commit). The
diff then sees a paper whose URL stops mid-way, and a version that lost its tail. These
pure functions hold such a version back (``held_reason``) and keep a damaged entry from
ever being announced (``trustworthy_added``); ``bot.watch.poll`` calls them.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import urlsplit

from index.model import Entry, ListDocument

__all__ = ["held_reason", "stops_short", "trustworthy_added", "well_formed_url"]

TAIL_CHARS = 64
"""How much of a version's end is looked up in the last good one: long enough to be unique."""

_HEADING_LINE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


def held_reason(
    old: ListDocument, new: ListDocument, old_text: str, new_text: str, added: Sequence[Entry], *, max_added: int
) -> str | None:
    """Why a changed version must wait for a second poll to see it again, or None to adopt it.

    A mass change (more than half the entries gone, more than ``max_added`` new) may be an
    accident upstream. A truncation is subtler: a file cut at 80% keeps most entries, so
    the diff itself is the evidence: the text stops at a passage the last good version
    went on after, or many entries went and few came while the file got shorter.
    """
    old_keys = {entry.key for entry in old.entries}
    lost = len(old_keys - {entry.key for entry in new.entries})
    counts = f"{lost} of {len(old_keys)} entries gone, {len(added)} added"
    if lost * 2 > len(old_keys) or len(added) > max_added:
        return f"mass change: {counts}"
    if stops_short(old_text, new_text):
        return f"suspected truncation: the text stops where the last good version went on ({counts})"
    if len(new_text) < len(old_text) and lost >= max(5, len(old_keys) // 10) and len(added) * 4 <= lost:
        return f"suspected truncation: {counts}, {len(new_text)} of {len(old_text)} characters left"
    return None


def stops_short(old_text: str, new_text: str) -> bool:
    """The new text ends with a passage of the old one that, in the old one, was not its end."""
    tail = new_text.rstrip()[-TAIL_CHARS:]
    if len(tail) < TAIL_CHARS:
        return False  # too little text to say where it stops
    return tail in old_text and not old_text.rstrip().endswith(tail)


def trustworthy_added(new: ListDocument, text: str, added: Sequence[Entry]) -> list[Entry]:
    """The added entries that may be announced: each URL well formed, none cut by the file's end."""
    cut_from = _cut_line(new, text)
    return [entry for entry in added
            if well_formed_url(entry.url) and (cut_from is None or entry.line < cut_from)]


def _cut_line(document: ListDocument, text: str) -> int | None:
    """The first line of the last entry if the file ends inside it (no final newline), else None.

    An item the file ends in, without the newline every editor writes, is where a cut
    would land; its URL may stop mid-way and still parse. One that ends in a closed link,
    every bracket closed, is whole (files without a final newline are common upstream).
    """
    if not document.entries or text.endswith(("\n", "\r")):
        return None
    last = max(entry.line for entry in document.entries)
    lines = text.split("\n")
    after = lines[last:]  # ``line`` is 1-based: these are the lines after its first
    if any(not line.strip() or _HEADING_LINE.match(line) for line in after):
        return None  # the item ended; the cut is in what follows it
    item = "\n".join(lines[last - 1:]).rstrip()
    if "](" in item and item.endswith(")") and item.count("(") == item.count(")") and item.count("[") == item.count("]"):
        return None
    return last


def well_formed_url(url: str | None) -> bool:
    """A URL with nothing a damaged byte leaves: no replacement or control character, a real host."""
    if url is None:
        return True
    if not url or any(ch.isspace() or ch == "\ufffd" or unicodedata.category(ch)[0] == "C" for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https"):
        return True  # relative, mailto, ftp: nothing more to check
    return _valid_host(parts.hostname or "")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError:
        return False
    labels = ascii_host.split(".")
    if ascii_host == "localhost":
        return True
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels) and not labels[-1].isdigit()
