"""Delivering the outbox: one message per new entry, digests, flood limits, retries.

The watcher has already committed what must be said (outbox rows); this module only
says it, through each platform's ``Sender``. A row goes ``pending -> sending -> sent``
and is marked sent only after the platform accepted the message, one message in flight
at a time, so a crash costs at most one duplicate: rows left in ``sending`` are retried
on the next start (``Store.reset_sending``). Flood limits are respected before sending
and ``retry_after`` after; a chat that removed the bot has its subscriptions disabled.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO

from bot.core.config import Settings
from bot.core.sending import PermanentFailure, RetryLater, Sender
from bot.core.commands.lookup import view_of
from bot.core.replies import EntryView, Reply
from bot.store.sqlite import Alert, LoggedEntry, OutboxItem, Store, utcnow
from bot.watch.announce_notes import announcement_notes

__all__ = [
    "ConsoleSender",
    "DEFAULT_LIMITS",
    "DeliveryReport",
    "RateLimit",
    "RateLimiter",
    "announcement",
    "deliver",
    "digest",
    "entry_view",
]

log = logging.getLogger(__name__)

DIGEST_SHOWN = 20
"""A digest lists this many entries and points to /new for the rest."""
MAX_ATTEMPTS = 8
MAX_INLINE_WAIT = 30.0
"""A ``retry_after`` up to this long is waited out now; longer ones are rescheduled."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Flood limits of one platform: spacing per chat, a per-minute cap, a global rate."""

    chat_interval: float = 0.0
    chat_per_minute: int = 0
    global_per_second: float = 0.0


DEFAULT_LIMITS: dict[str, RateLimit] = {
    # Telegram: ~1 message/s per chat, 20/min per group, ~30/s overall.
    "telegram": RateLimit(chat_interval=1.0, chat_per_minute=20, global_per_second=25.0),
    # Discord: 5 messages / 5 s per channel, 50 requests/s overall.
    "discord": RateLimit(chat_interval=1.0, chat_per_minute=50, global_per_second=40.0),
}


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """Waits just long enough before each send to stay under the platform's limits."""

    def __init__(self, limits: Mapping[str, RateLimit] | None = None, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self._clock = clock
        self._sleep = sleep
        self._chat_sends: dict[tuple[str, str], deque[float]] = {}
        self._platform_last: dict[str, float] = {}

    def delay(self, platform: str, chat: str) -> float:
        """Seconds to wait before the next message to this chat may go."""
        limit = self.limits.get(platform, RateLimit())
        now = self._clock()
        waits = [0.0]
        sends = self._chat_sends.get((platform, chat), deque())
        if sends and limit.chat_interval:
            waits.append(sends[-1] + limit.chat_interval - now)
        if limit.chat_per_minute and len(sends) >= limit.chat_per_minute:
            waits.append(sends[-limit.chat_per_minute] + 60.0 - now)
        last = self._platform_last.get(platform)
        if last is not None and limit.global_per_second:
            waits.append(last + 1.0 / limit.global_per_second - now)
        return max(waits)

    async def wait(self, platform: str, chat: str) -> None:
        pause = self.delay(platform, chat)
        if pause > 0:
            await self._sleep(pause)
        now = self._clock()
        sends = self._chat_sends.setdefault((platform, chat), deque(maxlen=100))
        sends.append(now)
        self._platform_last[platform] = now


@dataclass(slots=True)
class DeliveryReport:
    messages: int = 0
    entries: int = 0
    digests: int = 0
    alerts: int = 0
    retried: int = 0
    failed: int = 0
    disabled_chats: list[tuple[str, str]] = field(default_factory=list)


class ConsoleSender:
    """Announcements for ``console`` subscriptions: printed as plain text."""

    platform = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"[{chat_id}] {reply.plain_text()}\n\n")
        stream.flush()


def entry_view(logged: LoggedEntry) -> EntryView:
    """A logged entry shown the way search results show entries, naming every list it joined."""
    return view_of(logged.entry, logged.sources)


