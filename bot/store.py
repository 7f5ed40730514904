"""The watcher's memory: source state, the log of new entries, subscriptions, the outbox.

Everything the watcher learns must survive a crash at any instant, so it lives in one
SQLite file (WAL mode, so readers such as ``/new`` never block the watcher) and every
change that belongs together is one transaction: a new version's snapshot, its new
entries and their outbox rows are committed together, before anything is sent. The
schema is migrated by version number (``PRAGMA user_version``).

Methods are synchronous and thread-safe (one connection behind a lock); async callers
wrap them in ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.model import Entry, Link

__all__ = [
    "Alert",
    "LoggedEntry",
    "OutboxItem",
    "SourceState",
    "Store",
    "Subscription",
    "Version",
    "entry_from_json",
    "utcnow",
]

MIGRATIONS: tuple[str, ...] = (
    # version 1
    """
    CREATE TABLE source_state (
        name TEXT PRIMARY KEY,
        etag TEXT, last_modified TEXT, mtime REAL, content_hash TEXT,
        snapshot TEXT, entries INTEGER NOT NULL DEFAULT 0,
        last_poll TEXT, last_change TEXT,
        failures INTEGER NOT NULL DEFAULT 0, last_error TEXT, next_poll TEXT,
        alerted INTEGER NOT NULL DEFAULT 0,
        pending_hash TEXT, pending_text TEXT, pending_etag TEXT, pending_last_modified TEXT,
        pending_since TEXT, pending_reason TEXT
    );
    CREATE TABLE seen (key TEXT PRIMARY KEY, first_seen TEXT NOT NULL, source TEXT NOT NULL);
    CREATE TABLE polls (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL);
    CREATE TABLE entry_log (
        key TEXT PRIMARY KEY, entry_id TEXT NOT NULL, entry_json TEXT NOT NULL,
        sources TEXT NOT NULL, section TEXT NOT NULL, first_seen TEXT NOT NULL,
        revision TEXT, poll_id INTEGER NOT NULL
    );
    CREATE INDEX entry_log_first_seen ON entry_log (first_seen);
    CREATE TABLE subscriptions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, platform TEXT NOT NULL, chat TEXT NOT NULL,
        filter TEXT NOT NULL DEFAULT '', created_by TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, disabled_reason TEXT
    );
    CREATE INDEX subscriptions_chat ON subscriptions (platform, chat);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, subscription_id INTEGER NOT NULL,
        platform TEXT NOT NULL, chat TEXT NOT NULL, entry_key TEXT NOT NULL,
        poll_id INTEGER NOT NULL, digest INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        next_try TEXT NOT NULL, last_error TEXT, sent_at TEXT,
        UNIQUE (platform, chat, entry_key)
    );
    CREATE INDEX outbox_state ON outbox (state, next_try);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, platform TEXT NOT NULL, chat TEXT NOT NULL,
        text TEXT NOT NULL, created_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0, next_try TEXT NOT NULL, last_error TEXT
    );
    """,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the watcher knows of one list (``medbot sources`` shows it)."""

    name: str
    entries: int = 0
    last_poll: datetime | None = None
    last_change: datetime | None = None
    failures: int = 0
    content_hash: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    mtime: float | None = None
    last_error: str | None = None
    next_poll: datetime | None = None
    alerted: bool = False
    pending_hash: str | None = None
    pending_etag: str | None = None
    pending_last_modified: str | None = None
    pending_since: datetime | None = None
    pending_reason: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """An entry the watcher found new, with every list it was added to."""

    entry: Entry
    sources: tuple[str, ...]
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    platform: str
    chat: str
    filter: str
    created_by: str
    created_at: datetime
    active: bool = True


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One entry due to one chat (at most one row per chat and entry)."""

    id: int
    subscription_id: int
    platform: str
    chat: str
    poll_id: int
    digest: bool
    attempts: int
    logged: LoggedEntry


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    platform: str
    chat: str
    text: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Version:
    """A version of a list the watcher accepts as its new good snapshot."""

    text: str
    content_hash: str
    entries: Sequence[Entry]
    etag: str | None = None
    last_modified: str | None = None
    mtime: float | None = None
    revision: str | None = None


def entry_from_json(data: dict[str, Any]) -> Entry:
    """The inverse of ``Entry.to_json`` (the log keeps entries as JSON)."""
    year = data.get("year")
    return Entry(
        id=str(data["id"]),
        title=str(data.get("title") or ""),
        url=str(data["url"]) if data.get("url") else None,
        links=tuple(Link(str(link["text"]), str(link["url"])) for link in data.get("links") or ()),
        description=str(data.get("description") or ""),
        section=tuple(str(s) for s in data.get("section") or ()),
        tags=tuple(str(t) for t in data.get("tags") or ()),
        year=year if isinstance(year, int) else None,
        source=str(data.get("source") or ""),
        line=int(data.get("line") or 0),
    )


Matcher = Callable[[str, Entry], bool]
"""``match(filter, entry)``: does a subscription's filter want this entry?"""


