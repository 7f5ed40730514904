"""Table-of-contents jumps: links that lead to a heading of the list itself.

A contents item is ``[Genomics](#genomics)``, or the same anchor written as an absolute
link to the list's own README (``https://github.com/owner/list#2-基因-genomics``). These
are navigation, never entries; an anchor into *another* page is a real resource.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

__all__ = ["heading_anchors", "is_anchor_link"]


_ATX = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_MD_LINK_TEXT = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def heading_anchors(text: str) -> set[str]:
    """Loose GitHub anchors of every heading-looking line (ATX or setext, any indent)."""
    anchors: set[str] = set()
    previous = ""
    for raw in text.split("\n"):
        stripped = raw.strip()
        match = _ATX.match(stripped)
        if match:
            anchors.add(_anchor_key(match.group(1)))
        elif previous and _SETEXT_UNDERLINE.match(raw) and stripped:
            anchors.add(_anchor_key(previous))
        previous = stripped
    anchors.discard("")
    return anchors


def _anchor_key(heading: str) -> str:
    """Only letters and digits, folded: GitHub's slug rules without their hyphen details."""
    visible = _MD_LINK_TEXT.sub(r"\1", heading)
    return "".join(ch for ch in unquote(visible).casefold() if ch.isalnum())


def is_anchor_link(url: str, anchors: set[str]) -> bool:
    """``#section``, or this README's own heading anchor written as an absolute URL."""
    url = url.strip()
    if url.startswith("#"):
        return True
    if "#" not in url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # malformed host such as ``http://[oops#x``: not one of our anchors
        return False
    if not parts.fragment or _anchor_key(parts.fragment) not in anchors:
        return False
    segments = [s for s in parts.path.split("/") if s]
    if not parts.netloc:
        return not segments or segments[-1].lower() in ("readme.md", "readme")
    if parts.netloc.lower().removeprefix("www.") not in ("github.com", "gitlab.com"):
        return False
    return len(segments) == 2 or (
        len(segments) >= 4 and segments[2] in ("blob", "tree") and (len(segments) == 4 or segments[-1].lower() == "readme.md")
    )
