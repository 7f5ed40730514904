"""Lab members use medbot's slash commands in a Discord server (simcord, in-process).

The real discord.py client runs unmodified against simcord's virtual Discord; we act as
server members (slash commands, autocomplete, button clicks) and read what the bot did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.discord_bot import build_client
from adapters.discord_render import LIMITS
from bot.config import load_settings
from tests.fakes.standin_core import StandInCore


@pytest.fixture
def core() -> StandInCore:
    return StandInCore()


@pytest.fixture
def simcord_bot(core: Any, tmp_path: Path) -> discord.Client:
    return build_client(core, load_settings(data_dir=tmp_path, environ={}))


@pytest.fixture
def lab(simcord_env: Any) -> tuple[Any, Any, Any]:
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("papers")
    alice = guild.add_member(simcord_env.create_user("alice"))
    return guild, channel, alice


def _callbacks(env: Any) -> list[dict[str, Any]]:
    return [entry.json for entry in env.http_requests if entry.path.endswith("/callback")]


def _synced(env: Any) -> dict[str, dict[str, Any]]:
    puts = [entry.json for entry in env.http_requests if entry.method == "PUT" and entry.path.endswith("/commands")]
    assert puts, "the bot never synced its commands"
    return {command["name"]: command for command in puts[-1]}


async def test_search_lesion_answers_with_linked_embeds(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="lesion")

    assert not result.ephemeral
    first = result.response.embeds[0]
    assert first.title.startswith("DeepLesion")
    assert first.url == "https://arxiv.org/abs/1700.0176"
    fields = {field.name: field.value for field in first.fields}
    assert fields["Section"] == "Lesion Detection"
    assert "https://github.com/rsummers11/CADLab" in fields["Code"]
    assert _callbacks(simcord_env)[-1]["data"]["allowed_mentions"] == {"parse": []}


async def test_commands_are_typed_and_described(simcord_env: Any, lab: Any) -> None:
    commands = _synced(simcord_env)
    assert {"search", "topic", "random", "new", "similar", "sources", "help", "subscribe"} <= set(commands)
    query = commands["search"]["options"][0]
    assert (query["name"], query["type"], query["required"]) == ("query", 3, True)
    assert query["description"] == "words to look for"
    days = commands["new"]["options"][0]
    assert (days["name"], days["type"], days.get("required", False)) == ("days", 4, False)
    assert commands["topic"]["options"][0]["autocomplete"] is True
    assert commands["similar"]["options"][0]["autocomplete"] is True
    assert commands["sources"].get("options", []) == []
    assert commands["search"]["description_localizations"]["zh-CN"] == "search 命令"
    assert int(commands["subscribe"]["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert commands["search"]["default_member_permissions"] is None


async def test_admin_commands_are_only_offered_to_server_managers(simcord_env: Any, lab: Any) -> None:
    guild, channel, alice = lab
    managers = guild.create_role("PI", permissions=discord.Permissions(manage_guild=True))
    pi = guild.add_member(simcord_env.create_user("pi"), roles=[managers])

    assert "subscribe" not in alice.available_commands(channel)
    assert "subscribe" in pi.available_commands(channel)
    await pi.slash(channel, "subscribe", filter="lesion")
    text, ctx = simcord_env.bot.core.seen[-1]
    assert (text, ctx.is_admin, ctx.chat_type) == ("/subscribe lesion", True, "guild")


async def test_topic_autocompletes_a_partial_chinese_name(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    choices = await alice.autocomplete(channel, "topic", "name", "单细")
    names = [choice["name"] for choice in choices]
    assert "2.3 单细胞 Single-Cell" in names and "单细胞" in names
    assert all(len(choice["value"]) <= 100 for choice in choices)


async def test_similar_autocompletes_entries_by_title(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    choices = await alice.autocomplete(channel, "similar", "entry", "deeplesion")
    assert choices and choices[0]["value"] == "e0"


async def test_next_edits_the_message_to_page_two_and_back(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="lesion")
    message = result.response.message
    assert "page 1" in message.content

    await alice.click(message, label="Next ›")
    page_two = channel.last_message
    assert page_two.id == message.id  # edited in place, not a new message
    assert "page 2" in page_two.content
    assert [embed.title for embed in page_two.embeds] == ["scRNA lesion atlas", "Another lesion paper"]

    await alice.click(page_two, label="‹ Previous")
    assert "page 1" in channel.last_message.content


async def test_buttons_are_disabled_when_the_view_times_out(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    await alice.slash(channel, "search", query="lesion")
    await simcord_env.advance_time(simcord_env.bot.view_timeout + 1)

    buttons = [child for row in channel.last_message.components for child in row.children]
    assert buttons and all(button.disabled for button in buttons)


async def test_after_a_page_turn_only_the_new_buttons_expire(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="lesion")
    first_view = simcord_env.bot.live_views[result.response.id]
    await alice.click(result.response.message, label="Next ›")
    assert first_view.is_finished()  # its timer is cancelled: it will not edit the message again
    await simcord_env.advance_time(simcord_env.bot.view_timeout + 1)

    message = channel.last_message
    assert "page 2" in message.content  # the first page's timer did not put page 1's buttons back
    buttons = [child for row in message.components for child in row.children]
    assert [(button.label, button.disabled) for button in buttons] == [("‹ Previous", True)]


async def test_buttons_keep_working_after_the_bot_restarts(simcord_env: Any, lab: Any, core: Any, tmp_path: Path) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="lesion")
    await simcord_env.restart_bot(build_client(core, load_settings(data_dir=tmp_path, environ={})))

    await alice.click(result.response.message, label="Next ›")
    assert "page 2" in channel.last_message.content


async def test_an_expired_page_answers_privately(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="lesion")
    simcord_env.bot.core.tokens.clear()  # the core forgot the query behind the button

    pressed = await alice.click(result.response.message, label="Next ›")
    assert pressed.ephemeral
    assert "expired" in pressed.response.content
    assert "page 1" in channel.last_message.content


async def test_a_title_with_everyone_pings_nobody(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="graph")

    assert "@everyone" in result.response.embeds[0].title
    assert _callbacks(simcord_env)[-1]["data"]["allowed_mentions"] == {"parse": []}


async def test_a_long_result_stays_within_embed_limits(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "search", query="long")

    embeds = result.response.embeds
    assert 1 <= len(embeds) <= LIMITS.embeds
    assert sum(len(embed) for embed in embeds) <= LIMITS.total
    for embed in embeds:
        assert len(embed.title) <= LIMITS.title
        assert len(embed.description or "") <= LIMITS.description
        assert len(embed.fields) <= LIMITS.fields
        assert all(len(field.value) <= LIMITS.field_value for field in embed.fields)
    assert len(result.response.content) <= LIMITS.content
    assert "not shown" in result.response.content  # the entries that did not fit are counted


async def test_a_usage_error_is_private(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    result = await alice.slash(channel, "similar", entry="nope")
    assert result.ephemeral
    assert "Usage" in result.response.content


@pytest.mark.simcord(check_errors=False)
async def test_a_failing_command_apologises_privately_and_the_bot_keeps_going(simcord_env: Any, lab: Any) -> None:
    _, channel, alice = lab
    failed = await alice.slash(channel, "search", query="boom")
    assert failed.ephemeral
    assert "Sorry" in failed.response.content

    again = await alice.slash(channel, "search", query="lesion")
    assert not again.ephemeral and again.response.embeds
