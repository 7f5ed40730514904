"""A lab member exports a topic on Telegram and on Discord and gets a file that cites every entry.

The real python-telegram-bot and discord.py talk to the loopback fakes, which accept the
multipart upload and keep its bytes; bibtexparser reads them back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import bibtexparser
import pytest

from adapters.discord.client import build_client, run_client
from adapters.telegram.bot import build_application, start_application, stop_application
from bot.core.bot import MedBot
from bot.core.commands.papers import collect_for_export
from bot.core.config import load_settings
from tests.fakes import FakeTelegramAPI
from tests.fakes.discord_api import FakeDiscord

TOPIC_EXPORT = "/export topic:单细胞 bibtex"


def _records(data: bytes) -> list[Any]:
    library = bibtexparser.parse_string(data.decode("utf-8"))
    assert not library.failed_blocks
    return list(library.entries)


async def _expected_count(core: MedBot) -> int:
    count = len(collect_for_export(core.index, TOPIC_EXPORT.split(" ", 1)[1].rsplit(" ", 1)[0]))
    assert count > 5
    return count


def _console() -> Any:
    from bot.app import Context

    return Context(platform="console", chat_id="x")


async def test_export_on_telegram_arrives_as_a_document(bundled_core: MedBot, tmp_path: Path) -> None:
    expected = await _expected_count(bundled_core)
    async with FakeTelegramAPI() as api:
        settings = load_settings(None, tmp_path, environ={"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url})
        application = build_application(bundled_core, settings)
        await start_application(application, settings, poll_timeout=1)
        try:
            user = FakeTelegramAPI.user(1001, "Ada")
            api.send_text(TOPIC_EXPORT, user=user)
            [upload] = await api.wait_for("sendDocument")
            [note] = await api.wait_for("sendMessage")
        finally:
            await stop_application(application)
    assert "entries" in note.params["text"]
    [document] = api.documents
    assert document["chat_id"] == str(user["id"]) and document["filename"] == "medbot-topic.bib"
    records = _records(document["data"])
    assert len(records) == expected == len({record.key for record in records})
    assert upload.result["document"]["file_name"] == "medbot-topic.bib"


async def test_export_on_discord_arrives_as_an_attachment(bundled_core: MedBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = await _expected_count(bundled_core)
    fake = await FakeDiscord().start()
    fake.patch(monkeypatch)
    environ = {"DISCORD_BOT_TOKEN": "MTIz.fake-bot-token.SECRETSECRET", "MEDBOT_DISCORD_GUILD_IDS": str(fake.guild_id)}
    settings = load_settings(data_dir=tmp_path, environ=environ)
    client = build_client(bundled_core, settings, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(run_client(bundled_core, settings, stop, client=client))
    try:
        await asyncio.wait_for(fake.identified.wait(), 15)
        await fake.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"))
        interaction = await fake.slash("export", guild_command=True, what="topic:单细胞 bibtex")
        posted = await fake.wait_for(fake.callbacks_for(interaction))
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await fake.close()
    assert posted.json["type"] == 4
    [upload] = fake.uploads
    assert upload["filename"] == "medbot-topic.bib"
    assert len(_records(upload["data"])) == expected
    message = fake.messages[fake.originals[interaction["token"]]]
    assert message["attachments"][0]["filename"] == "medbot-topic.bib"


async def test_a_details_button_on_telegram_answers_below_the_results(bundled_core: MedBot, tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api:
        settings = load_settings(None, tmp_path, environ={"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url})
        application = build_application(bundled_core, settings)
        await start_application(application, settings, poll_timeout=1)
        try:
            api.send_text("/search lesion", user=FakeTelegramAPI.user(1001, "Ada"))
            [results] = await api.wait_for("sendMessage")
            details = results.params["reply_markup"]["inline_keyboard"][-1]
            assert [button["text"] for button in details] == ["ℹ️ 1", "ℹ️ 2", "ℹ️ 3"]
            api.press(api.message_from_call(results), details[1]["callback_data"])
            [_, card] = await api.wait_for("sendMessage", 2)
        finally:
            await stop_application(application)
    assert not api.calls_to("editMessageText")  # the results stay as they were
    assert card.params["reply_parameters"]["message_id"] == results.result["message_id"]
    assert "DeepLesion" in card.params["text"] and "Upstream line" in card.params["text"]


async def test_a_details_button_on_discord_posts_the_card_as_a_new_message(bundled_core: MedBot, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fake = await FakeDiscord().start()
    fake.patch(monkeypatch)
    environ = {"DISCORD_BOT_TOKEN": "MTIz.fake-bot-token.SECRETSECRET", "MEDBOT_DISCORD_GUILD_IDS": str(fake.guild_id)}
    settings = load_settings(data_dir=tmp_path, environ=environ)
    client = build_client(bundled_core, settings, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(run_client(bundled_core, settings, stop, client=client))
    try:
        await asyncio.wait_for(fake.identified.wait(), 15)
        await fake.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"))
        search = await fake.slash("search", guild_command=True, query="lesion")
        await fake.wait_for(fake.callbacks_for(search))
        results_id = fake.originals[search["token"]]
        click = await fake.click(results_id, "ℹ️ 2")
        answer = await fake.wait_for(fake.callbacks_for(click))
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await fake.close()
    assert answer.json["type"] == 4  # a new message, not an edit (7) of the results
    assert answer.json["data"]["embeds"][0]["title"].startswith("DeepLesion")


async def test_a_slow_export_on_discord_is_acknowledged_then_the_file_edited_in(bundled_core: MedBot, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.spy_core import SpyCore

    core = SpyCore(bundled_core)
    fake = await FakeDiscord().start()
    fake.patch(monkeypatch)
    environ = {"DISCORD_BOT_TOKEN": "MTIz.fake-bot-token.SECRETSECRET", "MEDBOT_DISCORD_GUILD_IDS": str(fake.guild_id)}
    settings = load_settings(data_dir=tmp_path, environ=environ)
    client = build_client(core, settings, guild_ready_timeout=0.05, defer_after=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(run_client(core, settings, stop, client=client))
    try:
        await asyncio.wait_for(fake.identified.wait(), 15)
        await fake.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"))
        core.gate = asyncio.Event()
        interaction = await fake.slash("export", guild_command=True, what="topic:单细胞 ris")
        deferred = await fake.wait_for(fake.callbacks_for(interaction))
        core.gate.set()
        edit = await fake.wait_for(lambda r: r.method == "PATCH" and interaction["token"] in r.path)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await fake.close()
    assert deferred.json["type"] == 5
    assert edit.path.endswith("/messages/@original")
    [upload] = fake.uploads
    assert upload["filename"] == "medbot-topic.ris" and b"TY  - " in upload["data"]