class Store:
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

    def __enter__(self) -> Store:
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
            for number, script in enumerate(MIGRATIONS[version:], version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self._query("PRAGMA user_version")[0][0])

    # --- sources --------------------------------------------------------------------

    def source_states(self) -> dict[str, SourceState]:
        return {row["name"]: _state(row) for row in self._query("SELECT * FROM source_state ORDER BY name")}

    def source_state(self, name: str) -> SourceState | None:
        rows = self._query("SELECT * FROM source_state WHERE name = ?", (name,))
        return _state(rows[0]) if rows else None

    def snapshot(self, name: str) -> str | None:
        """The last good text of a source (what the index should hold), if any."""
        rows = self._query("SELECT snapshot FROM source_state WHERE name = ?", (name,))
        return rows[0]["snapshot"] if rows else None

    def pending_snapshot(self, name: str) -> str | None:
        rows = self._query("SELECT pending_text FROM source_state WHERE name = ?", (name,))
        return rows[0]["pending_text"] if rows else None

    def _ensure_source(self, db: sqlite3.Connection, name: str) -> None:
        db.execute("INSERT OR IGNORE INTO source_state (name) VALUES (?)", (name,))

    def record_unchanged(
        self, name: str, now: datetime, *, etag: str | None = None, last_modified: str | None = None, mtime: float | None = None
    ) -> SourceState:
        """A successful poll that found nothing new: failures reset, validators refreshed."""
        with self._tx() as db:
            self._ensure_source(db, name)
            db.execute(
                "UPDATE source_state SET last_poll = ?, failures = 0, last_error = NULL, next_poll = NULL,"
                " etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified), mtime = COALESCE(?, mtime)"
                " WHERE name = ?",
                (_iso(now), etag, last_modified, mtime, name),
            )
        return self._must_state(name)

    def record_failure(self, name: str, now: datetime, error: str, next_poll: datetime) -> SourceState:
        """A failed poll: nothing of the good state is touched, only the failure count."""
        with self._tx() as db:
            self._ensure_source(db, name)
            db.execute(
                "UPDATE source_state SET last_poll = ?, failures = failures + 1, last_error = ?, next_poll = ? WHERE name = ?",
                (_iso(now), error[:500], _iso(next_poll), name),
            )
        return self._must_state(name)

    def set_alerted(self, name: str, alerted: bool) -> None:
        with self._tx() as db:
            db.execute("UPDATE source_state SET alerted = ? WHERE name = ?", (int(alerted), name))

    def hold_pending(
        self, name: str, now: datetime, *, text: str, content_hash: str, reason: str, etag: str | None, last_modified: str | None
    ) -> None:
        """Remember a suspicious version (mass change) without adopting it."""
        with self._tx() as db:
            self._ensure_source(db, name)
            db.execute(
                "UPDATE source_state SET pending_hash = ?, pending_text = ?, pending_etag = ?, pending_last_modified = ?,"
                " pending_since = ?, pending_reason = ?, last_poll = ?, failures = 0, last_error = NULL, next_poll = NULL"
                " WHERE name = ?",
                (content_hash, text, etag, last_modified, _iso(now), reason, _iso(now), name),
            )

    def clear_pending(self, name: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE source_state SET pending_hash = NULL, pending_text = NULL, pending_etag = NULL,"
                " pending_last_modified = NULL, pending_since = NULL, pending_reason = NULL WHERE name = ?",
                (name,),
            )

    def _must_state(self, name: str) -> SourceState:
        state = self.source_state(name)
        assert state is not None
        return state

    # --- polls and accepted versions ------------------------------------------------

    def begin_poll(self, now: datetime) -> int:
        with self._tx() as db:
            cursor = db.execute("INSERT INTO polls (started_at) VALUES (?)", (_iso(now),))
            return int(cursor.lastrowid or 0)

    def accept_version(
        self,
        name: str,
        version: Version,
        *,
        now: datetime,
        poll_id: int,
        candidates: Sequence[Entry] = (),
        match: Matcher | None = None,
        digest: bool = False,
    ) -> list[Entry]:
        """Adopt a version; log the candidates never seen anywhere; queue their announcements.

        One transaction: the snapshot, the identities seen, the log and the outbox rows
        land together or not at all. A candidate already logged in this same poll (the
        same paper added to two lists at once) gains this list as a source instead.
        Returns the entries that are new.
        """
        new_entries: list[Entry] = []
        unique = list({entry.key: entry for entry in reversed(candidates)}.values())[::-1]
        with self._tx() as db:
            self._ensure_source(db, name)
            for entry in unique:
                row = db.execute("SELECT sources, poll_id FROM entry_log WHERE key = ?", (entry.key,)).fetchone()
                if row is not None and row["poll_id"] == poll_id:
                    sources = json.loads(row["sources"])
                    if name not in sources:
                        db.execute("UPDATE entry_log SET sources = ? WHERE key = ?", (json.dumps([*sources, name]), entry.key))
                    new_entries.append(entry)
                    continue
                if row is not None or db.execute("SELECT 1 FROM seen WHERE key = ?", (entry.key,)).fetchone():
                    continue
                db.execute(
                    "INSERT INTO entry_log (key, entry_id, entry_json, sources, section, first_seen, revision, poll_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.key, entry.id, json.dumps(entry.to_json(), ensure_ascii=False), json.dumps([name]),
                        json.dumps(list(entry.section), ensure_ascii=False), _iso(now), version.revision, poll_id,
                    ),
                )
                new_entries.append(entry)
            db.executemany(
                "INSERT OR IGNORE INTO seen (key, first_seen, source) VALUES (?, ?, ?)",
                [(entry.key, _iso(now), name) for entry in version.entries],
            )
            if new_entries and match is not None:
                subscriptions = [_subscription(r) for r in db.execute("SELECT * FROM subscriptions WHERE active = 1 ORDER BY id")]
                rows = []
                for entry in new_entries:
                    for sub in subscriptions:
                        if match(sub.filter, entry):
                            rows.append((sub.id, sub.platform, sub.chat, entry.key, poll_id, int(digest), _iso(now)))
                db.executemany(
                    "INSERT OR IGNORE INTO outbox (subscription_id, platform, chat, entry_key, poll_id, digest, next_try)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            db.execute(
                "UPDATE source_state SET snapshot = ?, content_hash = ?, entries = ?, etag = ?, last_modified = ?,"
                " mtime = ?, last_poll = ?, last_change = ?, failures = 0, last_error = NULL, next_poll = NULL,"
                " pending_hash = NULL, pending_text = NULL, pending_etag = NULL, pending_last_modified = NULL,"
                " pending_since = NULL, pending_reason = NULL WHERE name = ?",
                (
                    version.text, version.content_hash, len(version.entries), version.etag, version.last_modified,
                    version.mtime, _iso(now), _iso(now), name,
                ),
            )
        return new_entries

    # --- the log ----------------------------------------------------------------------

    def recent_new_entries(self, since: datetime | None = None, limit: int = 20) -> list[LoggedEntry]:
        """Entries the watcher found new, newest first (``/new``, ``medbot new``, the feed)."""
        rows = self._query(
            "SELECT * FROM entry_log WHERE first_seen >= ? ORDER BY first_seen DESC, rowid ASC LIMIT ?",
            (_iso(since) or "", max(0, int(limit))),
        )
        return [_logged(row) for row in rows]

    # --- subscriptions ------------------------------------------------------------------

    def add_subscription(
        self, platform: str, chat: str, filter: str = "", created_by: str = "", now: datetime | None = None
    ) -> Subscription:
        """Subscribe a chat; the same filter twice in one chat returns the existing one."""
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM subscriptions WHERE platform = ? AND chat = ? AND filter = ? AND active = 1",
                (platform, chat, filter),
            ).fetchone()
            if row is not None:
                return _subscription(row)
            cursor = db.execute(
                "INSERT INTO subscriptions (platform, chat, filter, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                (platform, chat, filter, created_by, _iso(now or utcnow())),
            )
            return _subscription(db.execute("SELECT * FROM subscriptions WHERE id = ?", (cursor.lastrowid,)).fetchone())

    def remove_subscription(self, subscription_id: int, platform: str, chat: str) -> bool:
        """Deactivate one of this chat's subscriptions (and drop what it still had queued)."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE subscriptions SET active = 0, disabled_reason = 'unsubscribed'"
                " WHERE id = ? AND platform = ? AND chat = ? AND active = 1",
                (subscription_id, platform, chat),
            )
            db.execute("UPDATE outbox SET state = 'cancelled' WHERE subscription_id = ? AND state = 'pending'", (subscription_id,))
            return cursor.rowcount > 0

    def list_subscriptions(self, platform: str | None = None, chat: str | None = None, *, active: bool = True) -> list[Subscription]:
        sql = "SELECT * FROM subscriptions WHERE active = ?"
        params: list[object] = [int(active)]
        if platform is not None:
            sql, params = sql + " AND platform = ?", [*params, platform]
        if chat is not None:
            sql, params = sql + " AND chat = ?", [*params, chat]
        return [_subscription(row) for row in self._query(sql + " ORDER BY id", params)]

    def disable_chat(self, platform: str, chat: str, reason: str) -> int:
        """The platform refused this chat for good: stop every subscription and queued row."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE subscriptions SET active = 0, disabled_reason = ? WHERE platform = ? AND chat = ? AND active = 1",
                (reason[:300], platform, chat),
            )
            db.execute(
                "UPDATE outbox SET state = 'failed', last_error = ? WHERE platform = ? AND chat = ? AND state IN ('pending', 'sending')",
                (reason[:300], platform, chat),
            )
            return cursor.rowcount

    def sync_config_subscriptions(self, targets: Iterable[tuple[str, str, str]]) -> None:
        """Make the config's announcement chats subscriptions (``created_by='config'``)."""
        wanted = set(targets)
        with self._tx() as db:
            current = {
                (r["platform"], r["chat"], r["filter"]): r["id"]
                for r in db.execute("SELECT * FROM subscriptions WHERE created_by = 'config' AND active = 1")
            }
            for key, sub_id in current.items():
                if key not in wanted:
                    db.execute("UPDATE subscriptions SET active = 0, disabled_reason = 'removed from config' WHERE id = ?", (sub_id,))
            for platform, chat, filter_text in wanted - set(current):
                db.execute(
                    "INSERT INTO subscriptions (platform, chat, filter, created_by, created_at) VALUES (?, ?, ?, 'config', ?)",
                    (platform, chat, filter_text, _iso(utcnow())),
                )

    # --- outbox ---------------------------------------------------------------------------

    def reset_sending(self) -> int:
        """After a crash: rows caught in flight go back to pending (one duplicate at most)."""
        with self._tx() as db:
            count = db.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'").rowcount
            count += db.execute("UPDATE alerts SET state = 'pending' WHERE state = 'sending'").rowcount
            return count

    def due_outbox(self, now: datetime, platforms: Iterable[str] | None = None) -> list[OutboxItem]:
        rows = self._query(
            "SELECT o.*, l.entry_json, l.sources, l.first_seen FROM outbox o JOIN entry_log l ON l.key = o.entry_key"
            " WHERE o.state = 'pending' AND o.next_try <= ? ORDER BY o.poll_id, o.platform, o.chat, o.id",
            (_iso(now),),
        )
        allowed = None if platforms is None else set(platforms)
        return [
            OutboxItem(
                id=row["id"], subscription_id=row["subscription_id"], platform=row["platform"], chat=row["chat"],
                poll_id=row["poll_id"], digest=bool(row["digest"]), attempts=row["attempts"], logged=_logged(row),
            )
            for row in rows
            if allowed is None or row["platform"] in allowed
        ]

    def mark(self, ids: Sequence[int], state: str, *, now: datetime | None = None, error: str | None = None,
             next_try: datetime | None = None, attempt: bool = False, table: str = "outbox") -> None:
        """Move outbox (or alert) rows to ``state``; ``sent`` is set only after the platform accepted."""
        assert table in {"outbox", "alerts"} and state in {"pending", "sending", "sent", "failed", "cancelled"}
        sets = ["state = ?"]
        params: list[object] = [state]
        if attempt:
            sets.append("attempts = attempts + 1")
        if error is not None:
            sets.append("last_error = ?")
            params.append(error[:500])
        if next_try is not None:
            sets.append("next_try = ?")
            params.append(_iso(next_try))
        if state == "sent" and table == "outbox":
            sets.append("sent_at = ?")
            params.append(_iso(now or utcnow()))
        with self._tx() as db:
            db.executemany(f"UPDATE {table} SET {', '.join(sets)} WHERE id = ?", [(*params, i) for i in ids])

    def outbox_counts(self) -> dict[str, int]:
        return {row[0]: row[1] for row in self._query("SELECT state, COUNT(*) FROM outbox GROUP BY state")}

    # --- operator alerts ------------------------------------------------------------------

    def queue_alert(self, targets: Iterable[tuple[str, str]], text: str, now: datetime) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT INTO alerts (platform, chat, text, created_at, next_try) VALUES (?, ?, ?, ?, ?)",
                [(platform, chat, text, _iso(now), _iso(now)) for platform, chat in targets],
            )

    def due_alerts(self, now: datetime, platforms: Iterable[str] | None = None) -> list[Alert]:
        rows = self._query("SELECT * FROM alerts WHERE state = 'pending' AND next_try <= ? ORDER BY id", (_iso(now),))
        allowed = None if platforms is None else set(platforms)
        return [
            Alert(row["id"], row["platform"], row["chat"], row["text"], row["attempts"])
            for row in rows
            if allowed is None or row["platform"] in allowed
        ]

    def alert_counts(self) -> dict[str, int]:
        return {row[0]: row[1] for row in self._query("SELECT state, COUNT(*) FROM alerts GROUP BY state")}


def _state(row: sqlite3.Row) -> SourceState:
    return SourceState(
        name=row["name"], entries=row["entries"], last_poll=_when(row["last_poll"]), last_change=_when(row["last_change"]),
        failures=row["failures"], content_hash=row["content_hash"], etag=row["etag"], last_modified=row["last_modified"],
        mtime=row["mtime"], last_error=row["last_error"], next_poll=_when(row["next_poll"]), alerted=bool(row["alerted"]),
        pending_hash=row["pending_hash"], pending_etag=row["pending_etag"], pending_last_modified=row["pending_last_modified"],
        pending_since=_when(row["pending_since"]), pending_reason=row["pending_reason"],
    )


def _logged(row: sqlite3.Row) -> LoggedEntry:
    first_seen = _when(row["first_seen"])
    assert first_seen is not None
    return LoggedEntry(entry_from_json(json.loads(row["entry_json"])), tuple(json.loads(row["sources"])), first_seen)


def _subscription(row: sqlite3.Row) -> Subscription:
    created = _when(row["created_at"])
    assert created is not None
    return Subscription(row["id"], row["platform"], row["chat"], row["filter"], row["created_by"], created, bool(row["active"]))
