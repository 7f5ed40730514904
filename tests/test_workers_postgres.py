"""A public instance: three ``medbot serve`` workers on one PostgreSQL, the fake Telegram.

Workers die mid-delivery (kill -9), the elected watcher dies too, and still every
announcement reaches every chat, duplicates stay at one per kill, no chat gets messages
faster than Telegram allows, and only one worker polls the lists at a time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.telegram.settings import webhook_secret
from bot.store.sqlite import Store
from tests.conftest import REPO_ROOT
from tests.fakes import FakeTelegramAPI
from tests.fakes.upstream import FakeUpstream
from tests.workers import Worker, watcher_polls

pytestmark = [pytest.mark.slow]
pytest.importorskip("psycopg")

CHATS = [f"-100{n:04d}" for n in range(1, 31)]
FIRST = [f"Lab paper {n:02d}: lesion maps" for n in range(5)]
SECOND = [f"Lab paper {n:02d}: lesion maps" for n in range(5, 10)]
CHAT_INTERVAL = 1.0  # Telegram's per-chat limit (TelegramSender.shared_limits keeps 1.25 s, a margin for the request's own delay)


def lab_list(titles: list[str]) -> str:
    items = "".join(f"* [{title}](https://arxiv.org/abs/2604.{n:05d}) - a lesion method.\n" for n, title in enumerate(titles))
    return "# Lab list\n\n## Lesion Detection\n\n* [Baseline paper](https://arxiv.org/abs/2604.99999) - known.\n" + items


def write_config(path: Path, source_url: str, state_url: str) -> Path:
    path.write_text(
        f"sources:\n  - name: lab\n    url: {source_url}\n"
        f"state:\n  url: {state_url}\n"
        "watch:\n  interval: 1\n  jitter: 0\n  tick: 0.5\n  digest_after: 100\n  max_added: 1000\n",
        encoding="utf-8",
    )
    return path


def sent_titles(api: FakeTelegramAPI) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for call in api.calls_to("sendMessage"):
        if call.status == 200:
            for title in (*FIRST, *SECOND):
                if title in str(call.params.get("text", "")):
                    counts[(str(call.params["chat_id"]), title)] += 1
    return counts


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def delivering_pid(store: Store, exclude: int | None = None) -> int | None:
    """A worker holding claimed rows right now (the owner is ``host:pid:nonce``)."""
    rows = store._query("SELECT DISTINCT owner FROM outbox WHERE state = 'sending' AND owner IS NOT NULL")
    pids = [int(str(row[0]).split(":")[1]) for row in rows]
    return next((pid for pid in pids if pid != exclude), None)


def holder(workers: list[Worker]) -> Worker:
    """The worker whose current run last took the watcher role."""
    return next(w for w in workers if w.process and w.process.poll() is None and "holds the watcher role" in w.log_text())


async def test_three_workers_deliver_300_announcements_through_kills(tmp_path: Path, postgres: object) -> None:
    url = postgres.new_database()  # type: ignore[attr-defined]
    with Store(url) as store:
        for chat in CHATS:
            store.add_subscription("telegram", chat, "", "admin")
    async with FakeUpstream() as upstream, FakeTelegramAPI() as api:
        upstream.publish("lab", lab_list([]))
        config = write_config(tmp_path / "medbot.yaml", upstream.url("lab"), url)
        env = {"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url}
        workers = [Worker(f"w{n}", config, tmp_path / f"w{n}" / "data", env) for n in range(3)]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                await worker.wait_for_log("medbot is serving")
            with Store(url) as store:
                await wait_until(lambda: store.source_state("lab") is not None, 60, "the baseline poll")
                upstream.publish("lab", lab_list(FIRST))  # 5 new papers x 30 chats
                await wait_until(lambda: sum(c.status == 200 for c in api.calls_to("sendMessage")) >= 15, 60, "delivery")
                watcher = holder(workers)
                for _ in range(2):  # a delivering worker (not the watcher) dies twice
                    pid = delivering_pid(store, watcher.pid)
                    victim = next((w for w in workers if w.pid == pid), None) or next(w for w in workers if w is not watcher)
                    victim.kill()
                    victim.start()
                    await asyncio.sleep(1.5)
                watcher_died = watcher.kill()  # the elected watcher dies; another worker must take the role and poll
                watcher.start()
                await asyncio.sleep(1.0)
                upstream.publish("lab", lab_list(FIRST + SECOND))  # 5 more papers, only a new watcher finds them
                await wait_until(lambda: len(sent_titles(api)) >= 300, 150, "all 300 announcements")
                # A row is marked sent once Telegram has answered, so the last mark may lag the
                # call; a row whose worker was killed between the two is sent again when its
                # lease (2 minutes) runs out: a duplicate, never a loss.
                await wait_until(lambda: store.outbox_counts().get("sent") == 300, 150, "every row marked sent")
                counts = store.outbox_counts()
                receiving = [w.name for w in workers if "receives updates now" in w.log_text()]
                await api.wait_for("getUpdates", where=lambda call: call.at > watcher_died + 1, timeout=30)
        finally:
            for worker in workers:
                worker.stop()
        delivered = sent_titles(api)
    assert len(delivered) == 300 and counts.get("sent") == 300, counts  # 0 lost
    duplicates = sum(n - 1 for n in delivered.values())
    assert duplicates <= 3, duplicates  # at most one per kill
    times: dict[str, list[float]] = defaultdict(list)
    for call in api.calls_to("sendMessage"):
        times[str(call.params["chat_id"])].append(call.at)
    for chat, moments in times.items():
        moments.sort()
        gaps = [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]
        assert min(gaps) >= CHAT_INTERVAL - 0.1, (chat, min(gaps))  # Telegram's per-chat limit held across workers
    polls = watcher_polls(workers)
    for (who, _, end), (other, start, _) in zip(polls, polls[1:], strict=False):
        assert start >= end - 0.01 or who == other, (who, other, end, start)  # one watcher polling at any time
    assert len({who for who, _, _ in polls}) >= 2  # the role passed on when its holder died
    assert len(receiving) == 1, receiving  # Telegram long polling follows the role: one poller (else 409)


async def test_a_button_pressed_on_worker_b_opens_the_message_worker_a_sent(tmp_path: Path, postgres: object) -> None:
    url = postgres.new_database()
    lists = REPO_ROOT / "data" / "lists"
    ports = [_free_port(), _free_port()]
    shared_url = f"http://127.0.0.1:{ports[0]}/telegram"  # the reverse proxy's URL, here worker A's
    async with FakeTelegramAPI() as api:
        config = tmp_path / "medbot.yaml"
        config.write_text(
            "sources:\n" + "".join(f"  - name: {p.stem}\n    path: {p}\n" for p in sorted(lists.glob("*.md")))
            + f"state:\n  url: {url}\ntelegram:\n  webhook_url: {shared_url}\n", encoding="utf-8")
        workers = [Worker(name, config, tmp_path / name / "data", {
            "TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url,
            "MEDBOT_TELEGRAM_WEBHOOK_PORT": str(port)}) for name, port in zip("ab", ports, strict=True)]
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                await worker.wait_for_log("Telegram: webhook at")  # every worker accepts updates
            secret = webhook_secret(api.token)
            api.webhook = {"url": f"http://127.0.0.1:{ports[0]}/telegram", "secret_token": secret}  # the proxy picks A
            api.send_text("/search lesion detection deep learning methods for computed tomography")
            [answer] = await api.wait_for("sendMessage", timeout=60)
            keyboard = answer.params["reply_markup"]
            keyboard = keyboard if isinstance(keyboard, dict) else json.loads(keyboard)
            next_page = next(b["callback_data"] for row in keyboard["inline_keyboard"] for b in row
                             if str(b.get("callback_data", "")).startswith("S|2|"))  # a token: the query is too long
            api.webhook = {"url": f"http://127.0.0.1:{ports[1]}/telegram", "secret_token": secret}  # the press goes to B
            api.press(api.message_from_call(answer), next_page)
            [edit] = await api.wait_for("editMessageText", timeout=60)
        finally:
            for worker in workers:
                worker.stop()
    assert "6–10 of" in edit.params["text"] and "<b>6.</b>" in edit.params["text"], edit.params["text"][:300]  # page 2, from B


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
