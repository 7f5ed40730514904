"""The pure rules under routing: schedules across time zones and clock changes, what
``/subscribe`` and ``/settings`` read from their words, filters with exclusions, and a
state file from before routing migrated with its subscriptions intact.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import Context
from bot.core.commands.chat_settings import read_setting
from bot.core.replies import Reply, UserError
from bot.core.saved_search import explain, read_filter
from bot.core.sending import PermanentFailure, RateLimit, RetryLater
from bot.core.subscribe_options import read_subscribe
from bot.store.records import MIGRATIONS, LoggedEntry, OutboxItem
from bot.store.schedules import Schedule, ScheduleError, find_schedule, next_due, parse_schedule
from bot.store.sqlite import Store
from bot.watch.messages import ChatOptions, plan_messages
from index.model import Entry
from index.parser import parse
from index.search_synonyms import SynonymMap
from tests.routing_lab import lab, paper_line


def test_a_daily_digest_is_due_at_the_next_wall_clock_time_in_the_chats_zone() -> None:
    daily = parse_schedule("daily 08:00")
    winter = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Saturday; Berlin moves to CEST overnight
    assert next_due(daily, winter, "Europe/Berlin") == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert next_due(daily, datetime(2026, 3, 27, 6, 59, tzinfo=UTC), "Europe/Berlin") == datetime(2026, 3, 27, 7, 0, tzinfo=UTC)
    assert next_due(daily, datetime(2026, 3, 27, 7, 0, tzinfo=UTC), "Europe/Berlin") == datetime(2026, 3, 28, 7, 0, tzinfo=UTC)
    assert next_due(daily, winter, None) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # no zone: UTC
    assert next_due(Schedule(), winter, "Europe/Berlin") is None  # "now": no digest at all


def test_a_weekly_digest_is_due_on_its_day_within_a_week() -> None:
    monday = parse_schedule("weekly Monday 09:30")
    assert monday.text() == "weekly mon 09:30" and parse_schedule(monday.text()) == monday
    after = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday, exactly at the time: the next one
    assert next_due(monday, after, "UTC") == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
    assert next_due(monday, after - timedelta(seconds=1), "Asia/Shanghai") == datetime(2026, 3, 2, 1, 30, tzinfo=UTC) + timedelta(days=7)


@pytest.mark.parametrize("text", ["daily 25:00", "weekly funday 08:00", "daily", "hourly 08:00"])
def test_a_malformed_schedule_is_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(text)


def test_subscribe_reads_its_options_and_leaves_the_filter() -> None:
    request = read_subscribe("segmentation -review thread:42 ping:<@&123456> weekly fri 17:00")
    assert (request.filter, request.thread, request.role, request.schedule.text()) == (
        "segmentation -review", "42", "123456", "weekly fri 17:00")
    assert read_subscribe("daily imaging").filter == "daily imaging"  # "daily" without a time is a word
    assert find_schedule("cells now")[0] == Schedule()
    for bad in ("cells ping:@imaging", "cells thread:general", "cells daily 8h"):
        with pytest.raises(UserError):
            read_subscribe(bad)


def test_settings_accept_only_what_they_can_keep() -> None:
    assert read_setting("tz", "Europe/Berlin") == ("timezone", "Europe/Berlin")
    assert read_setting("language", "ZH") == ("language", "zh")
    assert read_setting("digest", "10") == ("digest_threshold", 10)
    assert read_setting("preview", "on") == ("preview", 1)
    assert read_setting("tz", "default") == ("timezone", None)
    for name, value in (("tz", "Mars/Olympus"), ("language", "fr"), ("digest", "-1"), ("preview", "maybe"), ("colour", "red")):
        with pytest.raises(ValueError):
            read_setting(name, value)


ENTRY = Entry(id="e1", title="U-Net: convolutional networks for biomedical image segmentation", url="https://arxiv.org/abs/1505.04597",
              description="Ronneberger, Fischer and Brox. MICCAI 2015. A review-free classic.", section=("Imaging", "Segmentation"),
              tags=("cnn",), source="lab-list")


@pytest.mark.parametrize(("filter_text", "matched", "blocked_by"), [
    ("segmentation", True, ""),
    ("segmentation -brox", False, "-brox"),
    ('segmentation -"image segmentation"', False, '-image segmentation'),
    ("segmentation -topic:imaging", False, "-topic:imaging"),
    ("segmentation -tag:cnn", False, "-tag:cnn"),
    ("segmentation -source:lab", False, "-source:lab"),
    ("segmentation -transformer", True, ""),
    ("author:Ronneberger venue:miccai", True, ""),
    ("author:Hinton", False, ""),
    ("segmentation topic:genomics", False, ""),
])
def test_a_filter_says_which_part_decided(filter_text: str, matched: bool, blocked_by: str) -> None:
    verdict = explain(filter_text, ENTRY, SynonymMap([]))
    assert (verdict.matched, verdict.excluded_by) == (matched, blocked_by), verdict
    assert verdict.matched or (verdict.reason() and verdict.reason("zh") != verdict.reason())


def test_a_filter_has_no_patterns_to_abuse() -> None:
    hostile = "(a+)+$ " * 30 + "-(x*)*y author:.*"
    parsed = read_filter(hostile)
    assert parsed.authors == (".*",)  # a literal string, never compiled
    assert not explain(hostile, ENTRY, SynonymMap([])).matched


def test_a_state_file_from_before_routing_keeps_its_subscriptions_and_queue(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 3")
    db.execute("INSERT INTO subscriptions (platform, chat, filter, created_at) VALUES ('telegram', '-1001', 'cells', '2026-01-01T00:00:00+00:00')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS) >= 4
        [sub] = store.list_subscriptions("telegram", "-1001")
        assert (sub.filter, sub.thread, sub.role, sub.schedule) == ("cells", "", "", "now")
        assert store.chat_settings("telegram", "-1001").timezone is None
        again = store.add_subscription("telegram", "-1001", "cells", thread="7", schedule="daily 08:00")
        assert again.id != sub.id and again.thread == "7"  # another topic: another subscription
        assert store.set_chat_setting("telegram", "-1001", "timezone", "Asia/Shanghai", "pi", datetime.now(UTC)).timezone == "Asia/Shanghai"
        assert store.set_chat_setting("telegram", "-1001", "preview", 1, "pi", datetime.now(UTC)).preview is True
        with pytest.raises(ValueError):
            store.set_chat_setting("telegram", "-1001", "filter; DROP TABLE outbox", 1, "pi", datetime.now(UTC))


def _row(n: int, *, chat: str = "-1", thread: str = "", role: str = "", poll: int = 1, due: datetime | None = None) -> OutboxItem:
    entry = Entry(id=f"e{n}", title=f"Paper {n}", url=f"https://example.org/{n}", source="lab-list")
    return OutboxItem(n, 1, "discord", chat, poll, False, 0, LoggedEntry(entry, ("lab-list",), datetime(2026, 1, 1, tzinfo=UTC)),
                      thread=thread, role=role, due=due)


def test_rows_become_messages_per_topic_role_and_schedule() -> None:
    due = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)
    rows = [
        _row(1, thread="t1", role="99"), _row(2, thread="t1", role="99"),  # two single announcements, each pinging
        _row(3, thread="t2", due=due, poll=1), _row(4, thread="t2", due=due, poll=2),  # two polls, one digest
        *[_row(n, chat="-2", poll=3) for n in range(10, 13)],  # three in a chat whose threshold is 2: a digest
    ]
    messages = plan_messages(rows, 5, options=lambda platform, chat: ChatOptions(2 if chat == "-2" else 5, preview=chat == "-2"))
    shapes = [(m.chat, m.thread, len(m.rows), m.reply.kind.value, m.reply.ping_role, m.reply.preview) for m in messages]
    assert shapes == [
        ("-1", "t1", 1, "announcement", "99", False),
        ("-1", "t1", 1, "announcement", "99", False),
        ("-1", "t2", 2, "digest", "", False),
        ("-2", "", 3, "digest", "", True),
    ]
    assert messages[2].reply.title.startswith("Digest: 2 new entries")
    big = plan_messages([_row(n, role="7", due=due) for n in range(20)], 5)
    assert [m.reply.ping_role for m in big] == ["7", "", ""]  # the role is mentioned once per digest


async def test_a_lab_member_leaves_words_out_of_a_search_as_a_subscription_would(bundled_core: Any) -> None:
    ctx = Context(platform="console", chat_id="c1")
    everything = await bundled_core.handle("/search lesion", ctx)
    fewer = await bundled_core.handle("/search lesion -graphs", ctx)
    assert any("Graphs" in entry.title for entry in everything.entries)
    assert fewer.entries and not any("Graphs" in entry.title for entry in fewer.entries)
    assert len(fewer.entries) == len(everything.entries) - 1 and fewer.page.total == len(fewer.entries)
    none_left = await bundled_core.handle("/search lesion -tag:code", ctx)  # every lesion entry has code
    assert not none_left.entries


class _Refusing:
    """A platform that answers every send with ``failure``."""

    platform = "telegram"
    limits = RateLimit()

    def __init__(self, failure: Exception) -> None:
        self.failure = failure

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False, thread: str = "") -> None:
        raise self.failure


async def test_why_tells_a_retry_a_disabled_chat_and_a_held_mass_change(tmp_path: Path) -> None:
    now = datetime.now(UTC) + timedelta(minutes=1)
    here = Context(platform="telegram", chat_id="-100777", chat_type="group")
    async with lab(tmp_path / "a", {}) as lab_:
        await lab_.poll(now - timedelta(hours=1))
        lab_.core.store.add_subscription("telegram", "-100777", "", "pi")
        lab_.add_papers(paper_line("Zebrafish slow paper"))
        await lab_.poll(now)
        await lab_.deliver_at(now, {"telegram": _Refusing(RetryLater(600, "Telegram flood control"))})
        waiting = (await lab_.core.handle(f"/why {lab_.entry_id('Zebrafish slow paper')}", here)).plain_text()
        assert "sending failed 1×, retry at" in waiting and "flood control" in waiting
        await lab_.deliver_at(now + timedelta(hours=1), {"telegram": _Refusing(PermanentFailure("bot was kicked"))})
        gone = (await lab_.core.handle(f"/why {lab_.entry_id('Zebrafish slow paper')}", here)).plain_text()
        assert "announcements here were disabled" in gone and "kicked" in gone
    async with lab(tmp_path / "b", {}, watch="max_added: 1") as lab_:
        await lab_.poll(now - timedelta(hours=1))
        lab_.add_papers(paper_line("Zebrafish bulk one"), paper_line("Zebrafish bulk two"), paper_line("Zebrafish bulk three"))
        await lab_.poll(now)
        document = parse(lab_.list_path.read_text(encoding="utf-8"), "lab-list")
        [bulk] = [entry.id for entry in document.entries if entry.title == "Zebrafish bulk two"]
        held = (await lab_.core.handle(f"/why {bulk}", here)).plain_text()
        assert "held since" in held and "lab-list" in held
        unknown = await lab_.core.handle("/why 0000000000", here)
        assert unknown.is_error and "/new" in unknown.plain_text()


def test_a_subscription_to_a_short_name_takes_the_paper_a_search_finds_by_it() -> None:
    """``/subscribe K-SAN`` is the saved search ``/search K-SAN``: the title's acronym counts."""
    paper = Entry(id="k1", title="Knowledge as a Teacher: Knowledge-Guided Structural Attention Networks",
                  url="https://arxiv.org/abs/1609.03286")
    other = Entry(id="k2", title="Structural attention for dialogue", url="https://example.org/sa")
    assert explain("K-SAN", paper, SynonymMap([])).matched
    assert not explain("K-SAN", other, SynonymMap([])).matched
    assert explain("PCAWG", Entry(id="p", title="Pan-cancer analysis of whole genomes", url="https://x.org/p"), SynonymMap([])).matched
