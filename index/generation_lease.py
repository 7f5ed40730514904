"""Readers lease a generation, so nothing is removed from under them.

Whoosh opens a segment's files lazily (the stored fields on the first hit shown), so a
process that opened ``gen-A`` still needs its files after a rebuild elsewhere swapped in
``gen-B``. Deleting ``gen-A`` then made about 1 CLI search in 180 fail with a
``TypeError`` in ``stored_fields``. So:

- every open index holds a shared ``flock`` on ``<generation>/READERS`` until it closes
  (the kernel drops it if the process dies, so a killed reader never pins a generation);
- a retired generation is removed only by whoever gets the exclusive lock without
  waiting; it first renames the directory away, so a reader that locked a moment too
  late finds its path gone, re-reads ``CURRENT`` and opens the new generation;
- an in-place commit keeps the files Whoosh would delete, and they are tidied only when
  the committing process is the one reader left.

Elsewhere than POSIX (no ``fcntl``) leases are no-ops and removal is immediate, as before.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["READERS", "Lease", "remove_unread"]

READERS = "READERS"


class Lease:
    """A shared lock on one generation, held while an index on it is open."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @classmethod
    def take(cls, generation_dir: Path) -> Lease | None:
        """The lease, or None when the generation was removed (read ``CURRENT`` again)."""
        if fcntl is None:
            return cls(None) if generation_dir.is_dir() else None
        path = generation_dir / READERS
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:
            return None  # the directory is gone
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            still_there = os.stat(path).st_ino == os.fstat(fd).st_ino
        except OSError:
            still_there = False
        if not still_there:  # renamed away while we waited for the lock
            os.close(fd)
            return None
        return cls(fd)

    def alone(self) -> bool:
        """Whether no other process reads this generation; if so, keep it exclusive.

        Call ``share()`` afterwards either way. (Converting a flock is not atomic: a
        failed attempt drops the shared lock, and ``share()`` takes it back.)
        """
        if self._fd is None or fcntl is None:
            return True
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def share(self) -> None:
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def remove_unread(generation_dir: Path) -> bool:
    """Remove a retired generation unless someone still reads it; whether it went."""
    if fcntl is None:
        shutil.rmtree(generation_dir, ignore_errors=True)
        return True
    try:
        fd = os.open(generation_dir / READERS, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError:
        shutil.rmtree(generation_dir, ignore_errors=True)  # not a generation we can lock
        return True
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a reader holds it; a later build or reopen tries again
        doomed = generation_dir.with_name(f"{generation_dir.name}.removing-{os.getpid()}")
        try:
            os.replace(generation_dir, doomed)
        except OSError:
            return False
    finally:
        os.close(fd)
    shutil.rmtree(doomed, ignore_errors=True)
    return True
