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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.core.config import Settings, SourceConfig
from bot.core.saved_search import saved_search
from bot.core.sources import store_fingerprint
from bot.store import poll_states
from bot.store.sqlite import SourceState, Store, Version, utcnow
from bot.watch.fetch import Fetched, FetchFailed, check_text, fetch_url, read_path
from bot.watch.guard import held_reason, trustworthy_added
from index.diff import diff
from index.model import Entry, ListDocument
from index.parser import parse

__all__ = ["OnUpdate", "PollReport", "SourceReport", "jittered", "poll_once"]

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
    stop: asyncio.Event | None = None,
) -> PollReport:
    """Poll every configured source once (sources in backoff wait unless ``force``).

    When ``stop`` is set the poll is abandoned at once: downloads in flight are dropped
    and sources not processed yet are left as they were, so each is polled again next
    time. A source being processed finishes first (its state is one transaction).
    """
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

    fetching = asyncio.ensure_future(asyncio.gather(*(fetch(source) for source in watched), return_exceptions=True))
    if not await _unless_stopped(fetching, stop):
        log.info("stopping: this poll's downloads are abandoned; every source is polled again next time")
        return report
    for source, result in zip(watched, fetching.result(), strict=True):
        if stop is not None and stop.is_set():  # the sources not reached yet keep their state
            log.info("stopping: %s and the sources after it are polled again next time", source.name)
            break
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


async def _unless_stopped(work: asyncio.Future[Any], stop: asyncio.Event | None) -> bool:
    """Wait for ``work``; if ``stop`` comes first, cancel it and say False."""
    if stop is None:
        await work
        return True
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if work.done():
        return True
    work.cancel()
    await asyncio.gather(work, return_exceptions=True)
    return False


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
        validators = {"etag": fetched.etag, "last_modified": fetched.last_modified} if not pending else {}
        await asyncio.to_thread(
            store.update_source, name,
            lambda source: poll_states.unchanged(source, now, mtime=fetched.mtime, release_hold=pending, **validators),
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
        await _adopt(store, name, version, document, now, poll_id, on_update, candidates=[], digest=False, match=None)
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
            store.update_source, name,
            lambda source: poll_states.held(source, now, content_hash=content_hash, reason=reason,
                                            etag=fetched.etag, last_modified=fetched.last_modified),
            pending_text=text,
        )
        return SourceReport(name, "held")
    new = await _adopt(store, name, version, document, now, poll_id, on_update, candidates=added, digest=confirmed,
                       match=saved_search(settings.synonyms_path), timezone=settings.watch.timezone)
    log.info("%s: new version, %d added by diff, %d new", name, len(added), len(new))
    return SourceReport(name, "confirmed" if confirmed else "changed", tuple(new))


async def _adopt(
    store: Store, name: str, version: Version, document: ListDocument, now: datetime, poll_id: int,
    on_update: OnUpdate | None, *, candidates: list[Entry], digest: bool, match: Callable[[str, Entry], bool] | None,
    timezone: str = "UTC",
) -> list[Entry]:
    """Index first (idempotent by fingerprint), then one transaction for all the state."""
    if on_update is not None:
        await on_update(name, store_fingerprint(version.content_hash), document)
    return await asyncio.to_thread(
        lambda: store.accept_version(name, version, now=now, poll_id=poll_id, candidates=candidates, match=match, digest=digest,
                                     timezone=timezone)
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
    next_poll = now + _backoff(settings, failures, retry_after)
    state = await asyncio.to_thread(store.update_source, name, lambda source: poll_states.failed(source, now, error, next_poll))
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
    await asyncio.to_thread(store.update_source, name, lambda source: poll_states.alert_sent(source, alerted))


def jittered(interval: float, jitter: float, rng: random.Random) -> float:
    """The pause before the next poll: ``interval`` give or take ``jitter`` of it."""
    return max(1.0, interval * (1.0 + rng.uniform(-jitter, jitter)))
