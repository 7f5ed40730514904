"""``medbot serve`` started while a platform is down: the rest serves, the missing one is retried.

A lab starts medbot during a Telegram (or Discord) outage. The other platform answers and
the watcher polls meanwhile; when the platform comes back, medbot connects and answers
there too. Real python-telegram-bot and discord.py against the loopback fakes; the
outage is a loopback port nobody listens on.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import aiohttp
import discord
import httpx
import pytest
import telegram.error

from adapters import discord as discord_adapter
from adapters import telegram as telegram_adapter
from bot.core.bot import MedBot
from bot.core.config import load_settings
from bot.run import service
from bot.run.service import run_service
from tests.fakes import FakeTelegramAPI
from tests.fakes.discord_api import FakeDiscord

pytestmark = pytest.mark.slow

DISCORD_TOKEN = "MTIz.startup-token.SECRETSECRET"
LIST = "# Lab list\n\n## Lesions\n\n* [DeepLesion atlas](https://example.org/deeplesion) - lesion detection data.\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: object, what: str, seconds: float = 60.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


def lab_settings(tmp_path: Path, telegram_root: str) -> object:
    (tmp_path / "lab.md").write_text(LIST, encoding="utf-8")
    config = tmp_path / "medbot.yaml"
    config.write_text("sources:\n  - name: lab-list\n    path: lab.md\nwatch: {interval: 0.2, jitter: 0}\n", encoding="utf-8")
    environ = {"DISCORD_BOT_TOKEN": DISCORD_TOKEN, "TELEGRAM_BOT_TOKEN": FakeTelegramAPI().token,
               "MEDBOT_TELEGRAM_BASE_URL": telegram_root}
    return load_settings(config, tmp_path / "data", environ=environ)


def test_each_adapter_tells_an_outage_from_a_refusal_by_its_librarys_exception_types() -> None:
    telegram_platform, discord_platform = telegram_adapter.PLATFORM, discord_adapter.PLATFORM
    try:
        raise telegram.error.NetworkError("httpx.ConnectError: All connection attempts failed") from httpx.ConnectError("refused")
    except telegram.error.NetworkError as wrapped:
        assert telegram_platform.retryable(wrapped)
    assert telegram_platform.retryable(telegram.error.TimedOut())
    assert not telegram_platform.retryable(telegram.error.InvalidToken("The token was rejected by the server."))
    assert not telegram_platform.retryable(telegram.error.BadRequest("Chat not found"))
    assert not telegram_platform.retryable(ValueError("bad base_url"))

    assert discord_platform.retryable(aiohttp.ServerDisconnectedError())
    assert discord_platform.retryable(TimeoutError())
    assert not discord_platform.retryable(discord.LoginFailure("Improper token has been passed."))
    try:
        raise RuntimeError("setup failed") from aiohttp.ClientConnectionError("refused")
    except RuntimeError as caused:
        assert discord_platform.retryable(caused)  # judged through the causes too
    for platform in (telegram_platform, discord_platform):
        assert not platform.retryable(KeyError("a bug is not an outage"))


async def test_telegram_down_at_start_discord_and_the_watcher_serve_and_telegram_joins_when_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(service, "RETRY_SECONDS", (0.3, 0.5))
    caplog.set_level(logging.INFO)
    port = free_port()
    settings = lab_settings(tmp_path, f"http://127.0.0.1:{port}")
    fake_discord = await FakeDiscord().start()
    fake_discord.patch(monkeypatch)
    core = MedBot.load(settings=settings)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(run_service(core, settings, stop))  # type: ignore[arg-type]
    telegram_api = FakeTelegramAPI()
    try:
        await fake_discord.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"), timeout=60)
        asking = await fake_discord.slash("search", query="lesion")
        answer = await fake_discord.wait_for(fake_discord.callbacks_for(asking))
        assert "DeepLesion" in str(answer.json)  # Discord answers during the Telegram outage
        await until(lambda: core.store.source_state("lab-list") is not None, "the watcher's first poll")
        await until(lambda: "still unreachable" in caplog.text, "a retry with backoff")
        assert not running.done()

        await telegram_api.start(port)  # Telegram is back on the same address
        await telegram_api.wait_for("deleteWebhook", timeout=60)
        telegram_api.send_text("/search lesion")
        [reply] = await telegram_api.wait_for("sendMessage", timeout=60)
        assert "DeepLesion" in reply.params["text"]
    finally:
        stop.set()
        exit_code = await asyncio.wait_for(running, 60)
        await telegram_api.stop()
        await fake_discord.close()
    assert exit_code == 0
    assert "telegram is unreachable at start-up" in caplog.text and "telegram connected" in caplog.text
    assert "Traceback" not in caplog.text and DISCORD_TOKEN not in caplog.text


async def test_discord_down_at_start_is_retried_while_telegram_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(service, "RETRY_SECONDS", (0.3, 0.5))
    caplog.set_level(logging.INFO)
    fake_discord = await FakeDiscord().start()
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{free_port()}/api/v10")  # Discord is down
    async with FakeTelegramAPI() as telegram_api:
        settings = lab_settings(tmp_path, telegram_api.root_url)
        core = MedBot.load(settings=settings)  # type: ignore[arg-type]
        stop = asyncio.Event()
        running = asyncio.create_task(run_service(core, settings, stop))  # type: ignore[arg-type]
        try:
            await telegram_api.wait_for("deleteWebhook", timeout=60)
            telegram_api.send_text("/search lesion")
            [reply] = await telegram_api.wait_for("sendMessage", timeout=60)
            assert "DeepLesion" in reply.params["text"]  # Telegram answers during the Discord outage
            await until(lambda: "discord still unreachable" in caplog.text, "a Discord retry")
            assert not running.done()

            fake_discord.patch(monkeypatch)  # Discord is back
            await fake_discord.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"), timeout=60)
            await until(lambda: "discord connected" in caplog.text, "Discord connected")
        finally:
            stop.set()
            exit_code = await asyncio.wait_for(running, 60)
            await fake_discord.close()
    assert exit_code == 0
    assert "discord is unreachable at start-up" in caplog.text
    assert "Traceback" not in caplog.text and DISCORD_TOKEN not in caplog.text


@pytest.mark.parametrize("written", ["root", "root/bot", "root/bot/"])
async def test_base_url_works_written_with_or_without_bot(tmp_path: Path, written: str) -> None:
    """python-telegram-bot users write ``…/bot``; the server root works too."""
    from adapters.telegram.bot import build_application, start_application, stop_application

    async with FakeTelegramAPI() as api:
        base_url = written.replace("root", api.root_url)
        settings = load_settings(None, tmp_path, environ={"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": base_url})
        core = MedBot.load(settings=settings)
        application = build_application(core, settings)
        await start_application(application, settings, poll_timeout=1)
        try:
            api.send_text("/start")
            [answer] = await api.wait_for("sendMessage", timeout=30)
        finally:
            await stop_application(application)
            core.close()
    assert "research resources" in answer.params["text"]


@pytest.mark.parametrize("command", ["check", "serve"])
def test_a_base_url_that_is_not_http_is_refused_at_load_in_one_line(tmp_path: Path, command: str) -> None:
    import subprocess

    from tests.conftest import medbot_command, medbot_env

    env = medbot_env(TELEGRAM_BOT_TOKEN="123456:AAtoken-not-used", MEDBOT_TELEGRAM_BASE_URL="api.telegram.org/bot")
    done = subprocess.run(medbot_command("--data-dir", str(tmp_path), command), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "base_url" in lines[0] and "http" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_the_web_page_and_the_console_never_call_a_failure_passing() -> None:
    from adapters import console, web

    for platform in (web.PLATFORM, console.PLATFORM):
        assert not platform.retryable(OSError(98, "Address already in use"))
        assert not platform.retryable(TimeoutError())
