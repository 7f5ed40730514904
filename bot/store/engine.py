"""The store's two engines: one SQLite file, or a PostgreSQL server several workers share.

The table modules keep ONE set of SQL (``?`` placeholders, standard SQL, upserts with
``ON CONFLICT``); what differs between the engines lives here and nowhere else:
placeholders (``?`` becomes ``%s``), the id of an inserted row (``lastrowid`` or
``RETURNING id``), a few DDL words (``AUTOINCREMENT``, ``REAL``), row locks (``FOR
UPDATE SKIP LOCKED``) and how a write transaction is serialised (``BEGIN IMMEDIATE``
or a transaction-scoped advisory lock). psycopg is imported only for a PostgreSQL URL,
so a lab never needs it.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

__all__ = ["Engine", "StateUnavailable", "PostgresEngine", "Row", "SqliteEngine", "Tx", "is_postgres_url", "open_engine", "sqlite_path"]


class StateUnavailable(RuntimeError):
    """The state cannot be opened (the server is unreachable, psycopg is missing): one line for the operator."""


class Row(Protocol):
    """A result row, read by column name (``row["id"]``) or position (``row[0]``)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


def is_postgres_url(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def sqlite_path(target: str | Path) -> Path:
    """``sqlite:///abs/path`` or a plain path, as a path."""
    text = str(target)
    return Path(text[len("sqlite://"):]) if text.startswith("sqlite://") else Path(text)


class Tx:
    """One open write transaction: ``execute``, ``executemany``, ``insert`` (returns the new id)."""

    def __init__(self, engine: Engine, connection: Any) -> None:
        self.engine = engine
        self._connection = connection

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        cursor: Cursor = self._connection.execute(self.engine.sql(sql), tuple(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        batch = [tuple(row) for row in rows]
        if batch:
            self._connection.cursor().executemany(self.engine.sql(sql), batch)

    def insert(self, sql: str, params: Sequence[object] = ()) -> int:
        """Insert one row into a table with an ``id`` column; its id."""
        return self.engine.insert_id(self._connection, sql, tuple(params))


class Engine(ABC):
    """What the store needs of a database; the two subclasses below are all there is."""

    dialect: str
    shared: bool
    """True when other processes (workers) may write the same state at the same time."""
    lock_rows = ""
    """Appended to a claim's ``SELECT``: skip rows another worker's claim holds."""

    @abstractmethod
    def tx(self) -> AbstractContextManager[Tx]: ...

    @abstractmethod
    def query(self, sql: str, params: Iterable[object] = ()) -> list[Row]: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the state lives, for messages (never with a password)."""

    @abstractmethod
    def sql(self, text: str) -> str: ...

    @abstractmethod
    def insert_id(self, connection: Any, sql: str, params: tuple[object, ...]) -> int: ...

    @abstractmethod
    def schema_version(self, tx: Tx) -> int: ...

    @abstractmethod
    def set_schema_version(self, tx: Tx, version: int) -> None: ...

    @abstractmethod
    def tables(self) -> dict[str, list[str]]:
        """Every table of the state with its columns (``medbot migrate --from … --to …`` copies them)."""

    def after_copy(self, tx: Tx, table: str) -> None:
        """Rows were copied in with their ids: make the next generated id follow them."""
        del tx, table

    def serialize(self, tx: Tx, name: str) -> None:
        """Make concurrent transactions that call this with ``name`` take turns (claims, migrations).

        Nothing to do on SQLite: ``BEGIN IMMEDIATE`` already makes every write transaction wait its turn.
        """
        del tx, name

    def statements(self, script: str) -> list[str]:
        """A migration script as statements for this dialect.

        A line starting ``-- sqlite:`` or ``-- postgresql:`` is a statement for that
        engine only (kept to the few places where standard SQL has no common spelling).
        """
        kept: list[str] = []
        for line in script.splitlines():
            stripped = line.strip()
            for dialect in ("sqlite", "postgresql"):
                if stripped.startswith(f"-- {dialect}:"):
                    line = stripped[len(f"-- {dialect}:"):] if dialect == self.dialect else ""
            kept.append(line)
        return [self.ddl(part) for part in "\n".join(kept).split(";") if part.strip()]

    def ddl(self, statement: str) -> str:
        return statement


class SqliteEngine(Engine):
    """One SQLite file in WAL mode; one connection behind a lock, safe to share across threads."""

    dialect = "sqlite"
    shared = False

    def __init__(self, path: str | Path) -> None:
        self.path = sqlite_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")

    def describe(self) -> str:
        return str(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        """``BEGIN IMMEDIATE`` so two processes never interleave their writes."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self, self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: Iterable[object] = ()) -> list[Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def sql(self, text: str) -> str:
        return text

    def tables(self) -> dict[str, list[str]]:
        names = [row[0] for row in self.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {name: [row["name"] for row in self.query(f'PRAGMA table_info("{name}")')] for name in names}

    def insert_id(self, connection: Any, sql: str, params: tuple[object, ...]) -> int:
        return int(connection.execute(sql, params).lastrowid or 0)

    def schema_version(self, tx: Tx) -> int:
        return int(tx.execute("PRAGMA user_version").fetchone()[0])

    def set_schema_version(self, tx: Tx, version: int) -> None:
        tx.execute(f"PRAGMA user_version = {int(version)}")  # a PRAGMA takes no parameters


class _PgRow:
    """A psycopg row that reads like ``sqlite3.Row``: by name or by position."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: Sequence[Any]) -> None:
        self._names, self._values = names, values

    def __getitem__(self, key: Any, /) -> Any:
        return self._values[self._names[key]] if isinstance(key, str) else self._values[key]

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Any:
    names = {column.name: number for number, column in enumerate(cursor.description or ())}
    return lambda values: _PgRow(names, values)


_PLACEHOLDER = re.compile(r"\?")


class PostgresEngine(Engine):
    """A PostgreSQL server through psycopg 3 and a small connection pool."""

    dialect = "postgresql"
    shared = True
    lock_rows = " FOR UPDATE OF o SKIP LOCKED"

    def __init__(self, url: str, *, max_size: int = 4, connect_timeout: float = 30.0) -> None:
        self.url = url
        try:
            from psycopg_pool import ConnectionPool, PoolTimeout
        except ImportError:
            raise StateUnavailable("state.url is a PostgreSQL URL: install psycopg (pip install 'medbot[postgres]')") from None
        self._pool = ConnectionPool(url, min_size=1, max_size=max_size, open=True, timeout=30,
                                    kwargs={"row_factory": _row_factory, "autocommit": True})
        try:
            self._pool.wait(timeout=connect_timeout)
        except PoolTimeout:
            self._pool.close()
            raise StateUnavailable(f"cannot reach the state at {self.describe()} (tried for {connect_timeout:g} s)") from None

    def describe(self) -> str:
        return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", self.url)

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        with self._pool.connection() as connection, connection.transaction():
            yield Tx(self, connection)

    def query(self, sql: str, params: Iterable[object] = ()) -> list[Row]:
        with self._pool.connection() as connection:
            return cast("list[Row]", connection.execute(self.sql(sql), tuple(params)).fetchall())

    def sql(self, text: str) -> str:
        return _PLACEHOLDER.sub("%s", text.replace("%", "%%"))

    def tables(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for row in self.query("SELECT table_name, column_name FROM information_schema.columns"
                              " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"):
            found.setdefault(str(row[0]), []).append(str(row[1]))
        return found

    def after_copy(self, tx: Tx, table: str) -> None:
        sequence = tx.execute("SELECT pg_get_serial_sequence(?, 'id')", (table,)).fetchone()
        if sequence is not None and sequence[0]:
            tx.execute(f"SELECT setval(?, COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)", (sequence[0],))

    def insert_id(self, connection: Any, sql: str, params: tuple[object, ...]) -> int:
        return int(connection.execute(self.sql(sql + " RETURNING id"), params).fetchone()[0])

    def ddl(self, statement: str) -> str:
        statement = re.sub(r"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
        return re.sub(r"\bREAL\b", "DOUBLE PRECISION", statement)

    def schema_version(self, tx: Tx) -> int:
        tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = tx.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def set_schema_version(self, tx: Tx, version: int) -> None:
        tx.execute("DELETE FROM schema_version")
        tx.execute("INSERT INTO schema_version (version) VALUES (?)", (int(version),))

    def serialize(self, tx: Tx, name: str) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name),))


def lock_key(name: str) -> int:
    """A stable 63-bit advisory-lock key for a name (``medbot:watcher``, ``medbot:claims``)."""
    return zlib.crc32(f"medbot:{name}".encode()) | (0x6D62 << 32)


def open_engine(target: str | Path) -> Engine:
    """The engine for a ``postgresql://`` URL, a ``sqlite:///`` URL or a plain file path."""
    if is_postgres_url(target):
        return PostgresEngine(str(target))
    return SqliteEngine(target)
