"""The state file's connection: one SQLite database in WAL mode, one write transaction at a time.

The table modules (``sqlite_sources``, ``sqlite_outbox``) add typed methods for their
tables on top of this; ``Store`` (``bot/store/sqlite.py``) is all of them together.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from bot.store.records import (
    MIGRATIONS,
)

__all__ = ["Database", "StoreVersionError"]


class StoreVersionError(RuntimeError):
    """The state file was written by a newer medbot: refuse rather than damage it."""


class Database:
    """The SQLite state file. Open once per process; safe to share across threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``BEGIN IMMEDIATE`` so two processes never interleave."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def _migrate(self) -> None:
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreVersionError(
                    f"{self.path}: the state file is at schema version {version}, newer than this medbot knows"
                    f" ({len(MIGRATIONS)}); upgrade medbot or point it at another data dir"
                )
            for number, script in enumerate(MIGRATIONS[version:], version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {int(number)}")  # a PRAGMA takes no parameters

    @property
    def schema_version(self) -> int:
        return int(self._query("PRAGMA user_version")[0][0])

