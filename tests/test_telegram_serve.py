"""``medbot serve`` as an operator runs it: a real subprocess, the fake Bot API on loopback."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, medbot_command, medbot_env
from tests.fakes import FakeTelegramAPI

pytestmark = pytest.mark.slow


def offline_config(tmp_path: Path) -> str:
    """The bundled lists as local files only: the watcher (when present) must not go online."""
    lists = REPO_ROOT / "data" / "lists"
    config = tmp_path / "medbot.yaml"
    config.write_text("sources:\n" + "".join(f"  - name: {p.stem}\n    path: {p}\n" for p in sorted(lists.glob("*.md"))),
                      encoding="utf-8")
    return str(config)


def test_serve_without_any_token_says_which_variables_to_set(tmp_path: Path) -> None:
    done = subprocess.run(medbot_command("--data-dir", str(tmp_path), "serve"), env=medbot_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "TELEGRAM_BOT_TOKEN" in line and "DISCORD_BOT_TOKEN" in line


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
async def test_serve_answers_a_search_end_to_end_and_stops_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    async with FakeTelegramAPI() as api:
        env = medbot_env(TELEGRAM_BOT_TOKEN=api.token, MEDBOT_TELEGRAM_BASE_URL=api.root_url)
        process = await asyncio.create_subprocess_exec(
            *medbot_command("-v", "--config", offline_config(tmp_path), "--data-dir", str(tmp_path / "data"), "serve"),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            await api.wait_for("deleteWebhook", timeout=180)  # index built, menu published, polling starts
            api.send_text("/search lesion")
            [answer] = await api.wait_for("sendMessage", timeout=60)
            assert "DeepLesion" in answer.params["text"]
            menu = {c["command"] for c in api.commands[""]}
            assert menu >= {"start", "search", "help"}
            assert "subscribe" in menu  # the subscription commands are in the menu too
            for second in (("serve",), ("watch",)):  # a second long-running one on the data dir: refused, naming the pid
                refused = await asyncio.create_subprocess_exec(
                    *medbot_command("--config", offline_config(tmp_path), "--data-dir", str(tmp_path / "data"), *second),
                    env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )
                _, refusal = await asyncio.wait_for(refused.communicate(), timeout=60)
                [line] = refusal.decode().strip().splitlines()
                assert refused.returncode == 2 and f"pid {process.pid}" in line, line
            started = asyncio.get_running_loop().time()
            process.send_signal(stop_signal)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
            assert asyncio.get_running_loop().time() - started < 3.0  # stopped within 3 s
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert api.token not in log and api.token.split(":")[1] not in log
    assert "medbot stopped" in log


async def test_serve_with_a_rejected_token_says_so_in_one_line_without_the_token(tmp_path: Path) -> None:
    wrong_token = ":".join(("999999999", "AAWrongTokenWrongTokenWrongToken1234"))
    async with FakeTelegramAPI() as api:
        env = medbot_env(TELEGRAM_BOT_TOKEN=wrong_token, MEDBOT_TELEGRAM_BASE_URL=api.root_url)
        process = await asyncio.create_subprocess_exec(
            *medbot_command("--config", offline_config(tmp_path), "--data-dir", str(tmp_path / "data"), "serve"),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=180)
    log = stderr.decode()
    assert process.returncode == 1
    assert "could not start" in log and "rejected" in log
    assert "Traceback" not in log
    assert wrong_token not in log and wrong_token.split(":")[1] not in log


async def test_serve_keeps_running_and_retries_a_platform_it_cannot_reach(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    env = medbot_env(TELEGRAM_BOT_TOKEN="123456:dead-end-token", MEDBOT_TELEGRAM_BASE_URL=dead)
    process = await asyncio.create_subprocess_exec(
        *medbot_command("--config", offline_config(tmp_path), "--data-dir", str(tmp_path / "data"), "serve"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        seen = ""
        while "retrying" not in seen:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=120)
            assert line, seen
            seen += line.decode()
        await asyncio.sleep(0.5)
        assert process.returncode is None, seen  # still serving: the watcher runs, telegram is retried
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = seen + rest.decode()
    assert process.returncode == 0, log
    assert "unreachable" in log and "Traceback" not in log and "dead-end-token" not in log
