"""``medbot watch --once``, ``medbot new`` and ``medbot feed`` as a lab admin runs them from cron."""

from __future__ import annotations

import asyncio
from pathlib import Path

import feedparser
import pytest

from bot.store.sqlite import Store
from tests.conftest import medbot_command, medbot_env
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
RESEARCH = (REPO / "data/lists/awesome-medical-research.md").read_text(encoding="utf-8")
NEW_TITLES = [f"Lesion paper {n}: segmentation at scale" for n in range(5)]


def with_new_papers(text: str) -> str:
    items = "".join(f"* {title} [`arxiv`](https://arxiv.org/abs/2603.{n:05d})\n\n" for n, title in enumerate(NEW_TITLES))
    return text.replace("## Lesion Detection\n", "## Lesion Detection\n" + items, 1)


async def test_without_a_token_announcements_wait_in_the_outbox_and_the_feed_and_new_show_them(tmp_path: Path) -> None:
    async with FakeUpstream() as upstream:
        upstream.publish("research", RESEARCH)
        config = tmp_path / "medbot.yaml"
        config.write_text(f"sources:\n  - name: research\n    url: {upstream.url('research')}\n", encoding="utf-8")
        data_dir = tmp_path / "data"
        base = ["--config", str(config), "--data-dir", str(data_dir)]

        async def medbot(*args: str) -> str:
            process = await asyncio.create_subprocess_exec(
                *medbot_command(*base, *args), env=medbot_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await asyncio.wait_for(process.communicate(), timeout=120)
            assert process.returncode == 0, err.decode()
            return out.decode()

        assert "first version recorded" in await medbot("watch", "--once")
        with Store(data_dir / "state.sqlite3") as store:
            store.add_subscription("telegram", "-1001111", "lesion", "admin")
        upstream.publish("research", with_new_papers(RESEARCH))
        output = await medbot("watch", "--once")
        assert "research: changed: 5 new entries" in output
        assert "5 announcements still queued (no sender for telegram: set TELEGRAM_BOT_TOKEN)" in output
        assert NEW_TITLES[0] in await medbot("new")
        feed = tmp_path / "new.atom"
        await medbot("feed", "--output", str(feed))
        parsed = feedparser.parse(feed.read_text(encoding="utf-8"))
        assert not parsed.bozo and sorted(e.title for e in parsed.entries) == sorted(NEW_TITLES)


async def test_watch_with_a_rejected_telegram_token_says_so_in_one_line_without_the_token(tmp_path: Path) -> None:
    # A cron job with a mistyped token: one line on stderr, exit 1, no traceback and no token.
    from tests.fakes import FakeTelegramAPI

    wrong_token = ":".join(("999999999", "AAWrongTokenWrongTokenWrongToken1234"))
    config = tmp_path / "medbot.yaml"
    config.write_text(f"sources:\n  - name: research\n    path: {REPO / 'data/lists/awesome-medical-research.md'}\n", encoding="utf-8")
    async with FakeTelegramAPI() as api:
        env = medbot_env(TELEGRAM_BOT_TOKEN=wrong_token, MEDBOT_TELEGRAM_BASE_URL=api.root_url, NO_PROXY="127.0.0.1,localhost")
        process = await asyncio.create_subprocess_exec(
            *medbot_command("--config", str(config), "--data-dir", str(tmp_path / "data"), "watch", "--once"),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    log = stderr.decode()
    assert process.returncode == 1, log
    assert "could not start" in log and "rejected" in log
    assert "Traceback" not in log
    assert wrong_token not in log and wrong_token.split(":")[1] not in log


async def test_an_operator_forces_a_poll_and_reads_each_sources_state(tmp_path: Path) -> None:
    async with FakeUpstream() as upstream:
        upstream.publish("research", RESEARCH)  # "down" is never published: every poll of it gets a 404
        config = tmp_path / "medbot.yaml"
        config.write_text(f"sources:\n  - name: research\n    url: {upstream.url('research')}\n"
                          f"  - name: down\n    url: {upstream.url('down')}\n", encoding="utf-8")
        base = ["--config", str(config), "--data-dir", str(tmp_path / "data")]

        async def medbot(*args: str) -> tuple[int, str, str]:
            process = await asyncio.create_subprocess_exec(
                *medbot_command(*base, *args), env=medbot_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await asyncio.wait_for(process.communicate(), timeout=120)
            return int(process.returncode or 0), out.decode(), err.decode()

        code, out, _ = await medbot("watch", "--once")
        assert code == 0 and "1 of 2 due polls failed" in out  # one list is still fine
        code, out, _ = await medbot("watch", "--once", "--source", "down")
        assert code == 0 and "backing off" in out  # in backoff: nothing was due, so nothing failed
        code, out, _ = await medbot("watch", "--once", "--force", "--source", "down")
        assert code == 1 and "failed" in out and "backing off" not in out
        assert len(upstream.statuses("down")) == 2  # forced: polled despite the backoff
        code, out, err = await medbot("watch", "--once", "--source", "nosuch")
        assert code == 2 and "nosuch" in err
        code, out, _ = await medbot("sources")
        down = out[out.index("down:"):]
        assert "failing" in down.splitlines()[0] and "next poll 20" in down.splitlines()[0]
        assert "last error:" in down and "404" in down
        assert "research: good" in out


async def test_a_subscription_is_a_saved_search_across_languages(tmp_path: Path) -> None:
    async with FakeUpstream() as upstream:
        upstream.publish("research", RESEARCH)
        config = tmp_path / "medbot.yaml"
        config.write_text(f"sources:\n  - name: research\n    url: {upstream.url('research')}\n", encoding="utf-8")
        base = ["--config", str(config), "--data-dir", str(tmp_path / "data")]

        async def medbot(*args: str, stdin: str = "") -> str:
            process = await asyncio.create_subprocess_exec(
                *medbot_command(*base, *args), env=medbot_env(), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
            assert process.returncode == 0, err.decode()
            return out.decode()

        await medbot("watch", "--once")  # the baseline
        answered = await medbot("chat", stdin="/subscribe 分割\n/subscribe zzqx-nothing-like-it\n")
        assert "It matches 1 entry already" in answered and "Medical segmentation decathlon" in answered, answered
        assert "matches nothing" in answered
        tool = "* [ClusterKit](https://github.com/lab/clusterkit) - lesion segmentation at scale\n\n"  # no 分割 in it
        upstream.publish("research", RESEARCH.replace("## Lesion Detection\n", "## Lesion Detection\n" + tool, 1))
        delivered = await medbot("watch", "--once")
    assert "ClusterKit" in delivered, delivered
