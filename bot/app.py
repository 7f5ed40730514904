"""The platform-neutral core: ``MedBot.load()`` then ``await core.handle(text, ctx)``.

Adapters call only what is here (and read ``core.commands`` to build their menus):
``handle`` for a typed command, ``press`` for a button payload, ``inline_search`` for
Telegram inline mode, ``complete_topic`` for Discord autocomplete. None of these returns
a platform object or raises for user mistakes: errors come back as a ``Reply``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Context", "MedBot"]


@dataclass(frozen=True, slots=True)
class Context:
    """Who asks, where: enough for permissions, language and per-chat state.

    ``is_admin`` is decided by the adapter (Telegram ``getChatMember``, Discord
    ``manage_guild``) before calling the core, and only matters for commands whose
    spec says ``admin_only``. ``bot_username`` lets the core ignore ``/cmd@otherbot``.
    """

    platform: str
    chat_id: str
    user_id: str = ""
    is_admin: bool = False
    language: str = "en"
    chat_type: str = "private"  # private | group | channel
    bot_username: str | None = None
    user_name: str = ""

    @property
    def lang(self) -> str:
        """``zh`` for any Chinese locale (zh, zh-hans, zh-CN, ...), else ``en``."""
        return "zh" if (self.language or "").lower().startswith("zh") else "en"

    @property
    def in_group(self) -> bool:
        return self.chat_type in {"group", "supergroup", "channel", "guild"}


from bot.core.bot import MedBot  # noqa: E402  (the implementation lives in its own module)
