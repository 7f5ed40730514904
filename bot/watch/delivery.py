"""Delivering the outbox: claims, one lane per chat, flood limits, retries.

The watcher has already committed what must be said (outbox rows); this module only
says it, through each platform's ``Sender``. Rows are claimed with a lease in the
transaction that reads them (``Store.claim_outbox``), so a cron ``watch --once`` beside
``serve`` never sends what the other process holds, and a dead process's rows are taken
over when its lease runs out. A row is marked sent only after the platform accepted it,
so a crash costs at most the one message in flight.

Each chat is its own lane: lanes run concurrently and a failing chat backs off alone. A
message the platform refuses (``Refused``) is dead by itself and its chat goes on; only
"bot removed / forbidden / chat not found" (``PermanentFailure``) disables a chat, and
then the operators are told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.redact import redact
from bot.core.replies import Reply, ReplyKind
from bot.core.sending import PermanentFailure, RateLimit, Refused, RetryLater, Sender, ThreadGone
from bot.core.settings import Settings
from bot.store import outbox_states as outbox
from bot.store.records import Alert, OutboxItem, utcnow
from bot.store.sqlite import Store
from bot.watch.announce_notes import announcement_notes
from bot.watch.messages import ChatOptions, Message, plan_messages

__all__ = ["LEASE", "OWNER", "DeliveryReport", "RateLimit", "RateLimiter", "deliver"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_INLINE_WAIT = 5.0
"""A ``retry_after`` up to this long is waited out in the chat's lane; longer ones are rescheduled."""
MAX_LANES = 16
LEASE = timedelta(minutes=2)
"""How long a claim holds; renewed before every send, so only a dead process loses its rows."""
OWNER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
"""This process, as the owner of the rows it claims."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Now = Callable[[], datetime]


class RateLimiter:
    """Waits just long enough before each send to stay under the platform's limits."""

    def __init__(self, limits: Mapping[str, RateLimit] | None = None, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.limits = dict(limits or {})
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
        """Wait for this chat's next slot; the slot is reserved first, so concurrent chats
        never take the same moment of the platform's global budget."""
        pause = max(0.0, self.delay(platform, chat))
        slot = self._clock() + pause
        self._chat_sends.setdefault((platform, chat), deque(maxlen=100)).append(slot)
        self._platform_last[platform] = slot
        if pause > 0:
            await self._sleep(pause)

    def mark(self, platform: str, chat: str) -> None:
        """The message whose slot was reserved last goes out only now (it waited its turn to be
        in flight): count from now, so the next one keeps its spacing from the real send."""
        sends = self._chat_sends.get((platform, chat))
        if sends:
            sends[-1] = max(sends[-1], self._clock())

    def remember(self, platform: str, chat: str, seconds_ago: float) -> None:
        """A message sent before this limiter existed (by an earlier run): it still counts."""
        sends = self._chat_sends.setdefault((platform, chat), deque(maxlen=100))
        sends.append(self._clock() - seconds_ago)
        ordered = sorted(sends)
        sends.clear()
        sends.extend(ordered)


def limits_of(sender: Sender, shared: bool) -> RateLimit:
    """The limits the announcer keeps itself; with workers sharing a state, the ones no library sees whole.

    A library's own limiter (PTB's) knows only its process's sends; with several workers
    the chats' limits are kept here from the sends recorded in the shared state.
    """
    shared_limits: RateLimit | None = getattr(sender, "shared_limits", None)
    return shared_limits if shared and shared_limits is not None else sender.limits


@dataclass(slots=True)
class DeliveryReport:
    messages: int = 0
    entries: int = 0
    digests: int = 0
    alerts: int = 0
    retried: int = 0
    failed: int = 0
    disabled_chats: list[tuple[str, str]] = field(default_factory=list)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600.0, 30.0 * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class _Lane:
    """Everything one delivery round needs, shared by the chats' lanes."""

    store: Store
    senders: Mapping[str, Sender]
    settings: Settings
    limiter: RateLimiter
    clock: Now
    sleep: Sleep
    owner: str
    report: DeliveryReport
    gone: set[tuple[str, str, str]] = field(default_factory=set)
    """Topics/threads found deleted this round: their remaining messages are already dead."""
    in_flight: asyncio.Lock | None = None
    """With a shared state, one message in flight per process: a kill -9 costs one duplicate at most."""


async def deliver(
    store: Store,
    senders: Mapping[str, Sender],
    settings: Settings,
    *,
    limiter: RateLimiter | None = None,
    clock: Now = utcnow,
    sleep: Sleep = asyncio.sleep,
    owner: str = OWNER,
) -> DeliveryReport:
    """Claim and send what is due for every platform that has a sender; the rest stays queued."""
    report = DeliveryReport()
    platforms = list(senders)
    fresh = limiter is None
    shared = store.shared
    in_flight = asyncio.Lock() if shared else None
    now = clock()
    alerts = await asyncio.to_thread(store.claim_alerts, owner, now, now + LEASE, platforms)
    while True:
        if fresh:
            limiter = RateLimiter({name: limits_of(sender, shared) for name, sender in senders.items()}, sleep=sleep)
        assert limiter is not None
        round_ = _Lane(store, senders, settings, limiter, clock, sleep, owner, report, in_flight=in_flight)
        now = clock()
        # With workers sharing a state, one claim takes as many chats as a round has lanes; the others
        # are for the other workers (and for this one's next claim).
        items = await asyncio.to_thread(store.claim_outbox, owner, now, now + LEASE, platforms, MAX_LANES if shared else None)
        if fresh:  # read after claiming: the sends of whoever held these chats before are committed by now
            now = clock()
            for platform, chat, sent_at in await asyncio.to_thread(store.recent_sends, now - timedelta(minutes=1)):
                limiter.remember(platform, chat, (now - sent_at).total_seconds())
        for alert in alerts:
            await _send_alert(round_, alert)
        alerts = []
        await _send_claimed(round_, items)
        if not shared or len({(item.platform, item.chat) for item in items}) < MAX_LANES:
            break
    return report


async def _send_claimed(round_: _Lane, items: Sequence[OutboxItem]) -> None:
    """One lane per chat, run concurrently (at most ``MAX_LANES`` at once)."""
    lanes: OrderedDict[tuple[str, str], list[Message]] = OrderedDict()
    notes = await asyncio.to_thread(announcement_notes, round_.store, [item.logged for item in items]) if items else {}
    digest_after = round_.settings.watch.digest_after
    options = await asyncio.to_thread(_chat_options, round_.store, {(item.platform, item.chat) for item in items}, digest_after)
    for message in plan_messages(items, digest_after, notes, lambda platform, chat: options[platform, chat]):
        lanes.setdefault((message.platform, message.chat), []).append(message)
    slots = asyncio.Semaphore(MAX_LANES)

    async def run(messages: list[Message]) -> None:
        async with slots:
            await _run_lane(round_, messages)

    await asyncio.gather(*(run(messages) for messages in lanes.values()))


async def _run_lane(round_: _Lane, messages: Sequence[Message]) -> None:
    """One chat's messages in order; when one must wait, the rest wait with it."""
    for number, message in enumerate(messages):
        if message.thread and (message.platform, message.chat, message.thread) in round_.gone:
            continue
        try:
            go_on, later = await _send_message(round_, message)
        except Exception:  # a bug in this lane must not take the others down
            log.exception("delivering to %s chat %s failed", message.platform, message.chat)
            go_on, later = False, round_.clock() + _backoff(1)
        if go_on:
            continue
        rest = [row.id for waiting in messages[number + 1 :] for row in waiting.rows]
        if rest and later is not None:
            await asyncio.to_thread(round_.store.move_outbox, rest, outbox.release(later), owner=round_.owner)
        return


async def _send_message(round_: _Lane, message: Message) -> tuple[bool, datetime | None]:
    """Send one message for its rows: (True, None) to go on with the chat, else (False, next try)."""
    store, owner, report = round_.store, round_.owner, round_.report
    ids = [row.id for row in message.rows]
    attempts = max(row.attempts for row in message.rows)
    sender = round_.senders[message.platform]
    while True:
        await round_.limiter.wait(message.platform, message.chat)
        if not await asyncio.to_thread(store.renew_claim, ids, owner, round_.clock() + LEASE):
            log.warning("%s chat %s: another process took these rows over; leaving them to it", message.platform, message.chat)
            return False, None
        try:
            async with round_.in_flight or contextlib.nullcontext():
                round_.limiter.mark(message.platform, message.chat)
                await asyncio.to_thread(store.move_outbox, ids, outbox.attempt(round_.clock()), owner=owner)
                attempts += 1
                routed = {"thread": message.thread} if message.thread else {}
                await sender.send_reply(message.chat, message.reply, silent=message.reply.silent, **routed)
                await asyncio.to_thread(store.move_outbox, ids, outbox.sent(round_.clock()), owner=owner)
        except RetryLater as exc:
            report.retried += 1
            if exc.seconds <= MAX_INLINE_WAIT and attempts < MAX_ATTEMPTS:
                await round_.sleep(exc.seconds)
                continue
            later = round_.clock() + max(timedelta(seconds=exc.seconds), _backoff(attempts))
            await asyncio.to_thread(store.move_outbox, ids, outbox.retry(redact(str(exc)), later), owner=owner)
            return False, later
        except Refused as exc:
            log.warning("%s chat %s refused one message (kept for the operator): %s", message.platform, message.chat, redact(str(exc)))
            await asyncio.to_thread(store.move_outbox, ids, outbox.dead(redact(f"refused: {exc}")), owner=owner)
            report.failed += len(ids)
            return True, None
        except ThreadGone as exc:
            await _thread_gone(round_, message, redact(str(exc)))
            return True, None
        except PermanentFailure as exc:
            await _disable(round_, message, redact(str(exc)))
            return False, None
        except Exception as exc:  # network errors and adapter bugs: retry later, never lose the row
            log.warning("sending to %s chat %s failed (attempt %d): %s", message.platform, message.chat, attempts, redact(repr(exc)))
            report.retried += 1
            later = round_.clock() + _backoff(attempts)
            if attempts >= MAX_ATTEMPTS:
                await asyncio.to_thread(store.move_outbox, ids, outbox.dead(redact(repr(exc))), owner=owner)
                report.failed += len(ids)
            else:
                await asyncio.to_thread(store.move_outbox, ids, outbox.retry(redact(repr(exc)), later), owner=owner)
            return False, later
        report.messages += 1
        report.entries += len(ids)
        report.digests += int(message.reply.kind is ReplyKind.DIGEST)
        return True, None


async def _disable(round_: _Lane, message: Message, reason: str) -> None:
    """The platform says the bot can never post here: stop this chat, tell the operators once."""
    log.warning("announcements to %s chat %s disabled: %s", message.platform, message.chat, reason)
    disabled = await asyncio.to_thread(round_.store.disable_chat, message.platform, message.chat, f"permanent failure: {reason}")
    round_.report.failed += len(message.rows)
    round_.report.disabled_chats.append((message.platform, message.chat))
    targets = [(t.platform, t.chat_id) for t in round_.settings.watch.operator_chats if (t.platform, t.chat_id) != (message.platform, message.chat)]
    if disabled and targets:
        text = (f"Announcements to {message.platform} chat {message.chat} are disabled: {reason}. "
                "Subscribe it again once the bot can post there.")
        await asyncio.to_thread(round_.store.queue_alert, targets, text, round_.clock())


def _chat_options(store: Store, chats: set[tuple[str, str]], default: int) -> dict[tuple[str, str], ChatOptions]:
    options = {}
    for platform, chat in chats:
        own = store.chat_settings(platform, chat)
        options[platform, chat] = ChatOptions(default if own.digest_threshold is None else own.digest_threshold, bool(own.preview))
    return options


async def _thread_gone(round_: _Lane, message: Message, reason: str) -> None:
    """The topic or thread was deleted: stop what announced there, and say so once in the chat itself.

    The notice is an alert row to the main channel (same outbox guarantees), naming
    the subscriptions, so an admin can subscribe again where the lab now talks.
    """
    log.warning("%s chat %s: topic/thread %s is gone: %s", message.platform, message.chat, message.thread, reason)
    round_.gone.add((message.platform, message.chat, message.thread))
    ids = await asyncio.to_thread(round_.store.disable_thread, message.platform, message.chat, message.thread, f"thread gone: {reason}")
    round_.report.failed += len(message.rows)
    if ids:
        names = ", ".join(f"#{sub_id}" for sub_id in ids)
        text = (f"The topic or thread {message.thread} this chat's subscription {names} announced into is gone, so it is "
                "disabled. An admin can /subscribe again inside the topic or thread that should get announcements.")
        operators = [(target.platform, target.chat_id) for target in round_.settings.watch.operator_chats
                     if (target.platform, target.chat_id) != (message.platform, message.chat)]
        # the chat's admins see it there; operators too (a Discord forum has no main channel to post in)
        await asyncio.to_thread(round_.store.queue_alert, [(message.platform, message.chat), *operators], text, round_.clock())


async def _send_alert(round_: _Lane, alert: Alert) -> None:
    store, owner = round_.store, round_.owner
    await round_.limiter.wait(alert.platform, alert.chat)
    reply = Reply(title="medbot watcher", text=(alert.text,), kind=ReplyKind.ALERT)
    try:
        await round_.senders[alert.platform].send_reply(alert.chat, reply, silent=False)
    except (PermanentFailure, Refused) as exc:
        log.warning("operator alert to %s chat %s impossible: %s", alert.platform, alert.chat, redact(str(exc)))
        await asyncio.to_thread(store.move_alerts, [alert.id], outbox.dead(redact(str(exc))), owner=owner)
        return
    except Exception as exc:
        log.warning("operator alert to %s chat %s failed (attempt %d): %s", alert.platform, alert.chat, alert.attempts + 1, redact(repr(exc)))
        seconds = exc.seconds if isinstance(exc, RetryLater) else 0.0
        next_try = round_.clock() + max(timedelta(seconds=seconds), _backoff(alert.attempts + 1))
        error = redact(repr(exc))
        move = outbox.dead(error) if alert.attempts + 1 >= MAX_ATTEMPTS else outbox.retry(error, next_try)
        await asyncio.to_thread(store.move_alerts, [alert.id], move, owner=owner)
        return
    await asyncio.to_thread(store.move_alerts, [alert.id], outbox.sent(round_.clock()), owner=owner)
    round_.report.alerts += 1
