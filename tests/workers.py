"""``medbot serve`` worker processes sharing one PostgreSQL, for the stories and the bench.

A ``Worker`` is one operator-run ``medbot serve`` with its own data dir (its own index)
and the shared ``state.url``; its log goes to a file per start, so a worker that was
kill -9'd keeps what it said. ``watcher_polls`` reads when each process polled as the
elected watcher from those logs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tests.conftest import medbot_command, medbot_env

__all__ = ["Worker", "watcher_polls"]

POLL_START, POLL_END = "watcher poll starts", "watcher poll ends"


@dataclass
class Worker:
    name: str
    config: Path
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    logs: list[Path] = field(default_factory=list)
    killed_at: dict[Path, float] = field(default_factory=dict)

    def start(self) -> None:
        self.starts += 1
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        log = self.data_dir.parent / f"{self.name}-{self.starts}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                medbot_command("-v", "--config", str(self.config), "--data-dir", str(self.data_dir), "serve"),
                env=medbot_env(**self.env), stdout=out, stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_text(self) -> str:
        return self.logs[-1].read_text(encoding="utf-8", errors="replace") if self.logs else ""

    async def wait_for_log(self, text: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.process.returncode}):\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never logged {text!r}:\n{self.log_text()[-3000:]}")
            await asyncio.sleep(0.1)

    def kill(self) -> float:
        """kill -9: no shutdown, no goodbye to the database."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        moment = time.time()
        self.process.wait(timeout=30)
        self.killed_at[self.logs[-1]] = moment
        return moment

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _stamp(line: str) -> float:
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()  # logging's asctime, local time


def watcher_polls(workers: list[Worker]) -> list[tuple[str, float, float]]:
    """(process, start, end) of every watcher poll; a poll cut by kill -9 ends at the kill."""
    polls: list[tuple[str, float, float]] = []
    for worker in workers:
        for log in worker.logs:
            started: float | None = None
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
                if POLL_START in line:
                    started = _stamp(line)
                elif POLL_END in line and started is not None:
                    polls.append((log.name, started, _stamp(line)))
                    started = None
            if started is not None:
                polls.append((log.name, started, worker.killed_at.get(log, time.time())))
    return sorted(polls, key=lambda poll: poll[1])
