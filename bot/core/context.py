"""Who asks, where: the one thing every adapter builds for the core.

Platforms call their chats different things (Telegram groups and supergroups, Discord
guild channels, forum threads); the adapter folds them into ``ChatKind``, so the core
decides permissions and wording without knowing any platform's vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["ChatKind", "Context"]


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Context:
    """Who asks, where: enough for permissions, language and per-chat state.

    ``is_admin`` is decided by the adapter (Telegram ``getChatMember``, Discord
    ``manage_guild``) before calling the core, and only matters for commands whose
    spec says ``admin_only``. ``bot_username`` lets the core ignore ``/cmd@otherbot``.
    ``platform`` is the adapter's registered name: the core stores it, never reads it.
    """

    platform: str
    chat_id: str
    user_id: str = ""
    is_admin: bool = False
    language: str = "en"
    chat_type: ChatKind | str = ChatKind.PRIVATE
    bot_username: str | None = None
    user_name: str = ""
    thread_id: str = ""
    """The forum topic (Telegram ``message_thread_id``) or thread (Discord) the message came
    from; empty in a chat's main channel. ``chat_id`` is always the chat or parent channel."""

    @property
    def lang(self) -> str:
        """``zh`` for any Chinese locale (zh, zh-hans, zh-CN, ...), else ``en``."""
        return "zh" if (self.language or "").lower().startswith("zh") else "en"

    @property
    def in_group(self) -> bool:
        """Anything but a one-to-one chat: where admins decide and replies are public."""
        return self.chat_type != ChatKind.PRIVATE
