"""The seam between the announcer and the adapters' send paths.

An adapter that can deliver announcements offers a ``Sender``; the announcer only knows
this protocol and these two outcomes besides success, so flood limits and kicked bots
are handled the same way on every platform.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.replies import Reply

__all__ = ["PermanentFailure", "RetryLater", "Sender"]


class RetryLater(Exception):
    """The platform asked us to wait (HTTP 429 ``retry_after``) or failed transiently."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds:g}s")
        self.seconds = max(0.0, float(seconds))


class PermanentFailure(Exception):
    """The message can never be delivered here (bot removed, chat gone, forbidden)."""


class Sender(Protocol):
    """A platform's send path: deliver one reply to one chat, or raise one of the above."""

    platform: str

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False) -> None: ...
