"""The phases the benchmark runs from its own process: workers, cold start, diff.

Anything whose memory must be its own runs through ``run_worker`` in a child process;
the cold start runs the real ``medbot search`` command as a user would.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.corpus import REPO, Workspace, generate_list, new_entry_line

__all__ = ["child_env", "cold_start", "diff_large_list", "run_worker"]


class PhaseFailed(RuntimeError):
    """A child phase exited badly; the message carries the tail of its stderr."""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("NO_PROXY", "127.0.0.1,localhost")
    env.pop("MEDBOT_CONFIG", None)
    return env


def run_worker(phase: str, args: dict[str, Any], timeout: float = 1800) -> dict[str, Any]:
    """Run one phase of benchmarks.worker in a fresh interpreter and return its figures."""
    command = [sys.executable, "-m", "benchmarks.worker", phase, json.dumps(args)]
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(), cwd=REPO, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise PhaseFailed(f"{phase} failed (exit {done.returncode}): {tail}")
    return dict(json.loads(lines[-1]))


def cold_start(workspace: Workspace, runs: int) -> dict[str, Any]:
    """``medbot search`` in a new process, index already built: seconds to its first answer.

    Timed from spawning the interpreter to the first line on stdout (the answer's header),
    median of ``runs``; the bare interpreter start is measured alongside for scale.
    """
    command = [
        sys.executable, "-m", "bot", "--config", str(workspace.config_path), "--data-dir", str(workspace.data_dir),
        "search", "lesion", "detection", "--limit", "5",
    ]
    first_answer: list[float] = []
    peaks: list[float] = []
    for _ in range(runs):
        seconds, peak = _time_to_first_line(command)
        first_answer.append(seconds)
        peaks.append(peak)
    bare = [_time_to_first_line([sys.executable, "-c", "print('ready')"])[0] for _ in range(runs)]
    return {
        "runs": runs,
        "first_answer_s": round(statistics.median(first_answer), 4),
        "first_answer_max_s": round(max(first_answer), 4),
        "python_startup_s": round(statistics.median(bare), 4),
        "peak_rss_mb": round(max(peaks), 1),
    }


def _time_to_first_line(command: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(), cwd=REPO)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    seconds = time.perf_counter() - start
    rest = process.stdout.read()
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stdout.close()
    process.stderr.close()
    if process.returncode != 0 or not (first + rest).strip():
        tail = " | ".join(errors.decode("utf-8", "replace").strip().splitlines()[-3:])
        raise PhaseFailed(f"cold start failed (exit {process.returncode}): {tail}")
    peak = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return seconds, peak


def diff_large_list(entries: int, repetitions: int) -> dict[str, Any]:
    """``diff`` of a generated ``entries``-item list against a copy with a few edits.

    The new version has five items added in the middle and five descriptions reworded:
    the shape of a busy upstream commit.
    """
    from index.diff import Diff, diff
    from index.parser import parse

    old_text = generate_list(entries, seed=11, name="large")
    lines = old_text.splitlines()
    items = [number for number, line in enumerate(lines) if line.startswith("- [")]
    for number in items[len(items) // 3 : len(items) // 3 + 5]:
        lines[number] = lines[number].replace(" - ", " - Revised: ", 1)
    middle = items[len(items) // 2]
    lines[middle:middle] = [new_entry_line(seed) for seed in range(5)]
    new_text = "\n".join(lines) + "\n"

    parse_started = time.perf_counter()
    old = parse(old_text, source="large")
    parse_s = time.perf_counter() - parse_started
    new = parse(new_text, source="large")
    timings = []
    changes = Diff()
    for _ in range(repetitions):
        started = time.perf_counter()
        changes = diff(old, new)
        timings.append(time.perf_counter() - started)
    return {
        "entries": len(old.entries),
        "parse_s": round(parse_s, 4),
        "diff_s": round(statistics.median(timings), 5),
        "added": len(changes.added),
        "changed": len(changes.changed),
        "removed": len(changes.removed),
    }