def _lists(sources: Sequence[str]) -> str:
    names = list(dict.fromkeys(sources))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def announcement(logged: LoggedEntry, notes: tuple[str, ...] = ()) -> Reply:
    """One new entry: title, section, the list(s) it was added to, its links (and ``notes``:
    authors, the abstract's first sentence, provenance, when known)."""
    return Reply(title=f"New in {_lists(logged.sources)}", text=notes, entries=(entry_view(logged),), meta={"kind": "announcement"})


def digest(items: Sequence[LoggedEntry], *, mass_change: bool = False) -> Reply:
    """Many new entries for one chat at once: one message instead of a flood."""
    sources = [source for logged in items for source in logged.sources]
    heading = f"{len(items)} new entries in {_lists(sources)}"
    text: tuple[str, ...] = ()
    if mass_change:
        text = ("The list changed a lot at once; here is what it added.",)
    shown = tuple(entry_view(logged) for logged in items[:DIGEST_SHOWN])
    footer = f"…and {len(items) - len(shown)} more: type /new to see them." if len(items) > len(shown) else ""
    return Reply(title=heading, text=text, entries=shown, footer=footer, silent=True, meta={"kind": "digest", "count": len(items)})


@dataclass(frozen=True, slots=True)
class _Message:
    platform: str
    chat: str
    rows: tuple[OutboxItem, ...]
    reply: Reply


def plan_messages(items: Sequence[OutboxItem], digest_after: int,
                  notes: Mapping[str, tuple[str, ...]] | None = None) -> list[_Message]:
    """Group due rows by chat and poll; more than ``digest_after`` become one digest."""
    groups: OrderedDict[tuple[str, str, int], list[OutboxItem]] = OrderedDict()
    for item in items:
        groups.setdefault((item.platform, item.chat, item.poll_id), []).append(item)
    messages = []
    for (platform, chat, _poll), rows in groups.items():
        forced = any(row.digest for row in rows)
        if forced or len(rows) > digest_after:
            reply = digest([row.logged for row in rows], mass_change=forced)
            messages.append(_Message(platform, chat, tuple(rows), reply))
        else:
            messages.extend(_Message(platform, chat, (row,), announcement(row.logged, (notes or {}).get(row.logged.entry.key, ())))
                            for row in rows)
    return messages


def _round_robin(messages: Sequence[_Message]) -> list[_Message]:
    """Take turns between chats (each keeps its order), so one chat's flood limit delays no other."""
    queues: OrderedDict[tuple[str, str], deque[_Message]] = OrderedDict()
    for message in messages:
        queues.setdefault((message.platform, message.chat), deque()).append(message)
    ordered: list[_Message] = []
    while queues:
        for chat in list(queues):
            ordered.append(queues[chat].popleft())
            if not queues[chat]:
                del queues[chat]
    return ordered


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600.0, 30.0 * 2 ** max(0, attempts - 1)))


async def deliver(
    store: Store,
    senders: Mapping[str, Sender],
    settings: Settings,
    *,
    limiter: RateLimiter | None = None,
    clock: Callable[[], datetime] = utcnow,
    sleep: Sleep = asyncio.sleep,
) -> DeliveryReport:
    """Send what is due for every platform that has a sender; the rest stays queued."""
    limiter = limiter or RateLimiter(sleep=sleep)
    report = DeliveryReport()
    platforms = list(senders)
    for alert in await asyncio.to_thread(store.due_alerts, clock(), platforms):
        await _send_alert(store, senders[alert.platform], alert, limiter, clock, report)
    items = await asyncio.to_thread(store.due_outbox, clock(), platforms)
    deferred: dict[tuple[str, str], datetime | None] = {}
    notes = await asyncio.to_thread(announcement_notes, store, [item.logged for item in items]) if items else {}
    for message in _round_robin(plan_messages(items, settings.watch.digest_after, notes)):
        chat = (message.platform, message.chat)
        if chat in deferred:
            # Keep the chat's order: what comes after a deferred message waits with it.
            later = deferred[chat]
            if later is not None:
                await asyncio.to_thread(store.mark, [row.id for row in message.rows], "pending", next_try=later)
            continue
        ok, later = await _send_message(store, senders[message.platform], message, limiter, clock, sleep, report)
        if not ok:
            deferred[chat] = later
    return report


async def _send_message(
    store: Store, sender: Sender, message: _Message, limiter: RateLimiter, clock: Callable[[], datetime], sleep: Sleep, report: DeliveryReport
) -> tuple[bool, datetime | None]:
    """Send one message for its rows; (False, next try) when the chat must wait or is gone."""
    ids = [row.id for row in message.rows]
    attempts = max(row.attempts for row in message.rows)
    while True:
        await limiter.wait(message.platform, message.chat)
        await asyncio.to_thread(store.mark, ids, "sending", attempt=True)
        attempts += 1
        try:
            await sender.send_reply(message.chat, message.reply, silent=message.reply.silent)
        except RetryLater as exc:
            report.retried += 1
            if exc.seconds <= MAX_INLINE_WAIT and attempts < MAX_ATTEMPTS:
                await asyncio.to_thread(store.mark, ids, "pending", error=str(exc))
                await sleep(exc.seconds)
                continue
            later = clock() + max(timedelta(seconds=exc.seconds), _backoff(attempts))
            await asyncio.to_thread(store.mark, ids, "pending", error=str(exc), next_try=later)
            return False, later
        except PermanentFailure as exc:
            log.warning("announcements to %s chat %s disabled: %s", message.platform, message.chat, exc)
            await asyncio.to_thread(store.disable_chat, message.platform, message.chat, f"permanent failure: {exc}")
            report.failed += len(ids)
            report.disabled_chats.append((message.platform, message.chat))
            return False, None
        except Exception as exc:  # network errors and adapter bugs: retry later, never lose the row
            log.warning("sending to %s chat %s failed (attempt %d): %r", message.platform, message.chat, attempts, exc)
            report.retried += 1
            later = clock() + _backoff(attempts)
            if attempts >= MAX_ATTEMPTS:
                await asyncio.to_thread(store.mark, ids, "failed", error=repr(exc))
                report.failed += len(ids)
            else:
                await asyncio.to_thread(store.mark, ids, "pending", error=repr(exc), next_try=later)
            return False, later
        await asyncio.to_thread(store.mark, ids, "sent", now=clock())
        report.messages += 1
        report.entries += len(ids)
        report.digests += int(message.reply.meta.get("kind") == "digest")
        return True, None


async def _send_alert(store: Store, sender: Sender, alert: Alert, limiter: RateLimiter, clock: Callable[[], datetime], report: DeliveryReport) -> None:
    await limiter.wait(alert.platform, alert.chat)
    await asyncio.to_thread(store.mark, [alert.id], "sending", attempt=True, table="alerts")
    reply = Reply(title="medbot watcher", text=(alert.text,), meta={"kind": "alert"})
    try:
        await sender.send_reply(alert.chat, reply, silent=False)
    except PermanentFailure as exc:
        log.warning("operator alert to %s chat %s impossible: %s", alert.platform, alert.chat, exc)
        await asyncio.to_thread(store.mark, [alert.id], "failed", error=str(exc), table="alerts")
        return
    except Exception as exc:
        seconds = exc.seconds if isinstance(exc, RetryLater) else 0.0
        state = "failed" if alert.attempts + 1 >= MAX_ATTEMPTS else "pending"
        next_try = clock() + max(timedelta(seconds=seconds), _backoff(alert.attempts + 1))
        await asyncio.to_thread(store.mark, [alert.id], state, error=repr(exc), next_try=next_try, table="alerts")
        return
    await asyncio.to_thread(store.mark, [alert.id], "sent", table="alerts")
    report.alerts += 1
