"""The console: ``medbot chat`` on a terminal, and the ``console`` announcement target.

A ``watch.announce`` entry with ``platform: console`` prints announcements to stdout,
which is how a lab tries the watcher before it has a bot token.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, TextIO

import msgspec

from adapters.console.chat import render, run_console
from bot.core.platform import Platform
from bot.core.replies import Reply
from bot.core.sending import RateLimit

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.settings import Settings

__all__ = ["PLATFORM", "ConsoleSender", "render", "run_console"]


class ConsoleSender:
    """Announcements for ``console`` subscriptions: printed as plain text."""

    platform = "console"
    limits = RateLimit()

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False, thread: str = "") -> None:
        stream = self.stream or sys.stdout
        where = f"{chat_id} thread {thread}" if thread else chat_id
        stream.write(f"[{where}] {render(reply)}\n\n")
        stream.flush()


class ConsoleConnection:
    def __init__(self) -> None:
        self.sender = ConsoleSender()
        self._closed = asyncio.Event()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        self._closed.set()


async def _connect(core: MedBot, settings: Settings, chat: bool) -> ConsoleConnection:
    return ConsoleConnection()


class ConsoleSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The console has no settings of its own."""


def _transient(exc: BaseException) -> bool:
    """Never: printing to stdout has nothing to reach."""
    return False


PLATFORM = Platform(name="console", settings_type=ConsoleSettings, connect=_connect, chat=False, transient=_transient)
