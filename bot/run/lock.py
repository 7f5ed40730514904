"""One long-running medbot per data dir: ``serve`` and ``watch`` hold a lock file for life.

Two watchers on one state file would poll twice and announce twice. ``fcntl.flock`` on
``<data dir>/medbot.lock`` is released by the kernel when the process dies, so a crash
never leaves a stale lock; the file holds the holder's pid for the refusal message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO

__all__ = ["DataDirBusy", "hold_lock"]

LOCK_NAME = "medbot.lock"


class DataDirBusy(Exception):
    """Another medbot process holds the data dir's lock."""


def hold_lock(data_dir: Path) -> TextIO:
    """Take the data dir's lock (keep the returned file open while running) or raise ``DataDirBusy``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / LOCK_NAME, "a+", encoding="utf-8")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise DataDirBusy(f"medbot: another medbot (pid {holder}) is already running on {data_dir}") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
