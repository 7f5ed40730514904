"""The web page: a read-only, server-rendered site over the same core as the chats.

Flow: ``server`` runs ``app.build_app(core)`` (aiohttp) -> a handler asks the core
through ``core_api`` (the only module importing ``bot``) -> ``render`` fills a Jinja2
template (autoescaped, http(s)-only links) -> ``app``'s middleware adds the security
headers. Words of the page itself live in ``i18n``.

Importing this package is cheap (aiohttp and Jinja2 are the optional ``web`` extra):
``connect`` imports the server when ``medbot serve`` starts the page.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from adapters.web.settings import WebSettings
from bot.core.platform import Platform
from bot.core.sending import Sender

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.settings import Settings

__all__ = ["PLATFORM", "WebSettings"]


class WebConnection:
    """The page served as one part of ``medbot serve``; it delivers no announcements."""

    sender: Sender | None = None

    def __init__(self, task: asyncio.Task[None], stop: asyncio.Event) -> None:
        self._task = task
        self._stop = stop

    async def wait_closed(self) -> None:
        await asyncio.shield(self._task)

    async def close(self) -> None:
        self._stop.set()
        await self._task


async def _connect(core: MedBot, settings: Settings, chat: bool) -> WebConnection:
    from adapters.web.server import run_web

    options = settings.platform("web", WebSettings)
    stop = asyncio.Event()
    task = asyncio.create_task(run_web(core, options.host, options.port, stop), name="web")
    return WebConnection(task, stop)


def _enabled(settings: Settings) -> bool:
    return settings.platform("web", WebSettings).port > 0


def _transient(exc: BaseException) -> bool:
    """Never: the page reaches no remote API, and a port already taken does not free itself."""
    return False


PLATFORM = Platform(name="web", settings_type=WebSettings, connect=_connect, enabled=_enabled, transient=_transient)
