"""The platform-neutral core: ``MedBot.load()`` then ``await core.handle(text, ctx)``.

Adapters call only what is here (and read ``core.commands`` to build their menus):
``handle`` for a typed command, ``press`` for a button payload, ``inline_search`` for
Telegram inline mode, ``complete_topic`` for Discord autocomplete. None of these returns
a platform object or raises for user mistakes: errors come back as a ``Reply``.
"""

from __future__ import annotations

from bot.core.bot import MedBot
from bot.core.context import ChatKind, Context

__all__ = ["ChatKind", "Context", "MedBot"]
