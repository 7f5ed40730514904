"""medbot on Discord over the real network path: discord.py talks HTTP and WebSocket to a
fake Discord on 127.0.0.1, exactly as it would to discord.com, and we read what it posted.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.client import DiscordSender, MedBotClient, build_client, run_client
from bot.core.config import Settings, load_settings
from bot.core.redact import install_redactor, remove_redactor
from bot.core.replies import Reply
from bot.core.sending import PermanentFailure, Refused, RetryLater
from bot.run.platforms import install_redaction
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.spy_core import SpyCore

TOKEN = "MTIz.fake-bot-token.SECRETSECRET"


@dataclass
class Running:
    fake: FakeDiscord
    core: Any
    client: MedBotClient
    settings: Settings
    stop: asyncio.Event
    task: asyncio.Task[None]


@pytest.fixture
def fake(discord_fake: FakeDiscord) -> FakeDiscord:
    return discord_fake


@pytest.fixture
def core(bundled_core: Any) -> SpyCore:
    return SpyCore(bundled_core)


@pytest.fixture
async def bot(fake: FakeDiscord, core: Any, tmp_path: Path) -> AsyncIterator[Running]:
    environ = {"DISCORD_BOT_TOKEN": TOKEN, "MEDBOT_DISCORD_GUILD_IDS": str(fake.guild_id)}
    settings = load_settings(data_dir=tmp_path, environ=environ)
    client = build_client(core, settings, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(run_client(core, settings, stop, client=client))
    await fake.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"))
    await asyncio.wait_for(fake.identified.wait(), 15)
    yield Running(fake, core, client, settings, stop, task)
    stop.set()
    await asyncio.wait_for(task, 15)


def _callback(bot: Running, interaction: dict[str, Any]) -> Any:
    return bot.fake.wait_for(bot.fake.callbacks_for(interaction))


async def test_a_lab_member_searches_lesion_and_gets_deeplesion_embeds(bot: Running) -> None:
    interaction = await bot.fake.slash("search", guild_command=True, query="lesion")
    posted = await _callback(bot, interaction)

    assert posted.json["type"] == 4  # answered at once with a message
    data = posted.json["data"]
    deep_lesion = next(embed for embed in data["embeds"] if embed["title"].split(". ", 1)[-1].startswith("DeepLesion"))
    assert deep_lesion["url"] == "https://arxiv.org/pdf/1710.01766.pdf"
    fields = {field["name"]: field["value"] for field in deep_lesion["fields"]}
    assert fields["Section"] == "Lesion Detection"
    assert "github.com/rsummers11/CADLab" in fields["Code"]
    assert data["allowed_mentions"] == {"parse": []}
    assert not int(data.get("flags") or 0) & 64  # for everyone in the channel to see


async def test_commands_sync_to_the_configured_guild_with_the_env_token(bot: Running) -> None:
    sync = await bot.fake.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"))
    assert sync.path == f"/applications/{bot.fake.app_id}/guilds/{bot.fake.guild_id}/commands"
    assert {command["name"] for command in sync.json} >= {"search", "topic", "new", "help"}
    search = next(command for command in sync.json if command["name"] == "search")
    assert "year:2019" in search["options"][0]["description"]  # the filters are named where users type
    assert sync.authorization == f"Bot {TOKEN}"


async def test_next_over_the_network_edits_the_message(bot: Running) -> None:
    interaction = await bot.fake.slash("search", guild_command=True, query="learning")
    first = await _callback(bot, interaction)
    message_id = int(bot.fake.originals[interaction["token"]])
    assert "1–5" in first.json["data"]["content"]
    labels = [button["label"] for row in first.json["data"]["components"] for button in row["components"]]
    assert labels == ["Next ›", "ℹ️ 1", "ℹ️ 2", "ℹ️ 3", "ℹ️ 4", "ℹ️ 5"]  # paging, then one details button per entry
    assert len(first.json["data"]["components"]) == 2  # on two rows

    click = await bot.fake.click(message_id, "Next ›")
    update = await _callback(bot, click)
    assert update.json["type"] == 7  # UPDATE_MESSAGE: the same message, edited
    assert "6–10" in bot.fake.messages[message_id]["content"]
    assert update.json["data"]["allowed_mentions"] == {"parse": []}


async def test_chinese_clients_and_direct_messages_reach_the_core_as_such(bot: Running) -> None:
    in_guild = await bot.fake.slash("help", guild_command=True, locale="zh-CN")
    chinese_help = (await _callback(bot, in_guild)).json["data"]
    private = await bot.fake.slash("help", dm=True, locale="en-GB")
    await _callback(bot, private)

    (_, guild_ctx), (_, dm_ctx) = bot.core.seen[-2:]
    assert chinese_help["embeds"][0]["title"] == "命令"
    assert (guild_ctx.language, guild_ctx.chat_type, guild_ctx.is_admin) == ("zh", "group", False)
    assert guild_ctx.chat_id == str(bot.fake.channel_id) and guild_ctx.user_id == "4242"
    assert (dm_ctx.language, dm_ctx.chat_type, dm_ctx.is_admin) == ("en", "private", True)


async def test_topic_autocompletes_a_partial_chinese_name(bot: Running) -> None:
    interaction = await bot.fake.autocomplete("topic", "name", "单细", guild_command=True)
    posted = await _callback(bot, interaction)
    assert posted.json["type"] == 8
    choices = {choice["name"]: choice["value"] for choice in posted.json["data"]["choices"]}
    # the whole path is shown, and sent back as the value /topic resolves to that very section
    assert choices["2. 基因 Genomics / 2.3 单细胞 Single-Cell"] == "2. 基因 Genomics / 2.3 单细胞 Single-Cell"


async def test_a_failing_command_answers_privately_and_the_next_one_works(bot: Running, caplog: pytest.LogCaptureFixture) -> None:
    bot.core.fail_on.add("/search boom")
    with caplog.at_level(logging.ERROR, logger="adapters.discord.client"):
        failing = await bot.fake.slash("search", guild_command=True, query="boom")
        posted = await _callback(bot, failing)
    assert int(posted.json["data"]["flags"]) & 64  # ephemeral
    assert "Sorry" in posted.json["data"]["content"]
    assert "the index exploded" in caplog.text  # the traceback is logged for the operator

    working = await bot.fake.slash("search", guild_command=True, query="lesion")
    assert (await _callback(bot, working)).json["data"]["embeds"]


async def test_a_slow_answer_is_acknowledged_first_then_edited_in(bot: Running) -> None:
    gate = bot.core.gate = asyncio.Event()
    bot.client.defer_after = 0.01
    interaction = await bot.fake.slash("search", guild_command=True, query="lesion")
    deferred = await _callback(bot, interaction)
    assert deferred.json["type"] == 5  # "medbot is thinking…"

    gate.set()
    token = interaction["token"]
    edit = await bot.fake.wait_for(lambda r: r.method == "PATCH" and token in r.path)
    assert edit.path.endswith("/messages/@original")
    assert any(embed["title"].split(". ", 1)[-1].startswith("DeepLesion") for embed in edit.json["embeds"])
    assert edit.json["allowed_mentions"] == {"parse": []}


async def test_a_slow_mistake_replaces_the_thinking_message_by_a_private_answer(bot: Running) -> None:
    gate = bot.core.gate = asyncio.Event()
    bot.client.defer_after = 0.01
    interaction = await bot.fake.slash("similar", guild_command=True, entry="nope")
    assert (await _callback(bot, interaction)).json["type"] == 5

    gate.set()
    token = interaction["token"]
    deleted = await bot.fake.wait_for(lambda r: r.method == "DELETE" and token in r.path)
    followup = await bot.fake.wait_for(lambda r: r.method == "POST" and r.path.endswith(token))
    assert deleted.path.endswith("/messages/@original")
    assert int(followup.json["flags"]) & 64
    assert "No entry with id or link" in followup.json["content"]


async def test_a_slow_page_turn_is_acknowledged_then_edited_in(bot: Running) -> None:
    interaction = await bot.fake.slash("search", guild_command=True, query="learning")
    await _callback(bot, interaction)
    message_id = bot.fake.originals[interaction["token"]]

    gate = bot.core.gate = asyncio.Event()
    bot.client.defer_after = 0.01
    click = await bot.fake.click(message_id, "Next ›")
    assert (await _callback(bot, click)).json["type"] == 6  # DEFERRED_UPDATE_MESSAGE

    gate.set()
    await bot.fake.wait_for(lambda r: r.method == "PATCH" and click["token"] in r.path)
    assert "6–10" in bot.fake.messages[message_id]["content"]


async def test_the_token_never_reaches_the_logs(bot: Running, caplog: pytest.LogCaptureFixture) -> None:
    redactor = install_redaction(bot.settings)  # as `medbot serve` does at start-up
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("discord.http").warning("request failed with headers Authorization: Bot %s", TOKEN)
    finally:
        remove_redactor(redactor)
    assert "<redacted>" in caplog.text
    assert TOKEN not in caplog.text


def test_the_token_never_reaches_a_logged_traceback() -> None:
    stream = io.StringIO()
    console = logging.StreamHandler(stream)  # what `medbot serve` has: one root handler, set up first
    root = logging.getLogger()
    pytest_handlers, root.handlers = root.handlers, [console]  # theirs would format the traceback first
    redactor = install_redactor([TOKEN])
    try:
        try:
            raise RuntimeError(f"login refused for {TOKEN}")
        except RuntimeError:
            logging.getLogger("discord.client").error("could not connect", exc_info=True)
    finally:
        remove_redactor(redactor)
        root.handlers = pytest_handlers
    written = stream.getvalue()
    assert "could not connect" in written and "RuntimeError: login refused for <redacted>" in written
    assert TOKEN not in written


async def test_setting_stop_returns_cleanly(bot: Running) -> None:
    bot.stop.set()
    await asyncio.wait_for(bot.task, 15)
    assert bot.task.exception() is None
    assert bot.client.is_closed()


async def test_announcements_go_to_the_channel_without_mentions(bot: Running) -> None:
    sender = DiscordSender(bot.client)
    reply = Reply(title="New in Lesion Detection", text=("@everyone look",))
    await sender.send_reply(str(bot.fake.channel_id), reply, silent=True)

    sent = await bot.fake.wait_for(lambda r: r.method == "POST" and r.path == f"/channels/{bot.fake.channel_id}/messages")
    assert sent.json["allowed_mentions"] == {"parse": []}
    assert int(sent.json["flags"]) & 4096  # SUPPRESS_NOTIFICATIONS: silent
    assert sent.json["embeds"][0]["title"] == "New in Lesion Detection"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, {"message": "Missing Access", "code": 50001}, PermanentFailure),
        (404, {"message": "Unknown Channel", "code": 10003}, PermanentFailure),
        (400, {"message": "Invalid Form Body", "code": 50035}, Refused),  # this message only: the channel stays
        (429, {"message": "You are being rate limited.", "retry_after": 120.0, "global": False}, RetryLater),
    ],
)
async def test_announcement_failures_map_to_delivery_outcomes(
    bot: Running, status: int, body: dict[str, Any], expected: type[Exception]
) -> None:
    bot.fake.fail("POST", r"^/channels/\d+/messages$", status, body, {"Retry-After": "120"} if status == 429 else None)
    with pytest.raises(expected) as caught:
        await DiscordSender(bot.client).send_reply(str(bot.fake.channel_id), Reply(title="x", text=("y",)))
    if expected is RetryLater:
        assert caught.value.seconds == pytest.approx(120.0)


async def test_a_non_numeric_channel_is_a_permanent_failure(bot: Running) -> None:
    with pytest.raises(PermanentFailure):
        await DiscordSender(bot.client).send_reply("general", Reply(title="x"))


async def test_a_link_inside_a_description_is_a_masked_link(bot: Running) -> None:
    from bot.core.views import view_of
    from index.parser import parse

    [entry] = parse("# L\n## Clustering\n- [X](https://github.com/a/x) - desc. [Paper](https://arxiv.org/abs/2601.01234)\n", "lab").entries
    await DiscordSender(bot.client).send_reply(str(bot.fake.channel_id), Reply(title="New", entries=(view_of(entry),)), silent=True)
    sent = await bot.fake.wait_for(lambda r: r.method == "POST" and r.path == f"/channels/{bot.fake.channel_id}/messages")
    embed = next(embed for embed in sent.json["embeds"] if embed.get("url") == "https://github.com/a/x")
    assert "[Paper](https://arxiv.org/abs/2601.01234)" in embed["description"]
    assert "desc." in embed["description"]
