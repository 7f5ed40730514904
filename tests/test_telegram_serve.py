"""``medbot serve`` as an operator runs it: a real subprocess, the fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import medbot_command, medbot_env
from tests.fakes import FakeTelegramAPI

pytestmark = pytest.mark.slow


def test_serve_without_any_token_says_which_variables_to_set(tmp_path: Path) -> None:
    done = subprocess.run(medbot_command("--data-dir", str(tmp_path), "serve"), env=medbot_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "TELEGRAM_BOT_TOKEN" in line and "DISCORD_BOT_TOKEN" in line


async def test_serve_answers_a_search_end_to_end_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api:
        env = medbot_env(TELEGRAM_BOT_TOKEN=api.token, MEDBOT_TELEGRAM_BASE_URL=api.root_url)
        process = await asyncio.create_subprocess_exec(
            *medbot_command("-v", "--data-dir", str(tmp_path / "data"), "serve"),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            await api.wait_for("getUpdates", timeout=180)  # index built, polling started
            api.send_text("/search lesion")
            [answer] = await api.wait_for("sendMessage", timeout=60)
            assert "DeepLesion" in answer.params["text"]
            assert {c["command"] for c in api.commands[""]} >= {"start", "search", "help"}
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert api.token not in log and api.token.split(":")[1] not in log
    assert "medbot stopped" in log
