"""Polling the upstream lists: fetch politely, distrust odd versions, log what is truly new.

One poll visits every source. A URL is fetched with a conditional GET (ETag,
Last-Modified) under a timeout and a size cap; a local file is checked by modification
time and hash. A version is adopted only if it looks like the list it replaces: an HTML
error page, a truncated body or a version that lost its entries is a failed poll (the
good snapshot stays), and a version that loses more than half its entries or adds more
than ``watch.max_added`` at once is held until a second poll sees it again, then
announced as one digest. The first good version of a source is a baseline: nothing is
announced for it. Adopting a version updates that source in the index, then commits the
snapshot, the new entries and their outbox rows in one transaction, before any sending.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.core.config import Settings, SourceConfig
from bot.core.sending import Sender
from bot.watch.fetch import USER_AGENT, Fetched, FetchFailed, check_text, fetch_url, read_path
from bot.watch.guard import held_reason, trustworthy_added
from bot.core.sources import store_fingerprint
from bot.store.sqlite import SourceState, Store, Version, utcnow
from bot.core.commands.subscriptions import filter_matches
from index.diff import diff
from index.model import Entry, ListDocument
from index.parser import parse

__all__ = ["PollReport", "SourceReport", "poll_once", "run_watcher", "watch_main"]

log = logging.getLogger(__name__)

MAX_CONCURRENT_FETCHES = 32

OnUpdate = Callable[[str, str, ListDocument], Awaitable[object]]
"""``await on_update(name, fingerprint, document)``: put one source's new version in the index."""

MAX_BACKOFF = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class SourceReport:
    name: str
    outcome: str  # baseline | unchanged | changed | held | confirmed | failed | skipped
    new_entries: tuple[Entry, ...] = ()
    error: str | None = None


@dataclass(slots=True)
class PollReport:
    poll_id: int
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def new_entries(self) -> list[Entry]:
        return [entry for source in self.sources for entry in source.new_entries]

    def outcome(self, name: str) -> str:
        return next((s.outcome for s in self.sources if s.name == name), "missing")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _added(old: ListDocument, new: ListDocument) -> list[Entry]:
    """Entries of ``new`` the diff calls added (moves, restyles and edits are not)."""
    return list(diff(old, new).added)


async def poll_once(
    store: Store,
    settings: Settings,
    client: httpx.AsyncClient,
    *,
    on_update: OnUpdate | None = None,
    now: datetime | None = None,
    force: bool = False,
) -> PollReport:
    """Poll every configured source once (sources in backoff wait unless ``force``)."""
    moment = now or utcnow()
    poll_id = await asyncio.to_thread(store.begin_poll, moment)
    report = PollReport(poll_id)
    states = await asyncio.to_thread(store.source_states)
    watched = [source for source in settings.sources if source.url or source.path]
    # A bounded number of fetches at once: queued behind the client's connection pool,
    # the rest would spend their timeout waiting for a connection, not for the server.
    slots = asyncio.Semaphore(MAX_CONCURRENT_FETCHES)

    async def fetch(source: SourceConfig) -> Fetched | None:
        async with slots:
            return await _fetch(client, settings, source, states.get(source.name), moment, force)

    results = await asyncio.gather(*(fetch(source) for source in watched), return_exceptions=True)
    for source, result in zip(watched, results, strict=True):
        state = states.get(source.name)
        if result is None:
            report.sources.append(SourceReport(source.name, "skipped"))
            continue
        try:
            if isinstance(result, BaseException):
                raise result
            outcome = await _process(store, settings, source, state, result, moment, poll_id, on_update)
        except FetchFailed as exc:
            outcome = await _failed(store, settings, source.name, str(exc), exc.retry_after, moment)
        except Exception as exc:  # a bug or an index failure: log it, keep the good state, go on
            log.exception("polling %s failed", source.name)
            outcome = await _failed(store, settings, source.name, f"internal error: {exc!r}"[:300], None, moment)
        else:
            await _recovered(store, settings, source.name, moment)
        report.sources.append(outcome)
    return report


