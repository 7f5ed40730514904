"""The two state machines, walked the way a real list and a real announcement walk them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.saved_search import saved_search
from bot.core.settings import DATA_DIR
from bot.store import outbox_states, poll_states
from bot.store.outbox_states import Delivery
from bot.store.poll_states import PollState
from bot.store.records import SourceState, Version
from bot.store.sqlite import Store
from index.model import Entry, Link, entry_id, identity_key

MATCH = saved_search(DATA_DIR / "synonyms.yaml")  # what the watcher matches subscriptions with

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PAPER = Entry(entry_id(identity_key("https://arxiv.org/abs/2601.00001", "P")), "P", "https://arxiv.org/abs/2601.00001",
              (Link("P", "https://arxiv.org/abs/2601.00001"),))


def test_a_list_goes_from_new_to_good_to_held_and_back_then_fails_alerts_and_recovers() -> None:
    source = SourceState("lab-list")
    assert poll_states.state_of(source) is PollState.NEW
    source = poll_states.adopted(source, Version("v1", "h1", (PAPER,)), T0)
    assert poll_states.state_of(source) is PollState.GOOD and source.entries == 1
    source = poll_states.held(source, T0, content_hash="h2", reason="mass change", etag=None, last_modified=None)
    assert poll_states.state_of(source) is PollState.HELD and source.content_hash == "h1"
    source = poll_states.unchanged(source, T0, release_hold=True)  # upstream went back: it was a blip
    assert poll_states.state_of(source) is PollState.GOOD and source.pending_hash is None
    for hours in (1, 2, 3):
        source = poll_states.failed(source, T0 + timedelta(hours=hours), "HTTP 502", T0 + timedelta(hours=hours + 1))
    assert poll_states.state_of(source) is PollState.FAILING and source.failures == 3 and source.content_hash == "h1"
    source = poll_states.alert_sent(source, True)
    assert poll_states.state_of(source) is PollState.ALERTED
    source = poll_states.unchanged(source, T0 + timedelta(hours=5))
    assert source.failures == 0 and source.next_poll is None
    assert poll_states.state_of(poll_states.alert_sent(source, False)) is PollState.GOOD


def test_an_announcement_moves_only_along_the_machine(tmp_path: Path) -> None:
    with Store(tmp_path / "state.sqlite3") as store:
        store.add_subscription("telegram", "-100", "", "pi", now=T0)
        store.accept_version("l", Version("0", "h0", ()), now=T0, poll_id=store.begin_poll(T0))
        store.accept_version("l", Version("1", "h1", (PAPER,)), now=T0, poll_id=store.begin_poll(T0),
                             candidates=(PAPER,), match=MATCH)
        (row,) = store.due_outbox(T0)
        assert store.move_outbox([row.id], outbox_states.sent(T0)) == 0  # never "sent" without being claimed
        assert store.move_outbox([row.id], outbox_states.claim()) == 1
        assert store.move_outbox([row.id], outbox_states.retry("flood", T0 + timedelta(minutes=1))) == 1
        assert store.due_outbox(T0) == [] and len(store.due_outbox(T0 + timedelta(minutes=1))) == 1
        assert store.move_outbox([row.id], outbox_states.claim()) == 1
        assert store.move_outbox([row.id], outbox_states.sent(T0)) == 1
        assert store.move_outbox([row.id], outbox_states.recover()) == 0  # a sent row stays sent
        assert store.outbox_counts() == {Delivery.SENT.value: 1}
