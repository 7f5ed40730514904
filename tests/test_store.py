"""The watcher's state: what survives a restart, and what counts as new.

Every test runs on both engines (``state_url``: a SQLite file, a fresh PostgreSQL database).
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.saved_search import saved_search
from bot.core.settings import DATA_DIR
from bot.store import outbox_states, poll_states
from bot.store.database import StoreVersionError
from bot.store.poll_states import PollState
from bot.store.records import MIGRATIONS
from bot.store.sqlite import Store, Version
from index.model import Entry, Link, entry_id, identity_key

MATCH = saved_search(DATA_DIR / "synonyms.yaml")  # what the watcher matches subscriptions with

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make_entry(title: str, url: str, section: tuple[str, ...] = ("Lesion Detection",), source: str = "list-a") -> Entry:
    return Entry(
        id=entry_id(identity_key(url, title)), title=title, url=url, links=(Link("paper", url),),
        section=section, tags=("MICCAI 2019",), source=source,
    )


PAPER = make_entry("DeepLesion graphs", "https://arxiv.org/abs/1901.00001")
OTHER = make_entry("Single-cell atlas", "https://arxiv.org/abs/1901.00002", section=("Genomics", "Single-Cell"))


def version(*entries: Entry, text: str = "v") -> Version:
    return Version(text=text, content_hash=f"hash-{text}", entries=entries)


def test_a_fresh_state_is_migrated_to_the_latest_schema_and_reopens(state_url: str) -> None:
    Store(state_url).close()
    with Store(state_url) as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.migrate() == []  # ``medbot migrate`` again: nothing to do
        assert store.source_states() == {}
    if not state_url.startswith("postgresql://"):
        assert sqlite3.connect(state_url).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_state_from_a_newer_medbot_is_refused_not_damaged(state_url: str) -> None:
    with Store(state_url) as store, store._tx() as db:
        store.engine.set_schema_version(db, len(MIGRATIONS) + 1)
    with pytest.raises(StoreVersionError, match="newer than this medbot knows"):
        Store(state_url)
    with pytest.raises(StoreVersionError, match="upgrade medbot"):
        Store(state_url, migrate=False)


def test_an_accepted_version_survives_a_restart(state_url: str) -> None:
    path = state_url
    with Store(path) as store:
        poll = store.begin_poll(T0)
        store.accept_version("list-a", Version(text="# A\n", content_hash="h1", entries=(PAPER,), etag='"e1"'), now=T0, poll_id=poll)
    with Store(path) as store:
        state = store.source_states()["list-a"]
        assert (state.entries, state.content_hash, state.etag, state.last_change) == (1, "h1", '"e1"', T0)
        assert store.snapshot("list-a") == "# A\n"
        assert store.snapshot("unknown") is None


def test_only_never_seen_identities_are_logged_and_routed(state_url: str) -> None:
    with Store(state_url) as store:
        everyone = store.add_subscription("telegram", "-100", "", "u1", now=T0)
        genomics = store.add_subscription("telegram", "-200", "single cell", "u2", now=T0)
        store.accept_version("list-a", version(PAPER, text="1"), now=T0, poll_id=store.begin_poll(T0))  # baseline
        later = T0 + timedelta(hours=1)
        poll = store.begin_poll(later)
        new = store.accept_version(
            "list-a", version(PAPER, OTHER, text="2"), now=later, poll_id=poll, candidates=(PAPER, OTHER), match=MATCH
        )
        assert new == [OTHER]  # PAPER was in the baseline snapshot
        logged = store.recent_new_entries(since=None, limit=10)
        assert [(item.entry.title, item.sources, item.first_seen) for item in logged] == [("Single-cell atlas", ("list-a",), later)]
        assert logged[0].entry == OTHER
        due = store.due_outbox(later)
        assert sorted((item.subscription_id, item.chat) for item in due) == [(everyone.id, "-100"), (genomics.id, "-200")]


def test_a_paper_added_to_two_lists_in_one_poll_is_one_log_entry_naming_both(state_url: str) -> None:
    with Store(state_url) as store:
        store.add_subscription("telegram", "-100", "", "u1", now=T0)
        store.accept_version("list-a", version(text="a0"), now=T0, poll_id=store.begin_poll(T0))
        store.accept_version("list-b", version(text="b0"), now=T0, poll_id=store.begin_poll(T0))
        poll = store.begin_poll(T0)
        store.accept_version("list-a", version(PAPER, text="a1"), now=T0, poll_id=poll, candidates=(PAPER,), match=MATCH)
        again = store.accept_version("list-b", version(PAPER, text="b1"), now=T0, poll_id=poll, candidates=(PAPER,), match=MATCH)
        assert again == [PAPER]
        (logged,) = store.recent_new_entries(None, 10)
        assert logged.sources == ("list-a", "list-b")
        (row,) = store.due_outbox(T0)
        assert row.logged.sources == ("list-a", "list-b")
        # A later poll adding the same paper to a third list is not news.
        assert store.accept_version("list-c", version(PAPER, text="c1"), now=T0, poll_id=store.begin_poll(T0), candidates=(PAPER,)) == []


def test_failures_count_up_without_touching_the_good_state(state_url: str) -> None:
    with Store(state_url) as store:
        store.accept_version("list-a", Version(text="good", content_hash="h", entries=(PAPER,), etag='"e"'), now=T0, poll_id=store.begin_poll(T0))
        state = store.update_source("list-a", lambda s: poll_states.failed(s, T0, "HTTP 500", T0 + timedelta(hours=2)))
        assert poll_states.state_of(state) is PollState.FAILING
        state = store.update_source("list-a", lambda s: poll_states.failed(s, T0, "HTTP 500", T0 + timedelta(hours=4)))
        assert (state.failures, state.last_error, state.next_poll, state.etag) == (2, "HTTP 500", T0 + timedelta(hours=4), '"e"')
        assert store.snapshot("list-a") == "good"
        state = store.update_source("list-a", lambda s: poll_states.unchanged(s, T0))
        assert (state.failures, state.next_poll, state.content_hash) == (0, None, "h")
        assert poll_states.state_of(store.source_state("list-a")) is PollState.GOOD


def test_unsubscribing_cancels_what_was_still_queued(state_url: str) -> None:
    with Store(state_url) as store:
        sub = store.add_subscription("discord", "42", "", "u", now=T0)
        assert store.add_subscription("discord", "42", "", "u2", now=T0).id == sub.id  # same filter: same subscription
        store.accept_version("l", version(text="0"), now=T0, poll_id=store.begin_poll(T0))
        store.accept_version("l", version(PAPER, text="1"), now=T0, poll_id=store.begin_poll(T0), candidates=(PAPER,), match=MATCH)
        assert not store.remove_subscription(sub.id, "discord", "other-chat")
        assert store.remove_subscription(sub.id, "discord", "42")
        assert store.due_outbox(T0) == []
        assert store.list_subscriptions("discord", "42") == []


def test_config_announcement_chats_become_subscriptions_and_leave_with_the_config(state_url: str) -> None:
    with Store(state_url) as store:
        store.sync_config_subscriptions([("telegram", "-1", ""), ("telegram", "-2", "genomics")])
        store.sync_config_subscriptions([("telegram", "-1", ""), ("telegram", "-2", "genomics")])
        assert sorted((s.chat, s.filter, s.created_by) for s in store.list_subscriptions()) == [
            ("-1", "", "config"), ("-2", "genomics", "config")
        ]
        store.sync_config_subscriptions([("telegram", "-1", "")])
        assert [s.chat for s in store.list_subscriptions()] == ["-1"]


def test_rows_caught_in_flight_by_a_crash_are_pending_again(state_url: str) -> None:
    path = state_url
    with Store(path) as store:
        store.add_subscription("telegram", "-100", "", "u", now=T0)
        store.accept_version("l", version(text="0"), now=T0, poll_id=store.begin_poll(T0))
        store.accept_version("l", version(PAPER, text="1"), now=T0, poll_id=store.begin_poll(T0), candidates=(PAPER,), match=MATCH)
        (row,) = store.due_outbox(T0)
        assert store.move_outbox([row.id], outbox_states.claim()) == 1
        assert store.move_outbox([row.id], outbox_states.claim()) == 0  # a claimed row cannot be claimed again
        assert store.due_outbox(T0) == []
    with Store(path) as store:
        assert store.reset_sending() == 1
        (again,) = store.due_outbox(T0)
        assert (again.id, again.attempts) == (row.id, 1)


def test_threads_can_share_one_store(state_url: str) -> None:
    with Store(state_url) as store:
        def subscribe(n: int) -> None:
            for i in range(20):
                store.add_subscription("telegram", f"chat-{n}", f"topic {i}", "u")

        threads = [threading.Thread(target=subscribe, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(store.list_subscriptions()) == 80
