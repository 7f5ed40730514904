"""A lab's chats subscribe to what they care about; only admins may change a group's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import Context, MedBot
from bot.core.replies import Reply
from bot.core.saved_search import saved_search
from bot.core.settings import DATA_DIR
from bot.store.sqlite import Store, Version
from index.model import Entry, Link, entry_id, identity_key

MATCH = saved_search(DATA_DIR / "synonyms.yaml")  # what the watcher matches subscriptions with

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def core(bundled_data_dir: Path, tmp_path: Path) -> Iterator[MedBot]:
    """The real core over the bundled lists, with a state store of its own for each story."""
    shared = MedBot.load(data_dir=bundled_data_dir, sync=False)
    shared.store.close()
    bot = MedBot(shared.settings, shared.index, Store(tmp_path / "state.sqlite3"))
    yield bot
    bot.close()


def group(user: str, *, admin: bool, chat: str = "-1001", lang: str = "en") -> Context:
    return Context(platform="telegram", chat_id=chat, user_id=user, is_admin=admin, chat_type="supergroup", language=lang)


def private(user: str) -> Context:
    return Context(platform="telegram", chat_id=user, user_id=user, is_admin=False, chat_type="private")


async def run(core: MedBot, line: str, ctx: Context) -> Reply:
    reply = await core.handle(line, ctx)
    assert reply is not None
    return reply


def entry(title: str, url: str, section: tuple[str, ...], description: str = "", tags: tuple[str, ...] = ()) -> Entry:
    return Entry(entry_id(identity_key(url, title)), title, url, (Link(title, url),), description, section, tags)


def test_the_commands_are_registered_with_help_and_admin_flags(core: MedBot) -> None:
    registry = core.registry
    assert registry["subscribe"].admin_only and registry["unsubscribe"].admin_only
    assert not registry["subscriptions"].admin_only
    assert "new papers" in registry["subscribe"].summary


async def test_a_non_admin_in_a_group_is_refused_politely_and_nothing_changes(core: MedBot) -> None:
    reply = await run(core, "/subscribe lesion", group("student", admin=False))
    assert "only the chat's administrators" in reply.plain_text()
    assert reply.is_error and reply.ephemeral
    assert core.store.list_subscriptions() == []
    zh = await run(core, "/unsubscribe", group("student", admin=False, lang="zh-CN"))
    assert "管理员" in zh.plain_text()


async def test_an_admin_subscribes_a_group_lists_and_unsubscribes(core: MedBot) -> None:
    admin = group("pi", admin=True)
    first = await run(core, "/subscribe single-cell", admin)
    second = await run(core, "/subscribe lesion detection", admin)
    assert "Subscribed" in first.title and "“single-cell”" in first.plain_text()
    listing = (await run(core, "/subscriptions", group("student", admin=False))).plain_text()
    assert "single-cell" in listing and "lesion detection" in listing
    subs = core.store.list_subscriptions("telegram", "-1001")
    assert [(s.filter, s.created_by) for s in subs] == [("single-cell", "pi"), ("lesion detection", "pi")]
    asked = await run(core, "/unsubscribe", admin)
    assert "Which one?" in asked.title
    assert (await run(core, "/unsubscribe 999", admin)).is_error
    done = await run(core, f"/unsubscribe {subs[0].id}", admin)
    assert f"#{subs[0].id}" in done.plain_text()
    assert [s.filter for s in core.store.list_subscriptions("telegram", "-1001")] == ["lesion detection"]
    await run(core, "/unsubscribe", admin)  # the last one needs no id
    assert core.store.list_subscriptions("telegram", "-1001") == []
    assert "No subscriptions" in (await run(core, "/subscriptions", admin)).plain_text()
    assert second.title


async def test_an_odd_number_to_unsubscribe_is_a_friendly_error_and_removes_nothing(core: MedBot) -> None:
    admin = group("pi", admin=True)
    await run(core, "/subscribe single-cell", admin)
    await run(core, "/subscribe lesion", admin)
    for odd in ("²", "#¹", "9" * 5000):  # superscripts pass str.isdigit but not int()
        assert (await run(core, f"/unsubscribe {odd}", admin)).is_error
    assert len(core.store.list_subscriptions("telegram", "-1001")) == 2


async def test_in_a_private_chat_the_user_may_always_subscribe(core: MedBot) -> None:
    await run(core, "/subscribe", private("alice"))
    (sub,) = core.store.list_subscriptions("telegram", "alice")
    assert sub.filter == ""


async def test_a_chat_cannot_unsubscribe_another_chats_subscription(core: MedBot) -> None:
    await run(core, "/subscribe genomics", group("pi", admin=True, chat="-1"))
    (theirs,) = core.store.list_subscriptions("telegram", "-1")
    await run(core, "/subscribe genomics", group("pi", admin=True, chat="-2"))
    assert (await run(core, f"/unsubscribe {theirs.id}", group("pi", admin=True, chat="-2"))).is_error
    assert core.store.list_subscriptions("telegram", "-1") == [theirs]


async def test_filters_route_new_entries_to_the_right_chats(core: MedBot) -> None:
    await run(core, "/subscribe Genomics › Single-Cell", group("pi", admin=True, chat="-genomics"))
    await run(core, "/subscribe lesion", group("pi", admin=True, chat="-imaging"))
    await run(core, "/subscribe", private("alice"))
    await run(core, "/subscribe 单细胞", group("pi", admin=True, chat="-zh"))
    cell = entry("scVI: deep generative modeling", "https://arxiv.org/abs/1111.1", ("2. 基因 Genomics", "2.3 单细胞 Single-Cell"))
    lesion = entry("ULDor: universal lesion detector", "https://arxiv.org/abs/1111.2", ("Lesion Detection",))
    store = core.store
    store.accept_version("l", Version("0", "h0", ()), now=T0, poll_id=store.begin_poll(T0))
    store.accept_version(
        "l", Version("1", "h1", (cell, lesion)), now=T0, poll_id=store.begin_poll(T0), candidates=(cell, lesion), match=MATCH
    )
    routed = sorted((item.chat, item.logged.entry.title[:4]) for item in store.due_outbox(T0))
    assert routed == [("-genomics", "scVI"), ("-imaging", "ULDo"), ("-zh", "scVI"), ("alice", "ULDo"), ("alice", "scVI")]


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ("", True),
        ("LESION", True),
        ("lesion detect", True),  # words match the start of a word
        ("lesion genomics", False),  # every word must match
        ("miccai", True),  # tags count
        ("universal", True),  # description counts
        ("esion", False),  # not inside a word
        ("病灶", True),
        (".*", True),  # no regex: punctuation only is no word, i.e. everything
    ],
)
def test_filter_words(filter_text: str, expected: bool) -> None:
    item = entry("DeepLesion", "https://x.org/1", ("Lesion Detection 病灶检测",), "a universal detector", ("MICCAI 2019",))
    assert MATCH(filter_text, item) is expected


async def test_a_filter_of_only_punctuation_is_rejected(core: MedBot) -> None:
    assert (await run(core, "/subscribe .*", private("alice"))).is_error
    assert (await run(core, "/subscribe " + "x" * 300, private("alice"))).is_error


@pytest.fixture
def real_core(request: pytest.FixtureRequest) -> object:
    """The real core over the bundled lists."""
    return request.getfixturevalue("bundled_core")


async def test_through_the_core_a_member_is_refused_and_an_admin_subscribes_the_group(real_core: Any) -> None:
    chat = "-100777subscribe"
    member = Context(platform="telegram", chat_id=chat, user_id="student", is_admin=False, chat_type="supergroup", bot_username="medbot")
    admin = Context(platform="telegram", chat_id=chat, user_id="pi", is_admin=True, chat_type="supergroup", bot_username="medbot")
    refused = await real_core.handle("/subscribe lesion", member)
    assert "administrators" in refused.plain_text() and real_core.store.list_subscriptions("telegram", chat) == []
    done = await real_core.handle("/subscribe@medbot lesion detection", admin)
    assert "Subscribed" in done.title
    listing = await real_core.handle("/subscriptions", member)
    assert "lesion detection" in listing.plain_text()
    await real_core.handle("/unsubscribe all", admin)
    assert real_core.store.list_subscriptions("telegram", chat) == []
