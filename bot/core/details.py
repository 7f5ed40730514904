"""The "ℹ N" buttons under a list of results: each opens that entry's /paper card.

Kept apart from the commands so ``search``/``browse`` (which show results) and ``papers``
(which answers the button) need not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.replies import Button, EntryView

if TYPE_CHECKING:
    from bot.core.bot import MedBot

__all__ = ["detail_buttons"]


def detail_buttons(core: MedBot, entries: Sequence[EntryView], first: int) -> tuple[Button, ...]:
    """One button per shown entry, labelled with its number in the reply, on its own row.

    The payload is ``p|1|<entry id>`` (15 bytes), far below Telegram's 64-byte limit, and
    survives a restart because the id is derived from the entry's link, not stored.
    """
    label = "ℹ️ {n}"
    return tuple(Button(label.format(n=number), core.payload("paper", entry.id), row=1) for number, entry in enumerate(entries, first))
