"""The real core seen through a spy: records what the adapter asked, and can misbehave.

Adapters must survive a core that is slow or raises; the real core does neither on
purpose, so tests inject exactly that at the seam (``handle``) and nothing deeper.
Everything else is delegated to the real ``MedBot``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.app import Context
from bot.core.replies import Reply


class SpyCore:
    def __init__(self, core: Any) -> None:
        self.core = core
        self.seen: list[tuple[str, Context]] = []
        self.fail_on: set[str] = set()  # texts (or inline queries) whose handling raises (a bug in the core)
        self.gate: asyncio.Event | None = None  # when set, handle waits for it (a slow core)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.core, name)

    async def handle(self, text: str, ctx: Context) -> Reply | None:
        self.seen.append((text, ctx))
        if text in self.fail_on:
            raise RuntimeError("the index exploded")
        if self.gate is not None:
            await self.gate.wait()
        return await self.core.handle(text, ctx)

    async def inline_search(self, query: str, ctx: Context, limit: int = 10) -> list[Any]:
        if query in self.fail_on:
            raise RuntimeError("the index exploded")
        return list(await self.core.inline_search(query, ctx, limit=limit))

    @property
    def index(self) -> Any:
        """The real index, except that a search for a ``fail_on`` text raises (inline pages search it)."""
        return _FailingIndex(self.core.index, self.fail_on) if self.fail_on else self.core.index


    async def press(self, payload: str, ctx: Context) -> Reply:
        if self.gate is not None:
            await self.gate.wait()
        return await self.core.press(payload, ctx)


class _FailingIndex:
    def __init__(self, index: Any, fail_on: set[str]) -> None:
        self._index, self._fail_on = index, fail_on

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)

    def search(self, query: str, **options: Any) -> Any:
        if query in self._fail_on:
            raise RuntimeError("the index exploded")
        return self._index.search(query, **options)


def core_for_list(directory: Any, markdown: str) -> Any:
    """A real core serving one lab list written to ``directory`` (its own index and state)."""
    from bot.core.bot import MedBot

    (directory / "lab.md").write_text(markdown, encoding="utf-8")
    config = directory / "medbot.yaml"
    config.write_text("sources:\n  - name: lab-list\n    path: lab.md\n", encoding="utf-8")
    return MedBot.load(config_path=config, data_dir=directory / "data")
