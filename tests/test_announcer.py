"""Announcements reach every subscribed chat once: digests, flood limits, kicked bots."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.config import Settings, WatchSettings
from bot.core.replies import Reply
from bot.core.saved_search import saved_search
from bot.core.sending import PermanentFailure, Refused, RetryLater
from bot.core.settings import DATA_DIR
from bot.store.sqlite import Store, Version
from bot.watch.delivery import RateLimit, RateLimiter, deliver
from index.model import Entry, Link, entry_id, identity_key

MATCH = saved_search(DATA_DIR / "synonyms.yaml")  # what the watcher matches subscriptions with

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class RecordingSender:
    """An in-test platform: records what it accepted, fails on demand like a real one."""

    platform: str = "telegram"
    limits: RateLimit = RateLimit()
    sent: list[tuple[str, Reply]] = field(default_factory=list)
    flood_once: set[str] = field(default_factory=set)
    kicked: set[str] = field(default_factory=set)
    broken_network: set[str] = field(default_factory=set)
    refuse: set[str] = field(default_factory=set)

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False) -> None:
        if chat_id in self.kicked:
            raise PermanentFailure("Forbidden: bot was kicked from the group chat")
        if chat_id in self.flood_once:
            self.flood_once.discard(chat_id)
            raise RetryLater(3, "Flood control exceeded")
        if chat_id in self.broken_network:
            raise OSError("connection reset")
        if any(entry.title in self.refuse for entry in reply.entries):
            raise Refused("Bad Request: can't parse entities")
        self.sent.append((chat_id, reply))

    def titles(self, chat: str) -> list[str]:
        return [e.title for c, r in self.sent if c == chat for e in r.entries]


@dataclass
class FakeSleep:
    slept: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def settings(tmp_path: Path, digest_after: int = 5) -> Settings:
    return Settings(sources=(), data_dir=tmp_path, watch=WatchSettings(digest_after=digest_after))


def paper(n: int, section: tuple[str, ...] = ("Lesion Detection",)) -> Entry:
    url = f"https://arxiv.org/abs/2001.{n:05d}"
    return Entry(entry_id(identity_key(url, f"Paper {n}")), f"Paper {n}", url, (Link("paper", url), Link("code", f"https://github.com/lab/p{n}")), "", section)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "state.sqlite3") as opened:
        opened.accept_version("list-a", Version("0", "a0", ()), now=T0, poll_id=opened.begin_poll(T0))
        opened.accept_version("list-b", Version("0", "b0", ()), now=T0, poll_id=opened.begin_poll(T0))
        yield opened


def add(store: Store, source: str, *entries: Entry, digest: bool = False, poll: int | None = None) -> int:
    poll_id = poll or store.begin_poll(T0)
    store.accept_version(source, Version(source + str(poll_id), f"{source}{poll_id}", entries), now=T0, poll_id=poll_id,
                         candidates=entries, match=MATCH, digest=digest)
    return poll_id


def quiet_limiter(sleep: FakeSleep) -> RateLimiter:
    return RateLimiter({"telegram": RateLimit()}, sleep=sleep)


async def test_each_new_entry_is_one_message_with_title_section_list_and_links(store: Store, tmp_path: Path) -> None:
    store.add_subscription("telegram", "-100", "", "pi")
    add(store, "list-a", paper(1), paper(2))
    sender, sleep = RecordingSender(), FakeSleep()
    report = await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(sleep), sleep=sleep)
    assert (report.messages, report.entries, report.digests) == (2, 2, 0)
    chat, reply = sender.sent[0]
    (view,) = reply.entries
    assert chat == "-100" and reply.title == "New in list-a"
    assert (view.title, view.section, view.sources, view.code_url) == ("Paper 1", ("Lesion Detection",), ("list-a",), "https://github.com/lab/p1")
    assert ("code", "https://github.com/lab/p1") in view.links
    assert store.outbox_counts() == {"sent": 2}
    again = await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(sleep), sleep=sleep)
    assert again.messages == 0 and len(sender.sent) == 2


async def test_above_the_threshold_a_chat_gets_one_digest(store: Store, tmp_path: Path) -> None:
    store.add_subscription("telegram", "-busy", "", "pi")
    store.add_subscription("telegram", "-genomics", "genomics", "pi")
    add(store, "list-a", *[paper(n) for n in range(6)], paper(99, ("Genomics",)))
    sender = RecordingSender()
    report = await deliver(store, {"telegram": sender}, settings(tmp_path, digest_after=5), limiter=quiet_limiter(FakeSleep()))
    busy = [reply for chat, reply in sender.sent if chat == "-busy"]
    assert len(busy) == 1 and busy[0].title == "7 new entries in list-a" and len(busy[0].entries) == 7
    assert sender.titles("-genomics") == ["Paper 99"]
    assert report.digests == 1 and report.entries == 8


async def test_a_mass_change_is_announced_as_one_digest_in_a_few_parts_whatever_its_size(store: Store, tmp_path: Path) -> None:
    store.add_subscription("telegram", "-100", "", "pi")
    add(store, "list-a", *[paper(n) for n in range(40)], digest=True)
    sender = RecordingSender()
    await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(FakeSleep()))
    replies = [reply for _, reply in sender.sent]
    assert [reply.title for reply in replies] == [f"40 new entries in list-a ({n}/4)" for n in (1, 2, 3, 4)]
    assert [len(reply.entries) for reply in replies] == [8, 8, 8, 8] and "8 more" in replies[-1].footer
    assert store.outbox_counts() == {"sent": 40}  # each part marked sent by itself; the rest with the last


async def test_a_paper_added_to_two_lists_at_once_is_announced_once_naming_both(store: Store, tmp_path: Path) -> None:
    store.add_subscription("telegram", "-100", "", "pi")
    poll = add(store, "list-a", paper(7))
    add(store, "list-b", paper(7), poll=poll)
    sender = RecordingSender()
    await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(FakeSleep()))
    ((_, reply),) = sender.sent
    assert reply.title == "New in list-a and list-b" and reply.entries[0].sources == ("list-a", "list-b")


async def test_flood_control_is_waited_out_and_the_entry_still_arrives_once(store: Store, tmp_path: Path) -> None:
    store.add_subscription("telegram", "-100", "", "pi")
    add(store, "list-a", paper(1))
    sender, sleep = RecordingSender(flood_once={"-100"}), FakeSleep()
    report = await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(sleep), sleep=sleep)
    assert sleep.slept == [3.0] and report.retried == 1
    assert sender.titles("-100") == ["Paper 1"]


async def test_a_kicked_bot_disables_that_chat_only(store: Store, tmp_path: Path) -> None:
    store.add_subscription("telegram", "-gone", "", "pi")
    store.add_subscription("telegram", "-here", "", "pi")
    add(store, "list-a", paper(1), paper(2))
    sender = RecordingSender(kicked={"-gone"})
    report = await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(FakeSleep()))
    assert report.disabled_chats == [("telegram", "-gone")]
    assert [s.chat for s in store.list_subscriptions()] == ["-here"]
    assert sender.titles("-here") == ["Paper 1", "Paper 2"]
    assert store.outbox_counts() == {"failed": 2, "sent": 2}


async def test_a_network_error_keeps_the_rows_for_a_later_try(store: Store, tmp_path: Path) -> None:
    store.add_subscription("telegram", "-100", "", "pi")
    add(store, "list-a", paper(1), paper(2))
    sender = RecordingSender(broken_network={"-100"})
    report = await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(FakeSleep()), clock=lambda: T0)
    assert report.messages == 0 and store.outbox_counts() == {"pending": 2}
    sender.broken_network.clear()
    await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(FakeSleep()), clock=lambda: T0)
    assert sender.sent == []  # not due yet: backoff
    later = T0 + timedelta(hours=2)
    await deliver(store, {"telegram": sender}, settings(tmp_path), limiter=quiet_limiter(FakeSleep()), clock=lambda: later)
    assert sender.titles("-100") == ["Paper 1", "Paper 2"]


async def test_without_a_sender_announcements_stay_queued(store: Store, tmp_path: Path) -> None:
    store.add_subscription("discord", "555", "", "pi")
    add(store, "list-a", paper(1))
    report = await deliver(store, {"telegram": RecordingSender()}, settings(tmp_path), limiter=quiet_limiter(FakeSleep()))
    assert report.messages == 0 and store.outbox_counts() == {"pending": 1}


async def test_the_rate_limiter_spaces_messages_per_chat_and_caps_a_group_per_minute() -> None:
    now = [0.0]
    sleep = FakeSleep()

    async def advancing_sleep(seconds: float) -> None:
        await sleep(seconds)
        now[0] += seconds

    limiter = RateLimiter({"telegram": RateLimit(chat_interval=1.0, chat_per_minute=20)}, clock=lambda: now[0], sleep=advancing_sleep)
    for _ in range(21):
        await limiter.wait("telegram", "-100")
    await limiter.wait("telegram", "-other")  # another chat is not slowed down by this one
    assert sleep.slept[:19] == [1.0] * 19
    assert sleep.slept[19] == pytest.approx(41.0)  # the 21st message waits for the minute window
    assert len(sleep.slept) == 20


async def test_a_message_the_platform_refuses_is_dropped_alone_and_the_chat_stays_subscribed(store: Store, tmp_path: Path) -> None:
    store.add_subscription("discord", "42", "", "pi")
    add(store, "list-a", paper(1), paper(2), paper(3))
    sender = RecordingSender(platform="discord", refuse={"Paper 2"})
    report = await deliver(store, {"discord": sender}, settings(tmp_path), limiter=quiet_limiter(FakeSleep()))
    assert sender.titles("42") == ["Paper 1", "Paper 3"] and report.failed == 1
    assert store.list_subscriptions("discord", "42")  # one hostile entry does not unsubscribe the channel
    assert store.outbox_counts() == {"sent": 2, "failed": 1}