async def _fetch(
    client: httpx.AsyncClient, settings: Settings, source: SourceConfig, state: SourceState | None, now: datetime, force: bool
) -> Fetched | None:
    if not force and state is not None and state.next_poll is not None and state.next_poll > now:
        return None
    watch = settings.watch
    if source.url:
        pending = state is not None and state.pending_hash is not None
        etag = (state.pending_etag if pending else state.etag) if state else None
        modified = (state.pending_last_modified if pending else state.last_modified) if state else None
        return await fetch_url(client, source.url, etag=etag, last_modified=modified, timeout=watch.timeout,
                               max_bytes=watch.max_bytes, redirect_hosts=watch.redirect_hosts)
    assert source.path is not None
    known = state.mtime if state is not None and state.content_hash and state.pending_hash is None else None
    return await asyncio.to_thread(read_path, source.path, known, watch.max_bytes)


async def _process(
    store: Store,
    settings: Settings,
    source: SourceConfig,
    state: SourceState | None,
    fetched: Fetched,
    now: datetime,
    poll_id: int,
    on_update: OnUpdate | None,
) -> SourceReport:
    name = source.name
    pending = state is not None and state.pending_hash is not None
    text = fetched.text
    if text is None and pending:  # 304 to the held version's validators: it persisted
        text = await asyncio.to_thread(store.pending_snapshot, name)
    if text is None or (state is not None and _hash(text) == state.content_hash):
        if pending:
            await asyncio.to_thread(store.clear_pending, name)
        await asyncio.to_thread(
            store.record_unchanged, name, now,
            etag=fetched.etag if not pending else None, last_modified=fetched.last_modified if not pending else None,
            mtime=fetched.mtime,
        )
        return SourceReport(name, "unchanged")
    check_text(text)
    content_hash = _hash(text)
    document = await asyncio.to_thread(parse, text, name)
    version = Version(text, content_hash, document.entries, fetched.etag, fetched.last_modified, fetched.mtime,
                      revision=fetched.etag or fetched.last_modified)
    old_text = await asyncio.to_thread(store.snapshot, name) if state is not None else None
    if old_text is None or state is None or state.content_hash is None:
        if not document.entries:
            raise FetchFailed("no entries found: not an awesome list")
        await _adopt(store, name, version, document, now, poll_id, on_update, candidates=[], digest=False)
        log.info("%s: baseline of %d entries", name, len(document.entries))
        return SourceReport(name, "baseline")
    old_document = await asyncio.to_thread(parse, old_text, name)
    if old_document.entries and not document.entries:
        raise FetchFailed("the new version has no entries (an error page or a broken file?)")
    diffed = await asyncio.to_thread(_added, old_document, document)  # a diff of two whole lists: CPU work
    added = trustworthy_added(document, text, diffed)
    if len(added) < len(diffed):
        log.warning("%s: %d added entries not announced (a malformed URL, or cut by the end of the file)",
                    name, len(diffed) - len(added))
    reason = held_reason(old_document, document, old_text, text, added, max_added=settings.watch.max_added) or ""
    suspicious = bool(reason)
    confirmed = suspicious and state.pending_hash == content_hash
    if suspicious and not confirmed:
        log.warning("%s: %s; holding this version until a second poll sees it again", name, reason)
        await asyncio.to_thread(
            lambda: store.hold_pending(name, now, text=text, content_hash=content_hash, reason=reason,
                                       etag=fetched.etag, last_modified=fetched.last_modified)
        )
        return SourceReport(name, "held")
    new = await _adopt(store, name, version, document, now, poll_id, on_update, candidates=added, digest=confirmed)
    log.info("%s: new version, %d added by diff, %d new", name, len(added), len(new))
    return SourceReport(name, "confirmed" if confirmed else "changed", tuple(new))


async def _adopt(
    store: Store, name: str, version: Version, document: ListDocument, now: datetime, poll_id: int,
    on_update: OnUpdate | None, *, candidates: list[Entry], digest: bool,
) -> list[Entry]:
    """Index first (idempotent by fingerprint), then one transaction for all the state."""
    if on_update is not None:
        await on_update(name, store_fingerprint(version.content_hash), document)
    return await asyncio.to_thread(
        lambda: store.accept_version(name, version, now=now, poll_id=poll_id, candidates=candidates, match=filter_matches, digest=digest)
    )


