"""An operator's rebuild is killed again and again (SIGKILL, the OOM killer): no build
worker outlives it, and the index still opens and answers afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from benchmarks.corpus import generate_list
from tests.conftest import medbot_command, medbot_env

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to see child processes")]

KILLS = 15


def descendants(pid: int) -> set[int]:
    """Every live process whose parent chain leads to ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def test_fifteen_killed_rebuilds_of_twenty_thousand_entries_leave_no_worker_behind(tmp_path: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    for number in range(10):  # 10 lists of 2,000: parsed by two workers, written by Whoosh's subprocesses
        (lists / f"big-{number}.md").write_text(generate_list(2000, seed=number, name=f"big {number}"), encoding="utf-8")
    config = tmp_path / "medbot.yaml"
    config.write_text(f"sources:\n  - path: {lists}/*.md\n", encoding="utf-8")
    command = medbot_command("--config", str(config), "--data-dir", str(tmp_path / "data"), "index", "--rebuild")
    env = medbot_env(MEDBOT_SEARCH_MODEL="none")
    orphans: set[int] = set()
    workers_seen = 0
    for kill in range(KILLS):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children: set[int] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            children |= descendants(process.pid)
            if children and time.monotonic() > deadline - 60 + 1.0 + 0.3 * (kill % 5):
                break
            time.sleep(0.05)
        workers_seen += len(children)
        process.send_signal(signal.SIGKILL)
        process.wait()
        time.sleep(0.5)
        orphans |= alive(children)
    for pid in orphans:  # tidy up before failing, so a red run does not leak memory
        os.kill(pid, signal.SIGKILL)
    assert workers_seen > 0, "no build worker was ever started: the test did not test anything"
    assert not orphans, f"{len(orphans)} build workers outlived their killed parent"
    done = subprocess.run(medbot_command("--config", str(config), "--data-dir", str(tmp_path / "data"), "search", "the"),
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr
