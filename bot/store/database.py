"""The state's connection: an ``Engine`` (SQLite file or PostgreSQL), migrated on open.

The table modules (``sqlite_outbox``, ``metadata``) add typed methods for their tables on
top of this; ``Store`` (``bot/store/sqlite.py``) is all of them together. The same
migrations run on both engines (``records.MIGRATIONS``), each in one transaction with
its schema version, so a crash never leaves half a migration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from bot.store.engine import Engine, Row, Tx, open_engine
from bot.store.records import MIGRATIONS

__all__ = ["Database", "StoreVersionError"]


class StoreVersionError(RuntimeError):
    """The state was written by a newer medbot: refuse rather than damage it."""


class Database:
    """The state. Open once per process; safe to share across threads.

    ``target`` is a file path, ``sqlite:///path`` or ``postgresql://…`` (``state.url``).
    """

    def __init__(self, target: str | Path, *, migrate: bool = True) -> None:
        self.engine: Engine = open_engine(target)
        self.path = Path(getattr(self.engine, "path", "")) if self.engine.dialect == "sqlite" else None
        try:
            if migrate:
                self.migrate()
            else:
                self.check_version()
        except BaseException:
            self.engine.close()
            raise

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def shared(self) -> bool:
        """Whether other workers share this state (PostgreSQL): claims and the watcher are elected."""
        return self.engine.shared

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        with self.engine.tx() as tx:
            yield tx

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[Row]:
        return self.engine.query(sql, params)

    def migrate(self) -> list[int]:
        """Apply the migrations this state lacks (``medbot migrate``); the versions applied."""
        applied: list[int] = []
        with self._tx() as tx:
            self.engine.serialize(tx, "migrate")  # workers starting together migrate once
            version = self.engine.schema_version(tx)
            self._refuse_newer(version)
            for number, script in enumerate(MIGRATIONS[version:], version + 1):
                for statement in self.engine.statements(script):
                    tx.execute(statement)
                self.engine.set_schema_version(tx, number)
                applied.append(number)
        return applied

    def check_version(self) -> int:
        with self._tx() as tx:
            version = self.engine.schema_version(tx)
        self._refuse_newer(version)
        return version

    def _refuse_newer(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise StoreVersionError(
                f"{self.engine.describe()}: the state is at schema version {version}, newer than this medbot knows"
                f" ({len(MIGRATIONS)}); upgrade medbot or point it at another state"
            )

    @property
    def schema_version(self) -> int:
        with self._tx() as tx:
            return self.engine.schema_version(tx)
