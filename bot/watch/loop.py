"""The watcher as a long-running task: poll every ``watch.interval`` (with jitter), deliver between.

It is given its senders: which platforms exist is the composition root's business.
With workers sharing a state, every worker delivers (claims keep them apart) but only
the holder of the watcher election polls; the role is asked for every round, so a
dead holder's role passes to the next worker within one ``watch.tick``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

import httpx

from bot.core.sending import Sender
from bot.core.settings import Settings
from bot.store.election import Election
from bot.store.sqlite import Store
from bot.watch.delivery import deliver
from bot.watch.fetch import USER_AGENT
from bot.watch.poll import OnUpdate, jittered, poll_once
from index.model import ListDocument

if TYPE_CHECKING:
    from bot.core.bot import MedBot

__all__ = ["DELIVERY_TICK", "http_client", "index_updater", "prepare", "run_watcher"]

log = logging.getLogger(__name__)

DELIVERY_TICK = 30.0
"""Between polls, the outbox is retried this often (deferred and flood-limited messages)."""


def http_client(settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client a watcher polls with."""
    return httpx.AsyncClient(timeout=settings.watch.timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


def index_updater(core: MedBot) -> OnUpdate:
    """The core's index, updated for one source on the index thread."""

    async def on_update(name: str, fingerprint_text: str, document: ListDocument) -> None:
        await core.run_index(lambda: core.index.update_source(name, fingerprint_text, document))

    return on_update


def prepare(store: Store, settings: Settings) -> int:
    """Start-up: resume rows a crash left in flight; make config announce chats subscriptions."""
    resumed = store.reset_sending()
    store.sync_config_subscriptions((t.platform, t.chat_id, t.filter) for t in settings.watch.announce)
    return resumed


OnRole = Callable[[bool], Awaitable[None]]
"""Told when this worker gains (True) or loses (False) the watcher role (Telegram polling follows it)."""


async def run_watcher(
    core: MedBot, settings: Settings, senders: Mapping[str, Sender], stop: asyncio.Event,
    election: Election | None = None, on_role: OnRole | None = None,
) -> None:
    """Poll (when elected) and deliver until ``stop``; one failing round is logged and the next one tried."""
    store = core.store
    election = election or Election()
    on_update = index_updater(core)
    resumed = await asyncio.to_thread(prepare, store, settings)
    if resumed:
        log.info("resuming %d announcements interrupted by the last stop", resumed)
    rng = random.Random()
    loop = asyncio.get_running_loop()
    next_poll = loop.time()
    tick = settings.watch.tick or DELIVERY_TICK
    leader = False
    try:
        async with http_client(settings) as client:
            while not stop.is_set():
                try:
                    elected = await asyncio.to_thread(election.hold)
                    if elected != leader:
                        leader, next_poll = elected, loop.time()
                        if on_role is not None:
                            await on_role(leader)
                    if leader and loop.time() >= next_poll:
                        log.info("watcher poll starts")
                        await poll_once(store, settings, client, on_update=on_update, stop=stop)
                        log.info("watcher poll ends")
                        next_poll = loop.time() + jittered(settings.watch.interval, settings.watch.jitter, rng)
                        if stop.is_set():
                            break
                    await deliver(store, senders, settings)
                except Exception:  # one bad round must not end announcements for good
                    log.exception("watcher round failed; trying again later")
                pause = max(0.0, min(tick, next_poll - loop.time())) if leader else tick
                try:
                    await asyncio.wait_for(stop.wait(), timeout=pause or 0.01)
                except TimeoutError:
                    pass
    finally:
        await asyncio.to_thread(election.close)
        if leader and on_role is not None:
            await on_role(False)
