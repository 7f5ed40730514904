"""MedBot: the object adapters hold. (Interface first; the implementation lands next.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import Context
    from bot.commands import CommandSpec
    from bot.replies import EntryView, Reply


class MedBot:
    """The core. See bot/app.py for the contract adapters rely on."""

    @classmethod
    def load(cls, config_path: str | None = None, data_dir: str | None = None) -> "MedBot":
        raise NotImplementedError

    @property
    def commands(self) -> "list[CommandSpec]":
        raise NotImplementedError

    async def handle(self, text: str, ctx: "Context") -> "Reply | None":
        raise NotImplementedError

    async def press(self, payload: str, ctx: "Context") -> "Reply":
        raise NotImplementedError

    async def inline_search(self, query: str, ctx: "Context", limit: int = 10) -> "list[EntryView]":
        raise NotImplementedError

    async def complete_topic(self, prefix: str, limit: int = 25) -> "list[str]":
        raise NotImplementedError
