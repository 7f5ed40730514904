"""Announcements a lab can trust: what an audit broke, told as the operator meets it.

Real subprocesses (``medbot serve``, cron's ``medbot watch --once``) deliver through the
real python-telegram-bot to the fake Bot API on loopback, polling a fake upstream.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot

from adapters.telegram.bot import TelegramSender
from adapters.telegram.render import render_reply
from bot.app import Context, MedBot
from bot.core.config import load_settings
from bot.store.sqlite import Store, Version
from bot.watch.delivery import deliver
from bot.watch.messages import DIGEST_PART
from tests.conftest import medbot_command, medbot_env
from tests.fakes import FakeTelegramAPI
from tests.fakes.upstream import FakeUpstream
from tests.test_watch_crash import SlowTelegramAPI, run_watch

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
RESEARCH = (REPO / "data/lists/awesome-medical-research.md").read_text(encoding="utf-8")
CONTROL = {chr(c) for c in range(32) if chr(c) not in "\n\t"} | {"\x7f", "\u202e", "\u2066"}


def with_papers(text: str, titles: list[str], base: int = 2604) -> str:
    items = "".join(f"* {title} [`arxiv`](https://arxiv.org/abs/{base}.{n:05d})\n\n" for n, title in enumerate(titles))
    return text.replace("## Lesion Detection\n", "## Lesion Detection\n" + items, 1)


def write_config(tmp_path: Path, upstream: FakeUpstream, api: FakeTelegramAPI, watch: str) -> Path:
    config = tmp_path / "medbot.yaml"
    config.write_text(
        f"sources:\n  - name: research\n    url: {upstream.url('research')}\n"
        f"watch: {{{watch}}}\ntelegram: {{base_url: '{api.root_url}'}}\n",
        encoding="utf-8",
    )
    return config


def received(api: FakeTelegramAPI, titles: list[str]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for call in api.calls_to("sendMessage"):
        if call.status == 200:
            for title in titles:
                if title in str(call.params.get("text", "")):
                    counts[(str(call.params["chat_id"]), title)] += 1
    return counts


async def test_serve_beside_three_cron_runs_delivers_every_announcement_exactly_once(tmp_path: Path) -> None:
    titles = [f"Shared outbox paper {n}" for n in range(3)]
    chats = [f"-100{n:04d}" for n in range(30)]
    async with FakeUpstream() as upstream, SlowTelegramAPI() as api:
        upstream.publish("research", RESEARCH)
        config = write_config(tmp_path, upstream, api, "digest_after: 5, timeout: 10")
        data_dir = tmp_path / "data"
        await run_watch(config, data_dir, api, kill_after=None)  # the baseline
        with Store(data_dir / "state.sqlite3") as store:
            for chat in chats:
                store.add_subscription("telegram", chat, "", "admin")
        upstream.publish("research", with_papers(RESEARCH, titles))
        env = medbot_env(TELEGRAM_BOT_TOKEN=api.token, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        serve = await asyncio.create_subprocess_exec(
            *medbot_command("--config", str(config), "--data-dir", str(data_dir), "serve"),
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        try:
            crons = []
            for _ in range(3):  # cron fires while serve is delivering
                await asyncio.sleep(0.5)
                crons.append(asyncio.create_task(run_watch(config, data_dir, api, kill_after=None)))
            await asyncio.gather(*crons)
            deadline = time.monotonic() + 120
            while sum(received(api, titles).values()) < len(chats) * len(titles) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            await asyncio.sleep(2)  # anything sent twice would arrive by now
        finally:
            serve.send_signal(signal.SIGTERM)
            await asyncio.wait_for(serve.communicate(), timeout=60)
        counts = received(api, titles)
        assert set(counts) == {(chat, title) for chat in chats for title in titles}
        assert sum(counts.values()) == 90 and max(counts.values()) == 1, "an announcement was sent twice"
        with Store(data_dir / "state.sqlite3") as store:
            assert store.outbox_counts() == {"sent": 90}


async def test_a_watcher_killed_in_the_middle_of_a_digest_resends_at_most_the_part_in_flight(tmp_path: Path) -> None:
    titles = [f"Digest paper {n:02d}" for n in range(30)]
    async with FakeUpstream() as upstream, SlowTelegramAPI() as api:
        upstream.publish("research", RESEARCH)
        config = write_config(tmp_path, upstream, api, "digest_after: 5, timeout: 10, max_added: 100")
        data_dir = tmp_path / "data"
        await run_watch(config, data_dir, api, kill_after=None)
        with Store(data_dir / "state.sqlite3") as store:
            store.add_subscription("telegram", "-1001", "", "admin")
        upstream.publish("research", with_papers(RESEARCH, titles))
        await run_watch(config, data_dir, api, kill_after=2)  # killed while part 2 goes out
        await run_watch(config, data_dir, api, kill_after=None)
        counts = received(api, titles)
        assert set(counts) == {("-1001", title) for title in titles}  # nothing lost
        twice = [title for (_, title), count in counts.items() if count > 1]
        assert len(twice) <= DIGEST_PART, twice  # one kill: at most the one part in flight again
        first = [str(call.params.get("text", "")) for call in api.calls_to("sendMessage") if call.status == 200]
        assert "30 new entries in research (1/4)" in first[0]  # a digest in parts, each its own message


class FlakyChatAPI(FakeTelegramAPI):  # type: ignore[misc]
    """One chat's messages fail with 502 Bad Gateway; every other chat is fine."""

    bad_chat = "-100666"

    async def _api_sendMessage(self, params: dict[str, Any]) -> tuple[int, Any]:
        if str(params.get("chat_id")) == self.bad_chat:
            return 502, "Bad Gateway"
        self.delivered_at = time.monotonic()
        return await super()._api_sendMessage(params)


