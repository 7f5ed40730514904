"""Scheduled digests an operator can trust, told with real processes: a ``watch --once``
killed with SIGKILL in the middle of a daily digest, and ``medbot deliveries`` showing a
delivery the platform refused, with its error.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.telegram.sending import TelegramSender
from bot.store.sqlite import Store
from bot.watch.messages import DIGEST_PART
from tests.conftest import medbot_command, medbot_env
from tests.fakes import FakeTelegramAPI
from tests.fakes.upstream import FakeUpstream
from tests.routing_lab import lab, paper_line
from tests.test_delivery_stories import RESEARCH, received, with_papers, write_config
from tests.test_watch_crash import SlowTelegramAPI, run_watch

pytestmark = pytest.mark.slow


async def test_a_watcher_killed_in_the_middle_of_a_daily_digest_loses_nothing_and_repeats_at_most_one_part(tmp_path: Path) -> None:
    titles = [f"Daily digest paper {n:02d}" for n in range(30)]
    async with FakeUpstream() as upstream, SlowTelegramAPI() as api:
        upstream.publish("research", RESEARCH)
        config = write_config(tmp_path, upstream, api, "digest_after: 5, timeout: 10, max_added: 100")
        data_dir = tmp_path / "data"
        await run_watch(config, data_dir, api, kill_after=None)  # the baseline
        with Store(data_dir / "state.sqlite3") as store:
            store.add_subscription("telegram", "-1001", "", "admin", schedule="daily 08:00")
        upstream.publish("research", with_papers(RESEARCH, titles))
        await run_watch(config, data_dir, api, kill_after=None)  # found and queued for tomorrow 08:00 UTC
        assert not received(api, titles)
        state = sqlite3.connect(data_dir / "state.sqlite3")
        with state:
            due = {row[0] for row in state.execute("SELECT due FROM outbox WHERE state = 'pending'")}
            assert len(due) == 1 and datetime.fromisoformat(due.pop()).strftime("%H:%M") == "08:00"
            # The day passes: the watcher's clock cannot be injected into a subprocess, so
            # the rows' due time is moved to the past instead (same effect, no waiting).
            past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="microseconds")
            state.execute("UPDATE outbox SET due = ?, next_try = ?", (past, past))
        state.close()

        await run_watch(config, data_dir, api, kill_after=2)  # killed while part 2 of the digest goes out
        await run_watch(config, data_dir, api, kill_after=None)

        counts = received(api, titles)
        assert set(counts) == {("-1001", title) for title in titles}  # every entry arrived
        twice = [title for (_, title), count in counts.items() if count > 1]
        assert len(twice) <= DIGEST_PART, twice  # at most the one message in flight, again
        texts = [str(call.params.get("text", "")) for call in api.calls_to("sendMessage") if call.status == 200]
        assert "Digest: 30 new entries in research (1/4)" in texts[0]
        with Store(data_dir / "state.sqlite3") as store:
            assert store.outbox_counts() == {"sent": 30}


async def test_medbot_deliveries_lists_a_refused_delivery_with_its_error(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api:
        environ = {"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url}
        async with lab(tmp_path, environ) as lab_:
            now = datetime.now(UTC)
            await lab_.poll(now - timedelta(hours=1))
            lab_.core.store.add_subscription("telegram", "-100777", "", "pi")
            lab_.add_papers(paper_line("Zebrafish refused paper"), paper_line("Zebrafish fine paper"))
            await lab_.poll(now)
            api.fail("sendMessage", 400, description="Bad Request: can't parse entities: unclosed tag")
            from telegram import Bot

            async with Bot(api.token, base_url=api.base_url) as bot:
                report = await lab_.deliver_at(now, {"telegram": TelegramSender(bot)})
            assert report.failed == 1 and report.messages == 1

        env = medbot_env()
        base = medbot_command("--config", str(tmp_path / "medbot.yaml"), "--data-dir", str(tmp_path / "data"), "deliveries")
        process = await asyncio.create_subprocess_exec(*base, "--json", "--chat", "telegram:-100777", "--since", "1d",
                                                       env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, err.decode()
        rows = json.loads(out)
        assert {row["state"] for row in rows} == {"sent", "failed"}
        [failed] = [row for row in rows if row["state"] == "failed"]
        assert failed["title"] == "Zebrafish refused paper" and "Can't parse entities" in failed["last_error"]

        process = await asyncio.create_subprocess_exec(*base, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        text = out.decode()
        assert "failed" in text and "last error: refused: telegram refused the message: Can't parse entities" in text
