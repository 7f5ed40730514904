"""Lab members use medbot's slash commands in a Discord server (simcord, in-process).

The real discord.py client runs unmodified against simcord's virtual Discord, with the
real core over the bundled lists; we act as server members (slash commands,
autocomplete, button clicks) and read what the bot did.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord

from adapters.discord.client import build_client
from adapters.discord.render import LIMITS
from bot.app import Context
from bot.core.bot import MedBot
from tests.fakes.spy_core import SpyCore, core_for_list

LAB_LIST = (
    "# Lab list\n\n## "
    + "Zebrafish imaging and every related method we read about " * 20
    + "\n\n"
    + "".join(
        f"* [Zebrafish lesion atlas {n} "
        + "with a very long descriptive title " * 14
        + f"](https://example.org/zf/{n}) "
        + " ".join(f"[`TAG{i} 2018`](https://example.org/t{n}/{i})" for i in range(30))
        + " "
        + "Authors and notes. " * 80
        + "\n"
        for n in range(6)
    )
    + "* [@everyone Attention please: the zebrafish heart](https://example.org/everyone) [`code`](https://github.com/lab/everyone)\n"
)


@pytest.fixture
def core(bundled_core: MedBot) -> SpyCore:
    return SpyCore(bundled_core)


@pytest.fixture
def simcord_bot(core: SpyCore) -> discord.Client:
    return build_client(core, core.settings)


@pytest.fixture
def lab(simcord_env: Any) -> tuple[Any, Any, Any]:
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("papers")
    alice = guild.add_member(simcord_env.create_user("alice"))
    return guild, channel, alice


@pytest.fixture
def lab_list_core(tmp_path: Path) -> Iterator[MedBot]:
    core = core_for_list(tmp_path, LAB_LIST)
    yield core
    core.close()


def _callbacks(env: Any) -> list[dict[str, Any]]:
    return [entry.json for entry in env.http_requests if entry.path.endswith("/callback")]


def _synced(env: Any) -> dict[str, dict[str, Any]]:
    puts = [entry.json for entry in env.http_requests if entry.method == "PUT" and entry.path.endswith("/commands")]
    assert puts, "the bot never synced its commands"
    return {command["name"]: command for command in puts[-1]}


def _buttons(message: Any) -> list[tuple[str, bool]]:
    return [(child.label, child.disabled) for row in message.components for child in row.children]


async def test_search_lesion_answers_with_deeplesion_embeds(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="lesion")

    assert not result.ephemeral
    assert "lesion" in result.response.content
    deep_lesion = next(embed for embed in result.response.embeds if embed.title.split(". ", 1)[-1].startswith("DeepLesion"))
    assert deep_lesion.url == "https://arxiv.org/pdf/1710.01766.pdf"
    fields = {field.name: field.value for field in deep_lesion.fields}
    assert fields["Section"] == "Lesion Detection"
    assert "JMI 2018" in fields["Tags"]
    assert "https://github.com/rsummers11/CADLab/tree/master/lesion_detector_3DCE" in fields["Code"]
    assert _callbacks(simcord_env)[-1]["data"]["allowed_mentions"] == {"parse": []}


async def test_commands_are_typed_and_described_in_both_languages(simcord_env: Any, lab: Any, core: SpyCore) -> None:
    commands = _synced(simcord_env)
    assert {"help", "search", "topic", "random", "new", "similar", "sources"} <= set(commands)
    query = commands["search"]["options"][0]
    assert (query["name"], query["type"], query["required"]) == ("query", 3, True)
    assert query["description"].startswith("Words") and "year:2019" in query["description"]
    days = commands["new"]["options"][0]
    assert (days["name"], days["type"], days.get("required", False)) == ("days", 4, False)
    assert commands["topic"]["options"][0]["autocomplete"] is True
    assert commands["random"]["options"][0]["autocomplete"] is True
    assert commands["similar"]["options"][0]["autocomplete"] is True
    assert commands["sources"].get("options", []) == []
    assert commands["search"]["description_localizations"]["zh-CN"] == core.command("search").summary_zh
    for spec in core.commands:
        expected = discord.Permissions(manage_guild=True).value if spec.admin_only else None
        permissions = commands[spec.name]["default_member_permissions"]
        assert (None if permissions is None else int(permissions)) == expected, spec.name


async def test_only_server_managers_are_offered_the_subscription_commands(simcord_env: Any, lab: Any, core: SpyCore) -> None:
    guild, channel, alice = lab
    managers = guild.create_role("PI", permissions=discord.Permissions(manage_guild=True))
    pi = guild.add_member(simcord_env.create_user("pi"), roles=[managers])

    assert {"subscribe", "unsubscribe"}.isdisjoint(alice.available_commands(channel))
    assert {"search", "subscriptions"} <= set(alice.available_commands(channel))
    assert {"subscribe", "unsubscribe"} <= set(pi.available_commands(channel))

    subscribed = await pi.slash(channel, "subscribe", filter="single-cell")
    assert not subscribed.ephemeral
    assert "Subscribed" in (subscribed.response.content or "") + (subscribed.response.embeds[0].title or "")
    text, ctx = core.seen[-1]
    assert (text, ctx.is_admin, ctx.chat_type, ctx.chat_id) == ("/subscribe single-cell", True, "group", str(channel.id))
    listed = await alice.slash(channel, "subscriptions")
    assert "single-cell" in listed.response.embeds[0].description


async def test_topic_autocompletes_a_partial_chinese_name(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    choices = await alice.autocomplete(channel, "topic", "name", "单细")
    assert any("单细胞" in choice["name"] for choice in choices)
    assert all(len(choice["value"]) <= 100 for choice in choices)

    picked = next(choice["value"] for choice in choices if "单细胞" in choice["name"])
    result = await alice.slash(channel, "topic", name=picked)
    assert not result.ephemeral and result.response.embeds


async def test_similar_autocompletes_entries_by_title(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    choices = await alice.autocomplete(channel, "similar", "entry", "deeplesion")
    assert choices[0]["name"].startswith("DeepLesion")

    result = await alice.slash(channel, "similar", entry=choices[0]["value"])
    assert "DeepLesion" in result.response.content and result.response.embeds


async def test_next_edits_the_message_to_page_two_and_back(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="learning")
    message = result.response.message
    assert "1–5" in message.content
    first_titles = [embed.title for embed in message.embeds]

    await alice.click(message, label="Next ›")
    page_two = channel.last_message
    assert page_two.id == message.id  # edited in place, not a new message
    assert "6–10" in page_two.content
    assert not set(first_titles) & {embed.title for embed in page_two.embeds}

    await alice.click(page_two, label="‹ Previous")
    assert [embed.title for embed in channel.last_message.embeds] == first_titles


async def test_buttons_are_disabled_when_the_view_times_out(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    await alice.slash(channel, "search", query="learning")
    await simcord_env.advance_time(simcord_env.bot.view_timeout + 1)

    assert _buttons(channel.last_message)[0] == ("Next ›", True)
    assert all(disabled for _, disabled in _buttons(channel.last_message))


async def test_after_a_page_turn_only_the_new_buttons_expire(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="learning")
    first_view = simcord_env.bot.live_views[result.response.id]
    await alice.click(result.response.message, label="Next ›")
    assert first_view.is_finished()  # its timer is cancelled: it will not edit the message again
    await simcord_env.advance_time(simcord_env.bot.view_timeout + 1)

    message = channel.last_message
    assert "6–10" in message.content
    assert _buttons(message)[:3] == [("‹ Previous", True), ("Next ›", True), ("ℹ️ 6", True)]


async def test_buttons_keep_working_after_the_bot_restarts(simcord_env: Any, lab: Any, core: SpyCore) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="learning")
    await simcord_env.restart_bot(build_client(core, core.settings))

    await alice.click(result.response.message, label="Next ›")
    assert "6–10" in channel.last_message.content


async def test_a_page_the_core_forgot_answers_privately(simcord_env: Any, lab: Any, bundled_data_dir: Path) -> None:
    _, channel, alice = lab
    long_query = "deep learning for medical images " * 3  # too long for a payload: kept behind a token
    result = await alice.slash(channel, "search", query=long_query)
    fresh = MedBot.load(data_dir=bundled_data_dir)  # a restarted core no longer knows the token
    try:
        await simcord_env.restart_bot(build_client(fresh, fresh.settings))
        pressed = await alice.click(result.response.message, label="Next ›")
    finally:
        fresh.close()
    assert pressed.ephemeral
    assert "expired" in pressed.response.content
    assert "1–5" in channel.last_message.content  # the shared message is left as it was


async def test_a_usage_error_is_private(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "similar", entry="nope")
    assert result.ephemeral
    assert "No entry with id or link" in result.response.content


@pytest.mark.simcord(check_errors=False)
async def test_a_failing_command_apologises_privately_and_the_bot_keeps_going(simcord_env: Any, lab: Any, core: SpyCore) -> None:
    _, channel, alice = lab
    core.fail_on.add("/search boom")
    failed = await alice.slash(channel, "search", query="boom")
    assert failed.ephemeral
    assert failed.response.content.startswith("Sorry")
    assert any("the index exploded" in str(error) for error in simcord_env.errors)

    again = await alice.slash(channel, "search", query="lesion")
    assert not again.ephemeral and again.response.embeds


async def _search_in_a_new_server(core: MedBot, query: str) -> tuple[Any, list[dict[str, Any]]]:
    """A fresh server with a bot serving ``core``: alice searches; the result and callbacks."""
    async with simcord.run(build_client(core, core.settings)) as env:
        guild = env.create_guild()
        channel = guild.create_text_channel("papers")
        alice = guild.add_member(env.create_user("alice"))
        result = await alice.slash(channel, "search", query=query)
        return result, _callbacks(env)


async def test_a_title_with_everyone_pings_nobody(lab_list_core: MedBot) -> None:
    result, callbacks = await _search_in_a_new_server(lab_list_core, "everyone attention")

    assert "@everyone Attention" in result.response.embeds[0].title
    assert callbacks[-1]["data"]["allowed_mentions"] == {"parse": []}
    assert not result.response.message.mention_everyone


async def test_a_long_result_stays_within_embed_limits(lab_list_core: MedBot) -> None:
    result, _ = await _search_in_a_new_server(lab_list_core, "zebrafish lesion atlas")

    reply = await lab_list_core.handle("/search zebrafish lesion atlas", Context(platform="discord", chat_id="1"))
    assert reply is not None
    written = sum(len(e.title) + len(e.description) + len(e.section_path) + len(", ".join(e.tags)) for e in reply.entries)
    assert written > LIMITS.total  # as written, the page would not fit one Discord message

    embeds = result.response.embeds
    assert len(embeds) == len(reply.entries)  # shortened, not dropped
    assert sum(len(embed) for embed in embeds) <= LIMITS.total
    for embed in embeds:
        assert len(embed.title) <= LIMITS.title
        assert len(embed.description or "") <= LIMITS.description
        assert len(embed.fields) <= LIMITS.fields
        assert all(len(field.value) <= LIMITS.field_value for field in embed.fields)
    assert len(result.response.content) <= LIMITS.content
