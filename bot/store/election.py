"""Exactly one watcher among the workers sharing a state: a PostgreSQL advisory lock.

The lock is a session lock held on a connection of its own (never one from the pool,
which would hand it to other work): the server releases it when that connection ends,
so a clean exit, a kill -9 and a lost network all free it, and the next worker to ask
takes it over. On SQLite there is one long-running process per data dir (the data-dir
lock, ``bot/run/lock.py``), so that process always holds it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.store.engine import is_postgres_url, lock_key

__all__ = ["Election", "open_election"]

log = logging.getLogger(__name__)


class Election:
    """Single-process state: always the holder."""

    def hold(self) -> bool:
        """Whether this process holds the role now (taking it when it is free). Blocking: use a thread."""
        return True

    def close(self) -> None:
        """Give the role up (the next worker to ask takes it)."""


class AdvisoryElection(Election):
    """``pg_try_advisory_lock`` on a dedicated connection; checked (and retried) on every ``hold``."""

    def __init__(self, url: str, role: str) -> None:
        self.url = url
        self.key = lock_key(role)
        self.role = role
        self._connection: Any = None
        self._held = False
        self._lock = threading.Lock()

    def hold(self) -> bool:
        import psycopg

        with self._lock:
            try:
                if self._connection is None or self._connection.closed:
                    self._held = False
                    self._connection = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
                if self._held:
                    self._connection.execute("SELECT 1")  # still our session: the lock is still ours
                    return True
                row = self._connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
                self._held = bool(row and row[0])
                if self._held:
                    log.info("this worker now holds the %s role", self.role)
                return self._held
            except psycopg.Error as exc:
                if self._held:
                    log.warning("lost the %s role with the database connection: %s", self.role, exc)
                self._held = False
                self._drop()
                return False

    def close(self) -> None:
        with self._lock:
            if self._held and self._connection is not None:
                try:  # at once, not when the server notices the session ended
                    self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
                except Exception:
                    log.debug("unlocking the %s role failed; closing the session frees it", self.role, exc_info=True)
            self._held = False
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()  # the server releases a session's advisory locks with it
            except Exception:  # closing a broken connection must not hide why it broke
                log.debug("closing the election connection failed", exc_info=True)
            self._connection = None


def open_election(state_url: str, role: str = "watcher") -> Election:
    """The election for ``role`` among the workers on ``state_url``."""
    return AdvisoryElection(state_url, role) if is_postgres_url(state_url) else Election()