async def test_a_chat_that_keeps_failing_does_not_delay_a_healthy_chat(tmp_path: Path) -> None:
    paper = Version("1", "h1", ())
    async with FlakyChatAPI() as api:
        settings = load_settings(None, tmp_path, environ={})
        with Store(tmp_path / "state.sqlite3") as store:
            store.add_subscription("telegram", FlakyChatAPI.bad_chat, "", "pi")
            store.add_subscription("telegram", "-100777", "", "pi")
            from tests.test_announcer import paper as make_paper

            entry = make_paper(1)
            store.accept_version("l", paper, now=_now(), poll_id=store.begin_poll(_now()))
            store.accept_version("l", Version("2", "h2", (entry,)), now=_now(), poll_id=store.begin_poll(_now()),
                                 candidates=(entry,), match=lambda _filter, _entry: True)
            async with Bot(api.token, base_url=api.base_url) as bot:
                started = time.monotonic()
                report = await deliver(store, {"telegram": TelegramSender(bot)}, settings)
            assert api.delivered_at - started < 5.0
            assert report.messages == 1 and report.retried >= 1
            (waiting,) = store.due_outbox(_now() + _hours(2))
            assert waiting.chat == FlakyChatAPI.bad_chat  # rescheduled, not lost, not blocking
            assert store.list_subscriptions("telegram", FlakyChatAPI.bad_chat)  # and still subscribed


def _now() -> Any:
    from bot.store.records import utcnow

    return utcnow()


def _hours(n: int) -> Any:
    from datetime import timedelta

    return timedelta(hours=n)


async def test_one_member_flooding_a_group_leaves_the_others_answered_at_once(bundled_core: MedBot) -> None:
    group = {"platform": "telegram", "chat_id": "-100555", "chat_type": "group"}
    flooder = Context(user_id="spammer", **group)
    answered = 0
    for _ in range(100):
        if await bundled_core.handle("/search lesion detection", flooder) is not None:
            answered += 1
    started = time.monotonic()
    reply = await bundled_core.handle("/start", Context(user_id="colleague", **group))
    assert reply is not None and "medbot" in reply.title and time.monotonic() - started < 5.0
    assert answered <= 9  # a few answers and one "slow down", then silence: the group's flood budget is kept


async def test_the_bot_token_appears_in_no_log_line_and_no_database_row(tmp_path: Path) -> None:
    async with FakeUpstream() as upstream, FakeTelegramAPI() as api:
        upstream.publish("research", RESEARCH)
        config = write_config(tmp_path, upstream, api, "timeout: 10")
        data_dir = tmp_path / "data"
        env = medbot_env(TELEGRAM_BOT_TOKEN=api.token, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")

        async def watch_once() -> str:
            process = await asyncio.create_subprocess_exec(
                *medbot_command("-vv", "--config", str(config), "--data-dir", str(data_dir), "watch", "--once"),
                env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(process.communicate(), timeout=120)
            return out.decode() + err.decode()

        logs = await watch_once()
        with Store(data_dir / "state.sqlite3") as store:
            store.add_subscription("telegram", "-1001", "", "admin")
        upstream.publish("research", with_papers(RESEARCH, ["Token probe paper"]))
        # The Bot API echoes the request URL, token and all, in its error: it gets logged and stored.
        api.fail("sendMessage", 500, description=f"Internal error at {api.base_url}{api.token}/sendMessage", times=20)
        logs += await watch_once()
    secret = api.token.split(":")[1]
    assert "sendMessage" in logs and secret not in logs
    rows = sqlite3.connect(data_dir / "state.sqlite3").execute("SELECT last_error FROM outbox").fetchall()
    assert rows and all(secret not in (row[0] or "") for row in rows)
    assert secret.encode() not in (data_dir / "state.sqlite3").read_bytes()


async def test_terminal_escapes_and_direction_overrides_in_a_list_reach_neither_a_terminal_nor_a_chat(tmp_path: Path) -> None:
    hostile = "* [Clear\x1bc screen \u202eevil\u202c paper\x07\x08](https://example.org/hostile) - bell\x07 and\x1b[31m red\n"
    (tmp_path / "hostile.md").write_text("# Hostile list\n\n## Tricks\n\n" + hostile, encoding="utf-8")
    (tmp_path / "medbot.yaml").write_text("sources:\n  - path: hostile.md\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        *medbot_command("--config", str(tmp_path / "medbot.yaml"), "--data-dir", str(tmp_path / "data"), "search", "screen"),
        env=medbot_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    printed = out.decode()
    assert "Clear" in printed and "evil" in printed and not CONTROL & set(printed)
    core = MedBot.load(tmp_path / "medbot.yaml", tmp_path / "data")
    try:
        reply = await core.handle("/search screen", Context(platform="telegram", chat_id="1"))
        assert reply is not None and reply.entries
        for message in render_reply(reply):
            assert "evil" in message and not CONTROL & set(message)
    finally:
        core.close()
