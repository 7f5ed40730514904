"""Stories of announcements where a Telegram lab talks: forum topics, exclusions and /why,
per-chat settings and a daily digest, through the real python-telegram-bot against the
fake Bot API. The watcher's clock is injected: nothing waits for real time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.telegram.bot import build_application, start_application, stop_application
from adapters.telegram.sending import TelegramSender
from tests.fakes import FakeTelegramAPI
from tests.routing_lab import Lab, lab, paper_line, texts

ADA = FakeTelegramAPI.user(1001, "Ada")
BOB = FakeTelegramAPI.user(1003, "Bob")
LI = FakeTelegramAPI.user(1004, "Li", language_code="zh-hans")
GROUP = FakeTelegramAPI.group_chat()
BERLIN = ZoneInfo("Europe/Berlin")


def _next_monday() -> datetime:
    """10:00 UTC on a Monday after the real today (subscriptions are made at the real now)."""
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    while day.weekday() != 0:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


MONDAY = _next_monday()


def berlin(days_after_monday: int, hour: int, minute: int = 0) -> datetime:
    """That wall-clock time in Berlin, as the UTC moment the watcher's clock shows."""
    return datetime.combine(MONDAY.date() + timedelta(days=days_after_monday), time(hour, minute), tzinfo=BERLIN).astimezone(UTC)


def environ(api: FakeTelegramAPI) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url}


@asynccontextmanager
async def running(api: FakeTelegramAPI, tmp_path: Path) -> AsyncIterator[tuple[Lab, Any]]:
    async with lab(tmp_path, environ(api)) as opened:
        application = build_application(opened.core, opened.settings)
        await start_application(application, opened.settings, poll_timeout=1)
        try:
            await opened.poll(MONDAY - timedelta(days=1))  # the baseline: nothing is new yet
            yield opened, application
        finally:
            await stop_application(application)


def in_chat(chat: dict[str, Any]) -> Any:
    return lambda call: str(call.params.get("chat_id")) == str(chat["id"])


async def say(api: FakeTelegramAPI, text: str, *, chat: dict[str, Any], user: dict[str, Any] = ADA, topic: int | None = None) -> str:
    """A member types ``text``; returns the bot's answer."""
    before = len(api.calls_to("sendMessage"))
    api.send_text(text, user=user, chat=chat, topic=topic)
    calls = await api.wait_for("sendMessage", before + 1)
    return str(calls[-1].params.get("text", ""))


