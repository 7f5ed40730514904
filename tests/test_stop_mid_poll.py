"""An operator stops medbot while its first poll waits on a stalled upstream.

``medbot serve`` (and a long-running ``medbot watch``) must stop within 3 s of SIGTERM
even then: the poll in flight is abandoned, nothing of it is written, and the next run
polls every list again. A real subprocess against the fake upstream on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.sqlite import Store
from tests.conftest import REPO_ROOT, medbot_command, medbot_env
from tests.fakes import FakeTelegramAPI
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.slow

LISTS = {path.stem: path.read_text(encoding="utf-8") for path in sorted((REPO_ROOT / "data" / "lists").glob("*.md"))}
STALLED = "awesome-medical-research"


@contextlib.asynccontextmanager
async def chat_platform(command: str) -> AsyncIterator[dict[str, str]]:
    """``serve`` needs a platform to serve: the fake Bot API. ``watch`` needs none."""
    if command != "serve":
        yield {}
        return
    async with FakeTelegramAPI() as api:
        yield {"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url}


@pytest.mark.parametrize("command", ["serve", "watch"])
async def test_sigterm_during_a_stalled_first_poll_stops_within_3_s_and_the_next_run_polls_again(
    tmp_path: Path, command: str
) -> None:
    async with FakeUpstream() as upstream, chat_platform(command) as tokens:
        for name, text in LISTS.items():
            upstream.publish(name, text)
        upstream.fault(STALLED, "timeout")  # the upstream accepts the request and never answers
        config = tmp_path / "medbot.yaml"
        config.write_text(
            "sources:\n" + "".join(f"  - name: {name}\n    url: {upstream.url(name)}\n" for name in LISTS)
            + "watch: {timeout: 120}\n",  # the stall outlasts the test: only the stop can end it
            encoding="utf-8",
        )
        base = ["--config", str(config), "--data-dir", str(tmp_path / "data")]
        process = await asyncio.create_subprocess_exec(
            *medbot_command(*base, command), env=medbot_env(**tokens),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            await asyncio.wait_for(upstream.stalling.wait(), timeout=180)  # the first poll is waiting on it now
            await asyncio.sleep(0.3)
            started = asyncio.get_running_loop().time()
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
            took = asyncio.get_running_loop().time() - started
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        log = stderr.decode()
        assert process.returncode == 0, log
        assert took < 3.0, f"took {took:.1f}s to stop"
        assert "Traceback" not in log
        with Store(tmp_path / "data" / "state.sqlite3") as store:
            states = store.source_states()
        assert all(state.content_hash is None for state in states.values()), states  # nothing half-written

        again = await asyncio.create_subprocess_exec(
            *medbot_command(*base, "watch", "--once"), env=medbot_env(),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(again.communicate(), timeout=180)
    assert again.returncode == 0, err.decode()
    with Store(tmp_path / "data" / "state.sqlite3") as store:
        states = store.source_states()
    assert set(states) == set(LISTS) and all(state.content_hash for state in states.values()), out.decode()
