"""Running the site: ``medbot web`` on its own, or as one task of ``medbot serve``.

aiohttp's ``AppRunner`` leaves signal handling to its caller, so inside ``medbot serve``
the service's one ``stop`` event ends the site with everything else.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.web.app import build_app
from adapters.web.core_api import list_topics

if TYPE_CHECKING:
    from adapters.web.core_api import MedBot

__all__ = ["DEFAULT_PORT", "run_web", "start_site", "web_main"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080

_WARMING: set[asyncio.Task[object]] = set()


def _warmed(task: asyncio.Task[object]) -> None:
    _WARMING.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("counting the section trees failed", exc_info=task.exception())


async def start_site(core: MedBot, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``core`` on ``host:port`` (0 picks a free port); returns the runner and the port."""
    runner = web.AppRunner(build_app(core), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    bound = int(addresses[0][1]) if addresses else port
    log.info("web page on http://%s:%d/", host, bound)
    # The per-list section trees take seconds to count on a large haystack: do it now,
    # on the index thread, rather than on the first visitor's /topics.
    warm = asyncio.get_running_loop().create_task(list_topics(core), name="web-warm-topics")
    _WARMING.add(warm)  # the loop keeps only a weak reference to a task
    warm.add_done_callback(_warmed)
    return runner, bound


async def run_web(core: MedBot, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set (the service task ``medbot serve`` runs)."""
    runner, _ = await start_site(core, host, port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def web_main(core: MedBot, host: str, port: int) -> int:
    """``medbot web``: serve until Ctrl-C or SIGTERM; exit status 0."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await core.warm()
        runner, bound = await start_site(core, host, port)
        print(f"medbot web: serving on http://{host}:{bound}/ (Ctrl-C to stop)", flush=True)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())
    return 0
