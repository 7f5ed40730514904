"""Build workers die with the process that started them.

A big index build forks helpers: two parsers (``ProcessPoolExecutor``) and Whoosh's
writer subprocesses. If the parent is killed (SIGKILL, OOM killer), those children would
wait forever on their queues, holding ~150 MB each. On Linux every child forked while a
build runs asks the kernel for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``), and
checks at once that the parent is still there (it may have died during the fork).
Elsewhere this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["children_die_with_parent"]

_PR_SET_PDEATHSIG = 1
_ACTIVE = 0
_PARENT: int | None = None
_REGISTERED = False


def _in_child() -> None:
    if not _ACTIVE or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:
        return
    if _PARENT is not None and os.getppid() != _PARENT:  # the parent died before prctl took effect
        os._exit(1)


@contextmanager
def children_die_with_parent() -> Iterator[None]:
    """While this is entered, every process forked from this one dies with it."""
    global _ACTIVE, _PARENT, _REGISTERED
    if not _REGISTERED:
        os.register_at_fork(after_in_child=_in_child)
        _REGISTERED = True
    _ACTIVE += 1
    _PARENT = os.getpid()
    try:
        yield
    finally:
        _ACTIVE -= 1
