"""A lab for the routing stories: one local list, a core over it, polls on an injected clock.

The list grows by ``add_papers``; ``poll`` runs the watcher's real poll at a given
moment, and ``deliver_at`` the real delivery with that moment as its clock, so a
"daily 08:00" digest is tested without waiting for 08:00.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.core.bot import MedBot
from bot.core.config import Settings, load_settings
from bot.core.sending import Sender
from bot.watch.delivery import DeliveryReport, RateLimiter, deliver
from bot.watch.poll import poll_once

LAB_LIST = "# Lab list\n\n## Papers\n\n* [Zebrafish lesion atlas](https://example.org/zf-atlas) - an atlas of lesions\n"


def paper_line(title: str, description: str = "a new paper") -> str:
    slug = "-".join(title.lower().split())
    return f"* [{title}](https://example.org/{slug}) - {description}\n"


class Lab:
    def __init__(self, tmp_path: Path, environ: Mapping[str, str], watch: str = "digest_after: 5") -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.list_path = tmp_path / "lab.md"
        self.list_path.write_text(LAB_LIST, encoding="utf-8")
        config = tmp_path / "medbot.yaml"
        config.write_text("sources:\n  - name: lab-list\n    path: lab.md\nwatch: {" + watch + "}\n", encoding="utf-8")
        self.settings: Settings = load_settings(config, tmp_path / "data", environ=dict(environ))
        self.core = MedBot.load(settings=self.settings)

    def add_papers(self, *lines: str) -> None:
        self.list_path.write_text(self.list_path.read_text(encoding="utf-8") + "".join(lines), encoding="utf-8")

    async def poll(self, now: datetime) -> None:
        async with httpx.AsyncClient() as client:
            await poll_once(self.core.store, self.settings, client, now=now, force=True)

    async def deliver_at(self, now: datetime, senders: Mapping[str, Sender]) -> DeliveryReport:
        async def no_sleep(_seconds: float) -> None:
            return None

        limiter = RateLimiter({name: sender.limits for name, sender in senders.items()}, sleep=no_sleep)
        return await deliver(self.core.store, senders, self.settings, limiter=limiter, clock=lambda: now, sleep=no_sleep)

    def entry_id(self, title: str) -> str:
        """The short id the watcher logged for the paper called ``title``."""
        found = [item for item in self.core.store.logged_since(datetime(2000, 1, 1, tzinfo=UTC)) if item.entry.title == title]
        assert found, f"{title} was never logged"
        return found[0].entry.id


@asynccontextmanager
async def lab(tmp_path: Path, environ: Mapping[str, str], watch: str = "digest_after: 5") -> AsyncIterator[Lab]:
    opened = Lab(tmp_path, environ, watch)
    try:
        yield opened
    finally:
        opened.core.close()


def texts(calls: list[Any]) -> list[str]:
    return [str(call.params.get("text", "")) for call in calls]
