"""A lab member follows the new entries in a feed reader instead of a chat."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from bot.core.config import Settings
from bot.core.feed import feed_main, write_feed
from bot.store.sqlite import Store, Version
from index.model import Entry, Link, entry_id, identity_key

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def paper(title: str, url: str, section: tuple[str, ...]) -> Entry:
    return Entry(entry_id(identity_key(url, title)), title, url, (Link("paper", url), Link("code <repo>", url + "/code")),
                 "Smith & Jones, 2026", section, ("MICCAI 2026",))


def filled_store(path: Path) -> Store:
    store = Store(path)
    store.accept_version("research", Version("0", "h0", ()), now=T0, poll_id=store.begin_poll(T0))
    first = paper("DeepLesion v2 <large-scale>", "https://arxiv.org/abs/2601.00001", ("Lesion Detection",))
    second = paper("单细胞 atlas", "https://arxiv.org/abs/2601.00002", ("2. 基因 Genomics", "2.3 单细胞 Single-Cell"))
    store.accept_version("research", Version("1", "h1", (first,)), now=T0, poll_id=store.begin_poll(T0), candidates=(first,))
    later = T0 + timedelta(days=1)
    store.accept_version("research", Version("2", "h2", (first, second)), now=later, poll_id=store.begin_poll(later), candidates=(second,))
    return store


def test_the_feed_is_valid_atom_with_the_new_entries_newest_first(tmp_path: Path) -> None:
    with filled_store(tmp_path / "state.sqlite3") as store:
        out = io.StringIO()
        assert write_feed(store, out) == 2
    parsed = feedparser.parse(out.getvalue())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.title for e in parsed.entries] == ["单细胞 atlas", "DeepLesion v2 <large-scale>"]
    newest = parsed.entries[0]
    assert newest.link == "https://arxiv.org/abs/2601.00002"
    assert newest.id.startswith("urn:medbot:entry:")
    assert "2.3 单细胞 Single-Cell" in [tag.term for tag in newest.tags]
    assert "Smith &amp; Jones" in newest.content[0].value
    assert parsed.feed.updated_parsed[:3] == (2026, 3, 2)


def test_feed_main_writes_a_file_that_readers_can_reload(tmp_path: Path) -> None:
    filled_store(tmp_path / "state.sqlite3").close()
    settings = Settings(sources=(), data_dir=tmp_path)
    target = tmp_path / "new.atom"
    assert feed_main(settings, str(target)) == 0
    first = feedparser.parse(target.read_text(encoding="utf-8"))
    assert feed_main(settings, str(target)) == 0
    second = feedparser.parse(target.read_text(encoding="utf-8"))
    assert [e.id for e in first.entries] == [e.id for e in second.entries] and len(first.entries) == 2


def test_a_control_character_pasted_into_a_list_does_not_break_the_feed(tmp_path: Path) -> None:
    # An ESC or BEL copied from a terminal into an upstream list reaches the log as written.
    odd = Entry(entry_id(identity_key("https://arxiv.org/abs/2601.00009", "x")), "Lesion \x1b[1mbold\x1b[0m paper",
                "https://arxiv.org/abs/2601.00009", (Link("paper\x07", "https://arxiv.org/abs/2601.00009"),),
                "ring \x07 bell", ("Lesion\x0b Detection",), ("tag\x1f",))
    with Store(tmp_path / "state.sqlite3") as store:
        store.accept_version("research", Version("0", "h0", ()), now=T0, poll_id=store.begin_poll(T0))
        store.accept_version("research", Version("1", "h1", (odd,)), now=T0, poll_id=store.begin_poll(T0), candidates=(odd,))
        out = io.StringIO()
        assert write_feed(store, out) == 1
    parsed = feedparser.parse(out.getvalue())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.entries[0].title == "Lesion [1mbold[0m paper"


def test_an_empty_log_is_still_a_valid_feed(tmp_path: Path) -> None:
    with Store(tmp_path / "state.sqlite3") as store:
        out = io.StringIO()
        assert write_feed(store, out) == 0
    parsed = feedparser.parse(out.getvalue())
    assert not parsed.bozo and parsed.version == "atom10" and parsed.entries == []
