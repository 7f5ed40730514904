"""``medbot watch [--once]``: poll, log, deliver, with a sender for every available platform.

Without a platform's token its announcements stay queued, and ``--once`` says how many
wait and which variable would send them. The console platform always delivers.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from datetime import timedelta

from bot.core.bot import MedBot
from bot.core.i18n import plural
from bot.core.sending import Sender
from bot.core.settings import Settings
from bot.run.platforms import PLATFORMS, connect_all, install_redaction, senders_of
from bot.store.election import open_election
from bot.store.records import SourceState, utcnow
from bot.watch.delivery import deliver
from bot.watch.loop import http_client, index_updater, prepare, run_watcher
from bot.watch.poll import SourceReport, poll_once

__all__ = ["describe_outcome", "watch_main"]

log = logging.getLogger(__name__)


async def watch_main(settings: Settings, once: bool, force: bool = False) -> int:
    """Poll (once, or every interval until a signal) and deliver.

    1 if a platform refuses to start, or (``once``) when every poll that was due failed,
    so cron and monitoring see an outage; ``force`` polls sources in backoff too.
    """
    install_redaction(settings)
    core = await asyncio.to_thread(lambda: MedBot.load(settings=settings, sync=False))
    try:
        async with AsyncExitStack() as platforms:
            try:
                connections = await connect_all(core, settings, platforms, chat=False)
            except Exception as exc:  # a rejected token, an unreachable API: one line (redacted), details at -vv
                log.error("medbot watch could not start: %s", exc)
                log.debug("start-up failure", exc_info=True)
                return 1
            senders = senders_of(connections)
            if not once:
                stop = asyncio.Event()
                _stop_on_signals(stop)
                await run_watcher(core, settings, senders, stop, open_election(settings.state_url))
                return 0
            return await _once(core, settings, senders, force)
    finally:
        await asyncio.to_thread(core.close)


async def _once(core: MedBot, settings: Settings, senders: dict[str, Sender], force: bool = False) -> int:
    store = core.store
    await asyncio.to_thread(prepare, store, settings)
    async with http_client(settings) as client:
        report = await poll_once(store, settings, client, on_update=index_updater(core), force=force)
    delivered = await deliver(store, senders, settings)
    states = await asyncio.to_thread(store.source_states)
    for item in report.sources:
        print(f"{item.name}: {describe_outcome(item, states.get(item.name))}")
    print(f"announcements sent: {plural('en', 'message', delivered.messages)} for {plural('en', 'entry', delivered.entries)}")
    waiting = await asyncio.to_thread(store.due_outbox, utcnow() + timedelta(days=3650))
    missing = sorted({row.platform for row in waiting} - set(senders))
    if waiting:
        variables = [p.token_env for p in PLATFORMS if p.name in missing and p.token_env]
        hint = f" (no sender for {', '.join(missing)}: set {', '.join(variables)})" if missing else ""
        print(f"{plural('en', 'announcement', len(waiting))} still queued{hint}")
    due = [item for item in report.sources if item.outcome != "skipped"]
    failed = [item for item in due if item.outcome == "failed"]
    if failed:
        print(f"{len(failed)} of {len(due)} due poll{'s' if len(due) != 1 else ''} failed")
    return 1 if due and len(failed) == len(due) else 0


def describe_outcome(item: SourceReport, state: SourceState | None) -> str:
    """One line for the operator about what a poll of one source did."""
    if item.outcome == "skipped" and state is not None and state.next_poll is not None:
        return f"backing off after failures (next poll {state.next_poll:%Y-%m-%d %H:%M} UTC)"
    return {
        "baseline": f"first version recorded ({plural('en', 'entry', state.entries if state else 0)}; nothing announced)",
        "changed": f"changed: {plural('en', 'new_entry', len(item.new_entries))}",
        "confirmed": f"mass change confirmed: {plural('en', 'new_entry', len(item.new_entries))}, one digest",
        "held": "changed a lot at once: held until the next poll sees it again",
        "failed": f"failed: {item.error}",
    }.get(item.outcome, item.outcome)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
