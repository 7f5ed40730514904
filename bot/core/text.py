"""Text from lists is shown, never obeyed: control characters are removed before display.

An awesome list is written by strangers. Its titles may carry terminal escapes (ESC
sequences that recolour or clear a terminal), other C0/C1 controls that chat platforms
refuse or show as boxes, and bidirectional overrides that make a link read backwards.
``displayable`` removes exactly those and keeps everything readable: letters of every
script, emoji (with their joiners), line breaks and tabs.
"""

from __future__ import annotations

import re

__all__ = ["displayable"]

_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (but tab and newline), DEL, C1
    "\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides and isolates
    "\u200e\u200f\u061c]"  # direction marks
)


def displayable(text: str) -> str:
    """``text`` without control and direction-override characters."""
    return _CONTROLS.sub("", text) if _CONTROLS.search(text) else text
