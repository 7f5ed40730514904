"""Delivery throughput with 1 and 3 workers sharing one PostgreSQL (``medbot bench``'s ``delivery``).

The parent starts a throwaway PostgreSQL (``benchmarks/postgres.py``), queues announcements
for many chats through the store exactly as the watcher does, and starts N worker
processes that run ``bot.watch.delivery.deliver`` until the outbox is empty. The
platform is a sender that takes ``latency_ms`` per message (a Bot API round trip) and
keeps no flood limits, so the figure is the delivery machinery's: claims, leases, one
message in flight per worker, the state's writes. Timed from the commit that queues the
rows to the last worker's exit, with every worker already started and waiting.

Run as ``python -m benchmarks.deliverybench URL LATENCY_MS`` it is one such worker.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import REPO

__all__ = ["delivery_phase"]

PLATFORM = "bench"


def delivery_phase(args: dict[str, Any]) -> dict[str, Any]:
    """``{"messages", "chats", "latency_ms", "workers": [1, 3]}`` -> messages a second per worker count."""
    from benchmarks.postgres import find_binaries, running_postgres

    if find_binaries() is None:
        return {"skipped": "PostgreSQL binaries (initdb, pg_ctl) not installed"}
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return {"skipped": "psycopg not installed (pip install 'medbot[postgres]')"}
    messages, chats, latency = int(args["messages"]), int(args["chats"]), float(args["latency_ms"])
    figures: dict[str, Any] = {"messages": messages, "chats": chats, "latency_ms": latency}
    with running_postgres() as server:
        for count in args.get("workers", [1, 3]):
            url = server.new_database()
            figures[f"workers_{count}"] = _run(url, count, messages, chats, latency)
    one, three = figures.get("workers_1"), figures.get("workers_3")
    if one and three:
        figures["speedup_3_over_1"] = round(three["msgs_per_s"] / one["msgs_per_s"], 2)
    return figures


def _run(url: str, workers: int, messages: int, chats: int, latency: float) -> dict[str, Any]:
    from bot.store.sqlite import Store

    with Store(url) as store:  # migrated before any worker opens it
        pass
    command = [sys.executable, "-m", "benchmarks.deliverybench", url, str(latency)]
    children = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    try:
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("a delivery worker did not start")
        with Store(url) as store:
            started = _queue(store, messages, chats)
            for child in children:
                child.wait(timeout=600)
            elapsed = time.perf_counter() - started
            counts = store.outbox_counts()
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            if child.stdout is not None:
                child.stdout.close()
    sent = counts.get("sent", 0)
    return {"seconds": round(elapsed, 3), "sent": sent, "msgs_per_s": round(sent / elapsed, 1) if elapsed else None}


def _queue(store: Any, messages: int, chats: int) -> float:
    """The announcements one poll queues (one per entry and chat); returns when they were committed."""
    from bot.core.saved_search import saved_search
    from bot.core.settings import DATA_DIR
    from bot.store.records import Version, utcnow
    from index.model import Entry, Link, entry_id, identity_key

    now = utcnow()
    for chat in range(chats):
        store.add_subscription(PLATFORM, f"chat-{chat}", "", "bench", now=now)
    per_chat = max(1, messages // chats)
    entries = []
    for number in range(per_chat):
        url = f"https://arxiv.org/abs/2605.{number:05d}"
        title = f"Bench paper {number}"
        entries.append(Entry(id=entry_id(identity_key(url, title)), title=title, url=url, links=(Link("paper", url),),
                             section=("Bench",), source="bench"))
    store.accept_version("bench", Version("0", "h0", ()), now=now, poll_id=store.begin_poll(now))
    match = saved_search(DATA_DIR / "synonyms.yaml")
    store.accept_version("bench", Version("1", "h1", tuple(entries)), now=now, poll_id=store.begin_poll(now),
                         candidates=entries, match=match)
    return time.perf_counter()


class _LatencySender:
    """A platform whose every send takes ``latency`` seconds and always succeeds."""

    platform = PLATFORM

    def __init__(self, latency: float) -> None:
        from bot.core.sending import RateLimit

        self.latency = latency
        self.limits = RateLimit()
        self.shared_limits = RateLimit()

    async def send_reply(self, chat_id: str, reply: Any, *, silent: bool = False) -> None:
        await asyncio.sleep(self.latency)


async def _work(url: str, latency_ms: float) -> None:
    from bot.core.settings import Settings, WatchSettings
    from bot.store.sqlite import Store
    from bot.watch.delivery import deliver

    settings = Settings(sources=(), data_dir=Path(tempfile.gettempdir()), watch=WatchSettings(digest_after=100_000))
    sender = _LatencySender(latency_ms / 1000)
    with Store(url) as store:
        print("ready", flush=True)
        seen_work = False
        while True:
            report = await deliver(store, {PLATFORM: sender}, settings)
            counts = await asyncio.to_thread(store.outbox_counts)
            waiting = counts.get("pending", 0) + counts.get("sending", 0)
            seen_work = seen_work or bool(counts)
            if seen_work and not waiting:
                return
            if not report.messages:
                await asyncio.sleep(0.02)


if __name__ == "__main__":
    asyncio.run(_work(sys.argv[1], float(sys.argv[2])))
