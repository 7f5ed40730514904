"""``medbot serve``: the chat platforms and the watcher in one asyncio loop.

Only the platforms whose token is set are started, and each adapter imports its library
when started, so a Telegram-only deployment never imports discord.py. Ctrl-C and
SIGTERM set one ``stop`` event; shutdown then runs in order: the tasks that watch
``stop`` wind down, then each platform stops (Telegram stops polling, finishes its
handlers and closes its HTTP clients), then the core closes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
import sys
from contextlib import AsyncExitStack, suppress
from typing import TYPE_CHECKING, Any

from bot.core.platform import Platform
from bot.core.sending import Sender
from bot.core.settings import ConfigError
from bot.core.synonyms import SynonymsFollower
from bot.run.election import ElectedReceivers
from bot.run.lock import DataDirBusy, hold_lock
from bot.run.platforms import PLATFORMS, chat_platforms, connect_one, install_redaction, load
from bot.store.database import StoreVersionError
from bot.store.election import open_election
from bot.store.engine import StateUnavailable
from bot.watch.enrich import run_enricher
from bot.watch.linkcheck import run_linkchecker
from bot.watch.loop import run_watcher
from index.search_synonyms import SynonymsError

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.settings import Settings

__all__ = ["run_service", "serve"]

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 10.0
BACKGROUND = {"watcher", "synonyms"}
"""The tasks given a grace period to finish what they are writing. The others (platform
waiters, the enricher and the link checker, whose every write is one transaction) are
cancelled at once, so a stop never waits on a slow metadata service."""


def no_platform_message() -> str:
    variables = " and/or ".join(p.token_env for p in PLATFORMS if p.chat and p.token_env)
    return f"medbot serve: nothing to run: set {variables}, or web.port (MEDBOT_WEB_PORT)"


def serve(config_path: str | None, data_dir: str | None) -> int:
    """Run until Ctrl-C or SIGTERM; 0 on a clean stop, 1 if a part failed, 2 on bad setup."""
    try:
        settings = load(config_path, data_dir)
    except ConfigError as exc:
        print(f"medbot: {exc}", file=sys.stderr)
        return 2
    if not chat_platforms(settings):
        print(no_platform_message(), file=sys.stderr)
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_redaction(settings)

    try:
        lock = hold_lock(settings.data_dir)
    except DataDirBusy as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"medbot: cannot use the data dir: {exc}", file=sys.stderr)
        return 2
    with lock:
        return _serve_locked(settings)


def _serve_locked(settings: Settings) -> int:
    from bot.core.bot import MedBot

    try:
        core = MedBot.load(settings=settings)
    except OSError as exc:
        print(f"medbot: cannot use the data dir: {exc}", file=sys.stderr)
        return 2
    except (SynonymsError, StoreVersionError, StateUnavailable) as exc:
        print(f"medbot: {exc}", file=sys.stderr)
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
    tasks: dict[str, asyncio.Task[None]] = {}
    exit_code = 0
    async with AsyncExitStack() as platforms:
        try:
            await core.warm()
            senders: dict[str, Sender] = {}
            election = open_election(settings.state_url)
            elected_only = [p for p in chat_platforms(settings) if core.store.shared and p.single_receiver(settings)]
            for platform in chat_platforms(settings):
                try:
                    connection = await connect_one(core, settings, platforms, platform, chat=platform not in elected_only)
                except Exception as exc:
                    if not platform.retryable(exc):
                        raise
                    log.warning("%s is unreachable at start-up (%s); retrying in the background", platform.name, exc)
                    tasks[platform.name] = asyncio.create_task(
                        _keep_connecting(core, settings, platforms, platform, senders, stop), name=platform.name)
                    continue
                if connection.sender is not None:  # the web page answers but delivers nothing
                    senders[platform.name] = connection.sender
                tasks[platform.name] = asyncio.create_task(connection.wait_closed(), name=platform.name)
            on_role = ElectedReceivers(core, settings, elected_only) if elected_only else None
            tasks["watcher"] = asyncio.create_task(run_watcher(core, settings, senders, stop, election, on_role), name="watcher")
            tasks["synonyms"] = asyncio.create_task(follow_synonyms(core, settings, stop), name="synonyms")
            # slow background passes; each returns at once when turned off (enrich: false, linkcheck: false)
            tasks["enricher"] = asyncio.create_task(run_enricher(core, settings, stop), name="enricher")
            tasks["linkchecker"] = asyncio.create_task(run_linkchecker(core, settings, stop), name="linkchecker")
            log.info("medbot is serving (%s); stop with Ctrl-C or SIGTERM", ", ".join(tasks))
            exit_code = await _wait(stop, tasks)
        except Exception as exc:  # a rejected token, an unreachable API: one line, details at -vv
            log.error("medbot serve could not start: %s", exc)
            log.debug("start-up failure", exc_info=True)
            exit_code = 1
        finally:
            stop.set()
            await _finish(tasks)
    await _close(core)
    for signum in installed:
        loop.remove_signal_handler(signum)
    log.info("medbot stopped")
    return exit_code


RETRY_SECONDS = (2.0, 5.0, 15.0, 30.0, 60.0)


async def _keep_connecting(core: MedBot, settings: Settings, stack: AsyncExitStack, platform: Platform,
                           senders: dict[str, Sender], stop: asyncio.Event) -> None:
    """Retry a platform unreachable at start-up with backoff, then serve it like the others."""
    for attempt in itertools.count():
        delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return
        try:
            connection = await connect_one(core, settings, stack, platform, chat=True)
        except Exception as exc:
            if not platform.retryable(exc):
                raise
            log.warning("%s still unreachable (%s); next try in %gs", platform.name, exc,
                        RETRY_SECONDS[min(attempt + 1, len(RETRY_SECONDS) - 1)])
            continue
        log.info("%s connected", platform.name)
        if connection.sender is not None:
            senders[platform.name] = connection.sender  # the watcher delivers through it from now on
        await connection.wait_closed()
        return


SYNONYMS_CHECK_SECONDS = 5.0


async def follow_synonyms(core: MedBot, settings: Settings, stop: asyncio.Event) -> None:
    """Pick up edits to the synonyms file while serving; a broken edit keeps the last good map."""
    follower = SynonymsFollower(core.index, settings.synonyms_path)
    while not stop.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SYNONYMS_CHECK_SECONDS)
        if not stop.is_set():
            await core.run_index(follower.check)


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
    pending = [task for name, task in tasks.items() if not task.done() and name in BACKGROUND]
    if pending:
        _, late = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
        for task in late:
            log.warning("%s did not stop within %gs; cancelling it", task.get_name(), SHUTDOWN_GRACE)
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for name, task in tasks.items():
        if name not in BACKGROUND and not task.done():
            task.cancel()  # waiting on a platform; the platform itself is closed by the exit stack
    await asyncio.gather(*tasks.values(), return_exceptions=True)


async def _close(core: MedBot) -> None:
    """Close the core (store, index) in a thread: it waits for the index thread's search."""
    try:
        await asyncio.to_thread(core.close)
    except Exception:
        log.warning("closing the core failed", exc_info=True)
