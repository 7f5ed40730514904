"""Several workers on one PostgreSQL: claims, the watcher election, shared tokens, moving a lab's state."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.paging import Action, PageTokens, decode, encode
from bot.store.election import open_election
from bot.store.sqlite import Store
from tests.conftest import medbot_command, medbot_env
from tests.test_store import MATCH, PAPER, T0, make_entry, version

pytest.importorskip("psycopg")

ENTRIES = [make_entry(f"Lesion paper {n}", f"https://arxiv.org/abs/2001.{n:05d}") for n in range(12)]


def queue_announcements(store: Store, chats: int) -> None:
    for chat in range(chats):
        store.add_subscription("telegram", f"-{chat + 1}", "", "u", now=T0)
    store.accept_version("l", version(text="0"), now=T0, poll_id=store.begin_poll(T0))
    store.accept_version("l", version(*ENTRIES, text="1"), now=T0, poll_id=store.begin_poll(T0), candidates=ENTRIES, match=MATCH)


def test_two_workers_claiming_at_once_never_share_a_row_or_a_chat(postgres: object) -> None:
    url = postgres.new_database()  # type: ignore[attr-defined]
    with Store(url) as first, Store(url) as second:
        queue_announcements(first, chats=6)
        claimed: dict[str, list[tuple[int, str]]] = {}
        barrier = threading.Barrier(2)

        def claim(name: str, store: Store) -> None:
            barrier.wait()
            rows = store.claim_outbox(f"host-x:{name}", T0, T0 + timedelta(minutes=2))
            claimed[name] = [(row.id, row.chat) for row in rows]

        threads = [threading.Thread(target=claim, args=(name, store)) for name, store in (("a", first), ("b", second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ids = [row for rows in claimed.values() for row, _ in rows]
        assert len(ids) == len(set(ids)) == 6 * len(ENTRIES)  # every row claimed once; the first claim took them all
        # New rows for a chat the other worker is still sending to stay with that worker.
        busy_chat = claimed["a"][0][1] if claimed["a"] else claimed["b"][0][1]
        holder = "a" if claimed["a"] else "b"
        later = make_entry("A later lesion paper", "https://arxiv.org/abs/2002.00001")
        first.accept_version("l", version(*ENTRIES, later, text="2"), now=T0, poll_id=first.begin_poll(T0), candidates=(later,), match=MATCH)
        other = "b" if holder == "a" else "a"
        taken = second.claim_outbox(f"host-x:{other}", T0, T0 + timedelta(minutes=2))
        assert taken == []  # every chat is held by the live holder (host-x: not this machine, so alive)
        after_lease = second.claim_outbox(f"host-x:{other}", T0 + timedelta(minutes=3), T0 + timedelta(minutes=5))
        assert busy_chat in {row.chat for row in after_lease}  # the holder's lease ran out: taken over


def test_one_watcher_at_a_time_and_a_dead_holders_role_passes_on(postgres: object) -> None:
    url = postgres.new_database()  # type: ignore[attr-defined]
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from bot.store.election import open_election;"
         " e = open_election(sys.argv[1]); assert e.hold(); print('held', flush=True); time.sleep(60)", url],
        env=medbot_env(), stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine, third = open_election(url), open_election(url)
        assert not mine.hold() and not third.hold()
        holder.kill()  # kill -9: no goodbye, the server drops its session and its lock
        holder.wait(timeout=10)
        for _ in range(50):
            if mine.hold():
                break
            threading.Event().wait(0.1)
        assert mine.hold() and not third.hold()
        mine.close()  # a clean stop hands the role over at once
        try:
            assert third.hold()
        finally:
            third.close()
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_button_made_by_one_worker_opens_on_another(postgres: object) -> None:
    url = postgres.new_database()  # type: ignore[attr-defined]
    with Store(url) as worker_a, Store(url) as worker_b:
        argument = "lesion detection in chest CT with weak labels " * 2  # too long for 64 bytes: a token
        payload = encode(Action("s", argument, 2), PageTokens(backing=worker_a))
        assert payload.startswith("S|2|")
        assert decode(payload, PageTokens(backing=worker_b)) == Action("s", argument, 2)
        assert decode(payload, PageTokens()) is None  # without the shared state: a stale button


def test_migrate_copies_a_labs_whole_state_into_postgresql(tmp_path: Path, postgres: object) -> None:
    lab = tmp_path / "state.sqlite3"
    with Store(lab) as store:
        queue_announcements(store, chats=3)
        store.add_subscription("discord", "42", "single cell", "u2", now=T0)
        removed = store.add_subscription("discord", "43", "", "u3", now=T0)
        store.remove_subscription(removed.id, "discord", "43")
        (first, *_) = store.due_outbox(T0)
        store.move_outbox([first.id], __import__("bot.store.outbox_states", fromlist=["x"]).claim())
        store.queue_alert([("telegram", "-9")], "list-a is failing", T0)
        before_subs = [(s.id, s.platform, s.chat, s.filter) for s in store.list_subscriptions(active=True)]
        before_gone = [(s.id, s.chat) for s in store.list_subscriptions(active=False)]
        before_log = [(e.entry, e.sources, e.first_seen) for e in store.recent_new_entries(None, 100)]
        before_queue = sorted((o.id, o.chat, o.logged.entry.key) for o in store.due_outbox(T0 + timedelta(days=1)))
        before_counts = store.outbox_counts()
        snapshot = store.snapshot("l")
    url = postgres.new_database()  # type: ignore[attr-defined]
    done = subprocess.run(medbot_command("migrate", "--from", f"sqlite://{lab}", "--to", url, "--json"),
                          env=medbot_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    copied = json.loads(done.stdout)["copied"]
    assert copied["outbox"] == 3 * len(ENTRIES) and copied["subscriptions"] == 5 and copied["entry_log"] == len(ENTRIES)
    with Store(url) as moved:
        assert [(s.id, s.platform, s.chat, s.filter) for s in moved.list_subscriptions(active=True)] == before_subs
        assert [(s.id, s.chat) for s in moved.list_subscriptions(active=False)] == before_gone
        assert [(e.entry, e.sources, e.first_seen) for e in moved.recent_new_entries(None, 100)] == before_log
        assert moved.outbox_counts() == before_counts
        assert moved.reset_sending() == 1  # the row caught in flight is queued again, as on the lab's machine
        queue = sorted((o.id, o.chat, o.logged.entry.key) for o in moved.due_outbox(T0 + timedelta(days=1)))
        assert queue == sorted([*before_queue, (first.id, first.chat, first.logged.entry.key)])
        assert moved.snapshot("l") == snapshot
        assert moved.alert_counts() == {"pending": 1}
        assert moved.add_subscription("telegram", "-77", "", "u").id > max(s[0] for s in before_subs)  # ids go on after the copy
    again = subprocess.run(medbot_command("migrate", "--from", f"sqlite://{lab}", "--to", url),
                           env=medbot_env(), capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "already holds state" in again.stderr  # never copied twice


def test_medbot_migrate_reports_the_schema_of_the_configured_state(tmp_path: Path, postgres: object) -> None:
    url = postgres.new_database()  # type: ignore[attr-defined]
    done = subprocess.run(medbot_command("--data-dir", str(tmp_path), "migrate", "--json"),
                          env=medbot_env(MEDBOT_STATE_URL=url), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["schema_version"] >= 4 and report["state"].startswith("postgresql://")
    assert not (tmp_path / "state.sqlite3").exists()  # the state is on the server, not in the data dir
    assert PAPER.key  # the shared fixtures are the store tests' own


def test_a_worker_on_a_state_from_a_newer_medbot_refuses_to_start_in_one_line(tmp_path: Path, postgres: object) -> None:
    from bot.store.records import MIGRATIONS

    url = postgres.new_database()  # type: ignore[attr-defined]
    with Store(url) as store, store._tx() as db:
        store.engine.set_schema_version(db, len(MIGRATIONS) + 1)
    done = subprocess.run(medbot_command("--data-dir", str(tmp_path), "serve"), capture_output=True, text=True, timeout=120,
                          env=medbot_env(MEDBOT_STATE_URL=url, TELEGRAM_BOT_TOKEN="123:not-used"))
    assert done.returncode == 2, done.stderr
    [line] = [text for text in done.stderr.splitlines() if text.startswith("medbot:")]
    assert "newer than this medbot knows" in line and "Traceback" not in done.stderr


def test_a_new_worker_needs_only_the_url_its_index_comes_from_the_snapshots(tmp_path: Path, postgres: object) -> None:
    from bot.core.bot import MedBot
    from bot.core.config import load_settings
    from bot.store.records import Version

    url = postgres.new_database()  # type: ignore[attr-defined]
    text = "# Lab\n\n## Zebrafish\n\n* [Zebrafish heart atlas](https://example.org/zf-heart) - regeneration.\n"
    with Store(url) as watcher_side:  # what the elected watcher fetched and kept
        watcher_side.accept_version("lab", Version(text, "h-lab", ()), now=T0, poll_id=watcher_side.begin_poll(T0))
    config = tmp_path / "medbot.yaml"
    config.write_text(f"sources:\n  - name: lab\n    url: http://127.0.0.1:9/lab.md\nstate:\n  url: {url}\n", encoding="utf-8")
    settings = load_settings(config, tmp_path / "fresh-worker", environ={})
    core = MedBot.load(settings=settings)  # an empty data dir; upstream never reached
    try:
        hits = core.index.search("zebrafish heart").hits
        assert [hit.entry.title for hit in hits] == ["Zebrafish heart atlas"]
    finally:
        core.close()