async def test_a_subscription_made_in_a_forum_topic_is_announced_in_that_topic(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api, running(api, tmp_path) as (lab_, application):
        forum = api.forum_chat()
        api.set_member_status(forum["id"], ADA["id"], "administrator")
        zebrafish = api.create_topic(forum, "Zebrafish papers")
        api.create_topic(forum, "Off topic")
        answer = await say(api, "/subscribe zebrafish", chat=forum, topic=zebrafish)
        assert "Subscribed" in answer and f"topic/thread {zebrafish}" in answer
        assert api.calls_to("sendMessage")[-1].params.get("message_thread_id") in (zebrafish, str(zebrafish))  # answered there too

        lab_.add_papers(paper_line("Zebrafish fin regrowth"))
        await lab_.poll(MONDAY)
        sender = TelegramSender(application.bot)
        report = await lab_.deliver_at(MONDAY, {"telegram": sender})
        assert report.messages == 1
        announced = api.calls_to("sendMessage")[-1]
        assert "Zebrafish fin regrowth" in announced.params["text"]
        assert str(announced.params["message_thread_id"]) == str(zebrafish)
        assert api.message_from_call(announced)["is_topic_message"] is True

        # An admin deletes the topic: the subscription stops, and the chat itself is told once.
        api.delete_topic(forum, zebrafish)
        lab_.add_papers(paper_line("Zebrafish gill atlas"), paper_line("Zebrafish heart atlas"))
        await lab_.poll(MONDAY + timedelta(hours=1))
        await lab_.deliver_at(MONDAY + timedelta(hours=1), {"telegram": sender})
        assert not lab_.core.store.list_subscriptions("telegram", str(forum["id"]))
        await lab_.deliver_at(MONDAY + timedelta(hours=1, minutes=1), {"telegram": sender})
        await lab_.deliver_at(MONDAY + timedelta(hours=2), {"telegram": sender})
        notices = [call for call in api.calls_to("sendMessage") if call.status == 200 and "is gone" in call.params["text"]]
        assert len(notices) == 1
        assert "message_thread_id" not in notices[0].params  # the main channel, where admins see it
        assert "/subscribe" in notices[0].params["text"]
        failed = [call for call in api.calls_to("sendMessage") if call.status == 400]
        assert len(failed) == 1  # one try into the deleted topic; the second paper never went


async def test_an_exclusion_blocks_a_paper_and_why_says_which(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api, running(api, tmp_path) as (lab_, application):
        api.set_member_status(GROUP["id"], ADA["id"], "administrator")
        await say(api, "/subscribe zebrafish -review -tag:preprint", chat=GROUP)
        lab_.add_papers(paper_line("Zebrafish heart regeneration"), paper_line("Zebrafish imaging review"))
        await lab_.poll(MONDAY)
        await lab_.deliver_at(MONDAY, {"telegram": TelegramSender(application.bot)})
        sent = texts([c for c in api.calls_to("sendMessage") if c.status == 200])
        assert any("Zebrafish heart regeneration" in text for text in sent)
        assert not any("Zebrafish imaging review" in text for text in sent)

        blocked = await say(api, f"/why {lab_.entry_id('Zebrafish imaging review')}", chat=GROUP, user=BOB)
        assert "did not take it" in blocked and "-review" in blocked
        announced = await say(api, f"/why {lab_.entry_id('Zebrafish heart regeneration')}", chat=GROUP, user=BOB)
        assert "Announced here" in announced and "subscription #1" in announced
        # a member whose Telegram is in Chinese is told the same in Chinese
        blocked_zh = await say(api, f"/why {lab_.entry_id('Zebrafish imaging review')}", chat=GROUP, user=LI)
        assert "没有选中它" in blocked_zh and "被 -review 排除" in blocked_zh and "did not take" not in blocked_zh
        announced_zh = await say(api, f"/why {lab_.entry_id('Zebrafish heart regeneration')}", chat=GROUP, user=LI)
        assert "已在此处" in announced_zh and "订阅 #1" in announced_zh


async def test_a_daily_digest_comes_at_its_time_with_the_whole_day_and_not_on_an_empty_day(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api, running(api, tmp_path) as (lab_, application):
        api.set_member_status(GROUP["id"], ADA["id"], "administrator")
        refused = await say(api, "/settings tz Europe/Berlin", chat=GROUP, user=BOB)
        assert "administrators" in refused
        changed = await say(api, "/settings tz Europe/Berlin", chat=GROUP)
        assert "tz is now Europe/Berlin" in changed
        answer = await say(api, "/subscribe zebrafish daily 08:00", chat=GROUP)
        assert "daily 08:00 (Europe/Berlin time)" in answer
        sender = {"telegram": TelegramSender(application.bot)}
        sent_before = len(api.calls_to("sendMessage"))

        lab_.add_papers(paper_line("Zebrafish morning paper"), paper_line("Zebrafish noon paper"))
        await lab_.poll(MONDAY)
        await lab_.deliver_at(MONDAY, sender)
        lab_.add_papers(paper_line("Zebrafish evening paper"))
        await lab_.poll(MONDAY + timedelta(hours=9))
        await lab_.deliver_at(MONDAY + timedelta(hours=9), sender)
        await lab_.deliver_at(berlin(1, 7, 59), sender)
        assert len(api.calls_to("sendMessage")) == sent_before  # nothing before its time

        report = await lab_.deliver_at(berlin(1, 8, 0), sender)
        assert report.messages == 1 and report.entries == 3
        digest = api.calls_to("sendMessage")[-1].params["text"]
        assert "Digest: 3 new entries in lab-list" in digest
        assert all(title in digest for title in ("Zebrafish morning paper", "Zebrafish noon paper", "Zebrafish evening paper"))

        await lab_.poll(berlin(1, 12, 0))  # a day with nothing new
        report = await lab_.deliver_at(berlin(2, 8, 0), sender)
        assert report.messages == 0 and len(api.calls_to("sendMessage")) == sent_before + 1


async def test_a_chat_gets_the_language_and_previews_its_admins_chose(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api, running(api, tmp_path) as (lab_, application):
        api.set_member_status(GROUP["id"], ADA["id"], "administrator")
        await say(api, "/settings language zh", chat=GROUP)
        listing = await say(api, "/settings", chat=GROUP, user=BOB)  # Bob's client is English
        assert "本聊天的设置" in listing and "language: zh" in listing
        bad = await say(api, "/settings tz Mars/Olympus", chat=GROUP)
        assert "Mars/Olympus" in bad
        await say(api, "/settings preview on", chat=GROUP)
        await say(api, "/subscribe zebrafish", chat=GROUP)
        lab_.add_papers(paper_line("Zebrafish preview paper"))
        await lab_.poll(MONDAY)
        await lab_.deliver_at(MONDAY, {"telegram": TelegramSender(application.bot)})
        announced = api.calls_to("sendMessage")[-1]
        assert "Zebrafish preview paper" in announced.params["text"]
        assert announced.params["link_preview_options"]["is_disabled"] is False
        answer = [call for call in api.calls_to("sendMessage") if "/settings" in str(call.params.get("text"))][0]
        assert answer.params["link_preview_options"]["is_disabled"] is True  # answers keep previews off
