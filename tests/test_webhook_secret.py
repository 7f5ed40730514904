"""An operator runs ``medbot -vv serve`` in Telegram's webhook mode to debug something:
the debug log shows every Bot API call, yet neither the bot token nor the webhook's
secret (enough to forge updates) appears in the log or in the state database."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
from pathlib import Path

import aiohttp
import pytest

from adapters.telegram.settings import webhook_secret
from tests.conftest import medbot_command, medbot_env
from tests.fakes import FakeTelegramAPI
from tests.test_telegram_serve import offline_config

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_secret_and_token_stay_out_of_debug_logs_and_the_database(tmp_path: Path) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    data_dir = tmp_path / "data"
    log_path = tmp_path / "serve.log"  # a file, not a pipe: -vv writes more than a pipe holds
    async with FakeTelegramAPI() as api:
        env = medbot_env(
            TELEGRAM_BOT_TOKEN=api.token, MEDBOT_TELEGRAM_BASE_URL=api.root_url,
            MEDBOT_TELEGRAM_WEBHOOK_URL=hook, MEDBOT_TELEGRAM_WEBHOOK_PORT=str(port),
            NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
        )
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                *medbot_command("-vv", "--config", offline_config(tmp_path), "--data-dir", str(data_dir), "serve"),
                env=env, stdout=log_file, stderr=asyncio.subprocess.STDOUT,
            )
        try:
            [registered] = await api.wait_for("setWebhook", timeout=180)
            secret = str(registered.params["secret_token"])
            assert secret == webhook_secret(api.token) and len(secret) >= 32
            # Telegram pushes a user's /start with the secret header; it is answered.
            api.send_text("/start")
            await api.wait_for("sendMessage", timeout=60)
            # The API echoes the token and the secret in an error: both are logged, redacted.
            api.fail("sendMessage", 500, description=f"Internal error at {api.base_url}{api.token}/sendMessage?secret={secret}")
            api.send_text("/help")
            await api.wait_for("sendMessage", 2, timeout=60)
            # A forger without the secret is turned away.
            async with aiohttp.ClientSession() as session:
                forged = {"update_id": 99, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "/start"}}
                async with session.post(hook, json=forged) as response:
                    assert response.status == 403
            await asyncio.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert process.returncode == 0, log[-3000:]
    assert "setWebhook" in log and "DEBUG" in log, "the log was not at debug level: the test proved nothing"
    assert "<redacted>" in log  # the echoed error reached the log, cleaned
    token_secret = api.token.split(":")[1]
    for leaked in (secret, token_secret):
        assert leaked not in log
        for path in data_dir.rglob("*.sqlite3*"):
            assert leaked.encode() not in path.read_bytes(), path
    with sqlite3.connect(data_dir / "state.sqlite3") as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f"SELECT * FROM {table}"):  # noqa: S608 - table names from the schema
                assert all(secret not in str(value) and token_secret not in str(value) for value in row), table
