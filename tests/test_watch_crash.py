"""The watcher is killed (SIGKILL) mid-delivery, again and again: nobody misses a paper.

A real ``medbot watch --once`` subprocess polls a fake upstream and delivers through the
real python-telegram-bot to the fake Bot API, whose ``sendMessage`` answers slowly so the
kills land while a message is in flight. After a last, uninterrupted run every
subscribed chat must have every new entry, with at most one duplicate per kill (the
message that was in flight when the process died).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.store.sqlite import Store
from tests.conftest import medbot_command, medbot_env
from tests.fakes import telegram_api
from tests.fakes.upstream import FakeUpstream  # noqa: E402

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
RESEARCH = (REPO / "data/lists/awesome-medical-research.md").read_text(encoding="utf-8")
NEW_TITLES = [f"Crash-safe paper {n}: lesion segmentation at scale" for n in range(5)]
CHATS = ["-1001111", "-1002222", "4242"]  # two groups and a private chat
KILLS = 3
SEND_DELAY = 0.3


class SlowTelegramAPI(telegram_api.FakeTelegramAPI):  # type: ignore[misc, name-defined]
    """The fake Bot API, slow to accept a message, counting messages started."""

    def __init__(self) -> None:
        super().__init__()
        self.started = 0
        self.progress = asyncio.Event()

    async def _api_sendMessage(self, params: dict[str, Any]) -> tuple[int, Any]:
        self.started += 1
        self.progress.set()
        await asyncio.sleep(SEND_DELAY)
        return await super()._api_sendMessage(params)

    def received(self) -> Counter[tuple[str, str]]:
        """(chat, title) -> how many times that chat got it."""
        counts: Counter[tuple[str, str]] = Counter()
        for call in self.calls_to("sendMessage"):
            if call.status == 200:
                for title in NEW_TITLES:
                    if title in str(call.params.get("text", "")):
                        counts[(str(call.params["chat_id"]), title)] += 1
        return counts


def with_new_papers(text: str) -> str:
    items = "".join(f"* {title} [`arxiv`](https://arxiv.org/abs/2602.{n:05d})\n\n" for n, title in enumerate(NEW_TITLES))
    return text.replace("## Lesion Detection\n", "## Lesion Detection\n" + items, 1)


async def run_watch(config: Path, data_dir: Path, api: SlowTelegramAPI, *, kill_after: int | None) -> int:
    """One ``medbot watch --once``; with ``kill_after``, SIGKILL once that many more sends began."""
    env = medbot_env(TELEGRAM_BOT_TOKEN=api.token, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    process = await asyncio.create_subprocess_exec(
        *medbot_command("--config", str(config), "--data-dir", str(data_dir), "watch", "--once"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    if kill_after is None:
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode == 0, err.decode()
        return 0
    target = api.started + kill_after
    exited = asyncio.ensure_future(process.wait())
    while api.started < target:
        api.progress.clear()
        waiter = asyncio.ensure_future(api.progress.wait())
        await asyncio.wait({waiter, exited}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        assert not exited.done(), "the watcher finished before it could be killed"
    await asyncio.sleep(SEND_DELAY / 3)  # well inside the slow sendMessage: mid-flight
    process.send_signal(signal.SIGKILL)
    await process.communicate()
    await exited
    return 1


async def test_sigkill_mid_delivery_loses_nothing_and_duplicates_at_most_one_per_kill(tmp_path: Path) -> None:
    async with FakeUpstream() as upstream, SlowTelegramAPI() as api:
        upstream.publish("research", RESEARCH)
        config = tmp_path / "medbot.yaml"
        config.write_text(
            "sources:\n"
            f"  - name: research\n    url: {upstream.url('research')}\n"
            "watch: {digest_after: 10, timeout: 10}\n"
            f"telegram: {{base_url: '{api.root_url}'}}\n",
            encoding="utf-8",
        )
        data_dir = tmp_path / "data"
        await run_watch(config, data_dir, api, kill_after=None)  # the baseline: nothing to say
        assert api.calls_to("sendMessage") == []
        with Store(data_dir / "state.sqlite3") as store:
            for chat in CHATS:
                store.add_subscription("telegram", chat, "", "admin")

        upstream.publish("research", with_new_papers(RESEARCH))
        kills = 0
        for _ in range(KILLS):
            kills += await run_watch(config, data_dir, api, kill_after=2)
        await run_watch(config, data_dir, api, kill_after=None)

        received = api.received()
        expected = {(chat, title) for chat in CHATS for title in NEW_TITLES}
        assert set(received) == expected, f"missing: {sorted(expected - set(received))}"
        duplicates = sum(count - 1 for count in received.values())
        sys.stderr.write(f"\ncrash test: {kills} kills, {sum(received.values())} messages for {len(expected)} "
                         f"announcements, {duplicates} duplicates\n")
        # Each chat is its own lane, so a kill can catch one message per chat in flight.
        for chat in CHATS:
            assert sum(count - 1 for (to, _), count in received.items() if to == chat) <= kills, chat
        with Store(data_dir / "state.sqlite3") as store:
            assert store.outbox_counts() == {"sent": len(expected)}