def _backoff(settings: Settings, failures: int, retry_after: float | None) -> timedelta:
    """After 1, 2, 3, 4... failures in a row, poll again 1, 2, 4, 8... rounds later (at most daily).

    The wait is a little shorter than those rounds so a jittered tick never skips one more.
    """
    interval = max(60.0, settings.watch.interval)
    rounds = 2 ** min(max(0, failures - 1), 16)
    wait = timedelta(seconds=interval * (rounds - settings.watch.jitter - 0.05))
    wait = max(timedelta(0), min(wait, MAX_BACKOFF))
    if retry_after:
        wait = max(wait, timedelta(seconds=min(retry_after, MAX_BACKOFF.total_seconds())))
    return wait


async def _failed(store: Store, settings: Settings, name: str, error: str, retry_after: float | None, now: datetime) -> SourceReport:
    previous = await asyncio.to_thread(store.source_state, name)
    failures = (previous.failures if previous else 0) + 1
    state = await asyncio.to_thread(store.record_failure, name, now, error, now + _backoff(settings, failures, retry_after))
    log.warning("%s: poll failed (%d in a row): %s", name, state.failures, error)
    if state.failures >= settings.watch.alert_after_failures and not state.alerted:
        text = (f"The list “{name}” failed {state.failures} polls in a row (last: {error}). "
                "I keep serving its last good version and will say when it recovers.")
        await _alert(store, settings, name, text, now, alerted=True)
    return SourceReport(name, "failed", error=error)


async def _recovered(store: Store, settings: Settings, name: str, now: datetime) -> None:
    state = await asyncio.to_thread(store.source_state, name)
    if state is not None and state.alerted:
        await _alert(store, settings, name, f"The list “{name}” is reachable again.", now, alerted=False)


async def _alert(store: Store, settings: Settings, name: str, text: str, now: datetime, *, alerted: bool) -> None:
    targets = [(target.platform, target.chat_id) for target in settings.watch.operator_chats]
    if targets:
        await asyncio.to_thread(store.queue_alert, targets, text, now)
    else:
        log.error("%s (no watch.operator_chats configured)", text)
    await asyncio.to_thread(store.set_alerted, name, alerted)


def jittered(interval: float, jitter: float, rng: random.Random) -> float:
    """The pause before the next poll: ``interval`` give or take ``jitter`` of it."""
    return max(1.0, interval * (1.0 + rng.uniform(-jitter, jitter)))


# --- running it -------------------------------------------------------------------------

DELIVERY_TICK = 30.0
"""Between polls, the outbox is retried this often (deferred and flood-limited messages)."""


def _client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=settings.watch.timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=True)


def _index_updater(core: Any) -> OnUpdate | None:
    """The core's index, updated for one source on the index thread (None without an index)."""
    index = getattr(core, "index", None)
    update = getattr(index, "update_source", None)
    if update is None:
        return None
    run_index = getattr(core, "run_index", None)

    async def on_update(name: str, fingerprint_text: str, document: ListDocument) -> None:
        if run_index is not None:
            await run_index(lambda: update(name, fingerprint_text, document))
        else:
            await asyncio.to_thread(update, name, fingerprint_text, document)

    return on_update


def prepare(store: Store, settings: Settings) -> int:
    """Start-up: resume rows a crash left in flight; make config announce chats subscriptions."""
    resumed = store.reset_sending()
    store.sync_config_subscriptions((t.platform, t.chat_id, t.filter) for t in settings.watch.announce)
    return resumed


async def run_watcher(core: Any, settings: Settings, senders: Mapping[str, Sender], stop: asyncio.Event) -> None:
    """``medbot serve``'s watcher: poll every ``watch.interval`` s (with jitter), deliver between."""
    from bot.watch.announce import deliver

    store: Store = core.store
    on_update = _index_updater(core)
    resumed = await asyncio.to_thread(prepare, store, settings)
    if resumed:
        log.info("resuming %d announcements interrupted by the last stop", resumed)
    rng = random.Random()
    loop = asyncio.get_running_loop()
    next_poll = loop.time()
    async with _client(settings) as client:
        while not stop.is_set():
            try:
                if loop.time() >= next_poll:
                    await poll_once(store, settings, client, on_update=on_update)
                    next_poll = loop.time() + jittered(settings.watch.interval, settings.watch.jitter, rng)
                await deliver(store, senders, settings)
            except Exception:  # one bad round must not end announcements for good
                log.exception("watcher round failed; trying again later")
            pause = max(0.0, min(DELIVERY_TICK, next_poll - loop.time()))
            try:
                await asyncio.wait_for(stop.wait(), timeout=pause or 0.01)
            except TimeoutError:
                pass


