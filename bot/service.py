"""``medbot serve``: the chat adapters and the watcher in one asyncio loop.

This is a composition root (like ``bot/cli.py``): it is allowed to import adapters, and
does so lazily, only for the platforms whose token is set, so a Telegram-only
deployment never imports discord.py. Ctrl-C and SIGTERM set one ``stop`` event; shutdown
then runs in order: the tasks that watch ``stop`` wind down, then Telegram stops polling,
finishes its handlers and closes its HTTP clients.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
import sys
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, load_settings

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core import MedBot
    from bot.delivery import Sender

__all__ = ["run_service", "serve"]

log = logging.getLogger(__name__)

NO_TOKEN = "medbot serve: nothing to run: set TELEGRAM_BOT_TOKEN and/or DISCORD_BOT_TOKEN, or web.port (MEDBOT_WEB_PORT)"
SHUTDOWN_GRACE = 10.0


def serve(config_path: str | None, data_dir: str | None) -> int:
    """Run until Ctrl-C or SIGTERM; 0 on a clean stop, 1 if a part failed, 2 on bad setup."""
    try:
        settings = load_settings(config_path, data_dir)
    except ConfigError as exc:
        print(f"medbot: {exc}", file=sys.stderr)
        return 2
    if not settings.telegram_token and not settings.discord_token and not settings.web.port:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.core import MedBot

    try:
        core = MedBot.load(settings=settings)
    except OSError as exc:
        print(f"medbot: cannot use the data dir: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run_service(core, core.settings))
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        return 130


async def run_service(core: MedBot, settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Start every configured part, wait for ``stop`` (or a part failing), shut down in order."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    senders: dict[str, Sender] = {}
    tasks: dict[str, asyncio.Task[None]] = {}
    telegram_app: Any = None
    exit_code = 0
    try:
        from bot.watcher import run_watcher

        await core.warm()

        if settings.telegram_token:
            from adapters.telegram_bot import TelegramSender, build_application, start_application

            telegram_app = build_application(core, settings)
            await start_application(telegram_app, settings)
            senders["telegram"] = TelegramSender(telegram_app.bot)
        if settings.discord_token:
            from adapters.discord_bot import DiscordSender, build_client, run_client

            client = build_client(core, settings)
            senders["discord"] = DiscordSender(client)
            tasks["discord"] = asyncio.create_task(run_client(core, settings, stop, client=client), name="discord")
        if settings.web.port:
            from adapters.web import run_web

            tasks["web"] = asyncio.create_task(run_web(core, settings.web.host, settings.web.port, stop), name="web")
        tasks["watcher"] = asyncio.create_task(run_watcher(core, settings, senders, stop), name="watcher")
        log.info("medbot is serving (%s); stop with Ctrl-C or SIGTERM", ", ".join(["telegram"] * bool(telegram_app) + list(tasks)))
        exit_code = await _wait(stop, tasks)
    except Exception as exc:  # a rejected token, an unreachable API: one line, details at -vv
        log.error("medbot serve could not start: %s", exc)
        log.debug("start-up failure", exc_info=True)
        exit_code = 1
    finally:
        stop.set()
        await _finish(tasks)
        if telegram_app is not None:
            from adapters.telegram_bot import stop_application

            with suppress(Exception):
                await stop_application(telegram_app)
        await _close(core)
        for signum in installed:
            loop.remove_signal_handler(signum)
    log.info("medbot stopped")
    return exit_code


async def _wait(stop: asyncio.Event, tasks: dict[str, asyncio.Task[None]]) -> int:
    """Until ``stop``; a part that ends cleanly just ends, a part that crashes stops all (exit 1)."""
    stopper = asyncio.create_task(stop.wait())
    running: set[asyncio.Task[Any]] = set(tasks.values())
    try:
        while not stop.is_set():
            done, running = await asyncio.wait({stopper, *running}, return_when=asyncio.FIRST_COMPLETED)
            running.discard(stopper)
            for task in done - {stopper}:
                if not task.cancelled() and task.exception() is not None:
                    log.error("%s failed; stopping medbot", task.get_name(), exc_info=task.exception())
                    return 1
                log.info("%s finished", task.get_name())
        return 0
    finally:
        stopper.cancel()


async def _finish(tasks: dict[str, asyncio.Task[None]]) -> None:
    """Give the parts watching ``stop`` a grace period, then cancel what is left."""
    pending = [task for task in tasks.values() if not task.done()]
    if not pending:
        return
    _, late = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
    for task in late:
        log.warning("%s did not stop within %gs; cancelling it", task.get_name(), SHUTDOWN_GRACE)
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def _close(core: Any) -> None:
    """Close the core if it holds resources (store, index) and says how.

    A plain ``close`` runs in a thread: ``MedBot.close`` waits for the index thread to
    finish its current search and closes Whoosh and SQLite, none of it for the loop.
    """
    for name in ("aclose", "close"):
        closer = getattr(core, name, None)
        if callable(closer):
            with suppress(Exception):
                result = await closer() if inspect.iscoroutinefunction(closer) else await asyncio.to_thread(closer)
                if inspect.isawaitable(result):
                    await result
            return
