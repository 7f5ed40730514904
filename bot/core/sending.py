"""The seam between the announcer and the adapters' send paths.

An adapter that can deliver announcements offers a ``Sender``; the announcer only knows
this protocol and these two outcomes besides success, so flood limits and kicked bots
are handled the same way on every platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.replies import Reply

__all__ = ["PermanentFailure", "RateLimit", "Refused", "RetryLater", "Sender", "ThreadGone"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Flood limits the announcer keeps for a platform: spacing per chat, a per-minute cap,
    a global rate. All zero when the platform's library already limits its own sends."""

    chat_interval: float = 0.0
    chat_per_minute: int = 0
    global_per_second: float = 0.0


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 ``retry_after``) or failed transiently."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds:g}s")
        self.seconds = max(0.0, float(seconds))


class PermanentFailure(Exception):
    """Nothing can ever be delivered to this chat (bot removed, chat gone, forbidden)."""


class ThreadGone(Exception):
    """The forum topic or thread was deleted (Telegram "message thread not found", Discord
    10003 Unknown Channel for the thread); the chat itself is fine."""


class Refused(Exception):
    """The platform refused this one message (bad markup, too long, …); the chat is fine."""


class Sender(Protocol):
    """A platform's send path: deliver one reply to one chat, or raise one of the above."""

    platform: str
    limits: RateLimit

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False, thread: str = "") -> None:
        """Send to the chat, or into its topic/thread ``thread``; the announcer passes
        ``thread`` only when it is set, so a sender without topics may leave it out."""