async def watch_main(settings: Settings, once: bool) -> int:
    """``medbot watch [--once]``: poll, log, deliver; without a platform token rows stay queued."""
    from bot.watch.announce import deliver
    from bot.core.bot import MedBot

    core = await asyncio.to_thread(lambda: MedBot.load(settings=settings, sync=False))
    closers: list[Callable[[], Awaitable[object]]] = []
    try:
        try:
            senders = await _open_senders(core, settings, closers)
        except Exception as exc:  # a rejected token, an unreachable API: one line (redacted), details at -vv
            log.error("medbot watch could not start: %s", exc)
            log.debug("start-up failure", exc_info=True)
            return 1
        if not once:
            stop = asyncio.Event()
            _stop_on_signals(stop)
            await run_watcher(core, settings, senders, stop)
            return 0
        store = core.store
        assert isinstance(store, Store), "the core opens the state store"
        await asyncio.to_thread(prepare, store, settings)
        async with _client(settings) as client:
            report = await poll_once(store, settings, client, on_update=_index_updater(core))
        delivered = await deliver(store, senders, settings)
        states = await asyncio.to_thread(store.source_states)
        for item in report.sources:
            state = states.get(item.name)
            detail = {
                "baseline": f"first version recorded ({state.entries if state else 0} entries; nothing announced)",
                "changed": f"changed: {len(item.new_entries)} new entries",
                "confirmed": f"mass change confirmed: {len(item.new_entries)} new entries, one digest",
                "held": "changed a lot at once: held until the next poll sees it again",
                "failed": f"failed: {item.error}",
                "skipped": f"backing off after failures (next poll {state.next_poll:%Y-%m-%d %H:%M} UTC)" if state and state.next_poll else "skipped",
            }.get(item.outcome, item.outcome)
            print(f"{item.name}: {detail}")
        print(f"announcements sent: {delivered.messages} message(s) for {delivered.entries} entr{'y' if delivered.entries == 1 else 'ies'}")
        waiting = await asyncio.to_thread(store.due_outbox, utcnow() + timedelta(days=3650))
        missing = sorted({row.platform for row in waiting} - set(senders))
        if waiting:
            hint = f" (no sender for {', '.join(missing)}: set {', '.join(p.upper() + '_BOT_TOKEN' for p in missing)})" if missing else ""
            print(f"{len(waiting)} announcement(s) still queued{hint}")
        return 0
    finally:
        for close in closers:
            try:
                await close()
            except Exception:
                log.warning("closing a sender failed", exc_info=True)
        await asyncio.to_thread(core.close)


async def _open_senders(core: Any, settings: Settings, closers: list[Callable[[], Awaitable[object]]]) -> dict[str, Sender]:
    """A sender per platform with a token (through its adapter), plus the console.

    Each sender's closer goes into ``closers`` as soon as it is open, so a later failure
    (the second platform rejecting its token) still closes the first. Discord delivers
    through a connected client, so for a one-off ``watch --once`` the client runs until
    the closers stop it; a send waits (bounded) for it to be ready.
    """
    from bot.watch.announce import ConsoleSender

    senders: dict[str, Sender] = {"console": ConsoleSender()}
    if settings.telegram_token:
        import adapters.telegram_bot as telegram_bot

        application = telegram_bot.build_application(core, settings)
        await application.initialize()
        senders["telegram"] = telegram_bot.TelegramSender(application.bot)
        closers.append(application.shutdown)
    if settings.discord_token:
        import adapters.discord_bot as discord_bot

        client = discord_bot.build_client(core, settings)
        stop = asyncio.Event()
        running = asyncio.create_task(discord_bot.run_client(core, settings, stop, client=client), name="discord")
        senders["discord"] = discord_bot.DiscordSender(client)

        async def close_discord() -> None:
            stop.set()
            await running

        closers.append(close_discord)
    return senders


def _stop_on_signals(stop: asyncio.Event) -> None:
    import signal

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
