"""What an announcement adds when medbot knows more than the list line: authors, the
abstract's first sentence, and who added the entry upstream ("added in owner/repo#123 by
user"). Read from the store only, never fetched at send time, so an announcement never
waits for a service: what is not known yet is simply left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.paper_info import gather_infos
from bot.store.sqlite import LoggedEntry, Store

__all__ = ["announcement_notes"]

AUTHORS_SHOWN = 4


def announcement_notes(store: Store, logged: Sequence[LoggedEntry]) -> dict[str, tuple[str, ...]]:
    """``{entry key: lines}`` for the entries that have something to add (blocking)."""
    notes: dict[str, tuple[str, ...]] = {}
    for info in gather_infos(store, [(item.entry, item.sources) for item in logged]):
        lines = []
        if info.authors:
            more = " et al." if len(info.authors) > AUTHORS_SHOWN else ""
            lines.append(", ".join(info.authors[:AUTHORS_SHOWN]) + more)
        sentence = info.first_sentence()
        if sentence:
            lines.append(sentence)
        if info.provenance is not None and info.provenance.describe():
            lines.append(info.provenance.describe().capitalize())
        if lines:
            notes[info.entry.key] = tuple(lines)
    return notes
