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
from datetime import datetime
from pathlib import Path

from bot.store import poll_states
from bot.store.outbox_states import Delivery, Move
from bot.store.records import (
    MIGRATIONS,
    Alert,
    LoggedEntry,
    OutboxItem,
    SourceState,
    Subscription,
    Version,
    entry_from_json,
    iso,
    logged_from_row,
    state_from_row,
    subscription_from_row,
    utcnow,
)
from index.model import Entry

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
        return {row["name"]: state_from_row(row) for row in self._query("SELECT * FROM source_state ORDER BY name")}

    def source_state(self, name: str) -> SourceState | None:
        rows = self._query("SELECT * FROM source_state WHERE name = ?", (name,))
        return state_from_row(rows[0]) if rows else None

    def snapshot(self, name: str) -> str | None:
        """The last good text of a source (what the index should hold), if any."""
        rows = self._query("SELECT snapshot FROM source_state WHERE name = ?", (name,))
        return rows[0]["snapshot"] if rows else None

    def pending_snapshot(self, name: str) -> str | None:
        rows = self._query("SELECT pending_text FROM source_state WHERE name = ?", (name,))
        return rows[0]["pending_text"] if rows else None

    def update_source(
        self, name: str, change: Callable[[SourceState], SourceState], *, pending_text: str | None = None
    ) -> SourceState:
        """Apply one transition of ``bot.store.poll_states`` to a source, in one transaction.

        ``pending_text`` is the held version's text, kept while the record holds a version.
        """
        with self._tx() as db:
            rows = db.execute("SELECT * FROM source_state WHERE name = ?", (name,)).fetchall()
            after = change(state_from_row(rows[0]) if rows else SourceState(name))
            self._write_source(db, after, pending_text=pending_text)
        return after

    @staticmethod
    def _write_source(db: sqlite3.Connection, state: SourceState, *, snapshot: str | None = None, pending_text: str | None = None) -> None:
        """The whole record, written by one statement; the texts only when given (or dropped with the hold)."""
        db.execute(
            "INSERT INTO source_state (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (state.name,)
        )
        db.execute(
            "UPDATE source_state SET entries = ?, last_poll = ?, last_change = ?, failures = ?, content_hash = ?,"
            " etag = ?, last_modified = ?, mtime = ?, last_error = ?, next_poll = ?, alerted = ?,"
            " pending_hash = ?, pending_etag = ?, pending_last_modified = ?, pending_since = ?, pending_reason = ?,"
            " snapshot = COALESCE(?, snapshot),"
            " pending_text = CASE WHEN ? IS NULL THEN NULL ELSE COALESCE(?, pending_text) END"
            " WHERE name = ?",
            (
                state.entries, iso(state.last_poll), iso(state.last_change), state.failures, state.content_hash,
                state.etag, state.last_modified, state.mtime, state.last_error, iso(state.next_poll), int(state.alerted),
                state.pending_hash, state.pending_etag, state.pending_last_modified, iso(state.pending_since),
                state.pending_reason, snapshot, state.pending_hash, pending_text, state.name,
            ),
        )

    # --- polls and accepted versions ------------------------------------------------

    def begin_poll(self, now: datetime) -> int:
        with self._tx() as db:
            cursor = db.execute("INSERT INTO polls (started_at) VALUES (?)", (iso(now),))
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
            rows = db.execute("SELECT * FROM source_state WHERE name = ?", (name,)).fetchall()
            before = state_from_row(rows[0]) if rows else SourceState(name)
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
                        json.dumps(list(entry.section), ensure_ascii=False), iso(now), version.revision, poll_id,
                    ),
                )
                new_entries.append(entry)
            db.executemany(
                "INSERT OR IGNORE INTO seen (key, first_seen, source) VALUES (?, ?, ?)",
                [(entry.key, iso(now), name) for entry in version.entries],
            )
            if new_entries and match is not None:
                subscriptions = [subscription_from_row(r) for r in db.execute("SELECT * FROM subscriptions WHERE active = 1 ORDER BY id")]
                rows = []
                for entry in new_entries:
                    for sub in subscriptions:
                        if match(sub.filter, entry):
                            rows.append((sub.id, sub.platform, sub.chat, entry.key, poll_id, int(digest), iso(now)))
                db.executemany(
                    "INSERT OR IGNORE INTO outbox (subscription_id, platform, chat, entry_key, poll_id, digest, next_try)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            self._write_source(db, poll_states.adopted(before, version, now), snapshot=version.text)
        return new_entries

    # --- the log ----------------------------------------------------------------------

    def recent_new_entries(self, since: datetime | None = None, limit: int = 20, offset: int = 0) -> list[LoggedEntry]:
        """Entries the watcher found new, newest first (``/new``, ``medbot new``, the feed)."""
        rows = self._query(
            "SELECT * FROM entry_log WHERE first_seen >= ? ORDER BY first_seen DESC, rowid ASC LIMIT ? OFFSET ?",
            (iso(since) or "", max(0, int(limit)), max(0, int(offset))),
        )
        return [logged_from_row(row) for row in rows]

    def count_new_entries(self, since: datetime | None = None) -> int:
        """How many entries ``recent_new_entries(since)`` pages through (``/new``'s page count)."""
        return int(self._query("SELECT COUNT(*) FROM entry_log WHERE first_seen >= ?", (iso(since) or "",))[0][0])

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
                return subscription_from_row(row)
            cursor = db.execute(
                "INSERT INTO subscriptions (platform, chat, filter, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                (platform, chat, filter, created_by, iso(now or utcnow())),
            )
            return subscription_from_row(db.execute("SELECT * FROM subscriptions WHERE id = ?", (cursor.lastrowid,)).fetchone())

    def remove_subscription(self, subscription_id: int, platform: str, chat: str) -> bool:
        """Deactivate one of this chat's subscriptions (and drop what it still had queued)."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE subscriptions SET active = 0, disabled_reason = 'unsubscribed'"
                " WHERE id = ? AND platform = ? AND chat = ? AND active = 1",
                (subscription_id, platform, chat),
            )
            db.execute("UPDATE outbox SET state = ? WHERE subscription_id = ? AND state = ?",
                       (Delivery.CANCELLED, subscription_id, Delivery.QUEUED))
            return cursor.rowcount > 0

    def list_subscriptions(self, platform: str | None = None, chat: str | None = None, *, active: bool = True) -> list[Subscription]:
        sql = "SELECT * FROM subscriptions WHERE active = ?"
        params: list[object] = [int(active)]
        if platform is not None:
            sql, params = sql + " AND platform = ?", [*params, platform]
        if chat is not None:
            sql, params = sql + " AND chat = ?", [*params, chat]
        return [subscription_from_row(row) for row in self._query(sql + " ORDER BY id", params)]

    def disable_chat(self, platform: str, chat: str, reason: str) -> int:
        """The platform refused this chat for good: stop every subscription and queued row."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE subscriptions SET active = 0, disabled_reason = ? WHERE platform = ? AND chat = ? AND active = 1",
                (reason[:300], platform, chat),
            )
            db.execute(
                "UPDATE outbox SET state = ?, last_error = ? WHERE platform = ? AND chat = ? AND state IN (?, ?)",
                (Delivery.DEAD, reason[:300], platform, chat, Delivery.QUEUED, Delivery.SENDING),
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
                    (platform, chat, filter_text, iso(utcnow())),
                )

    # --- outbox ---------------------------------------------------------------------------

    def reset_sending(self) -> int:
        """After a crash: rows caught in flight go back to pending (one duplicate at most)."""
        with self._tx() as db:
            count = db.execute("UPDATE outbox SET state = ? WHERE state = ?", (Delivery.QUEUED, Delivery.SENDING)).rowcount
            count += db.execute("UPDATE alerts SET state = ? WHERE state = ?", (Delivery.QUEUED, Delivery.SENDING)).rowcount
            return count

    def due_outbox(self, now: datetime, platforms: Iterable[str] | None = None) -> list[OutboxItem]:
        rows = self._query(
            "SELECT o.*, l.entry_json, l.sources, l.first_seen FROM outbox o JOIN entry_log l ON l.key = o.entry_key"
            " WHERE o.state = ? AND o.next_try <= ? ORDER BY o.poll_id, o.platform, o.chat, o.id",
            (Delivery.QUEUED, iso(now)),
        )
        allowed = None if platforms is None else set(platforms)
        return [
            OutboxItem(
                id=row["id"], subscription_id=row["subscription_id"], platform=row["platform"], chat=row["chat"],
                poll_id=row["poll_id"], digest=bool(row["digest"]), attempts=row["attempts"], logged=logged_from_row(row),
            )
            for row in rows
            if allowed is None or row["platform"] in allowed
        ]

    def move_outbox(self, ids: Sequence[int], move: Move) -> int:
        """Apply one ``bot.store.outbox_states`` transition to outbox rows; returns how many moved."""
        with self._tx() as db:
            return sum(
                db.execute(
                    "UPDATE outbox SET state = ?, attempts = attempts + ?, last_error = COALESCE(?, last_error),"
                    " next_try = COALESCE(?, next_try), sent_at = COALESCE(?, sent_at)"
                    " WHERE id = ? AND state IN (SELECT value FROM json_each(?))",
                    (move.to, int(move.attempt), move.error, iso(move.next_try), iso(move.sent_at), row_id, json.dumps(move.sources)),
                ).rowcount
                for row_id in ids
            )

    def move_alerts(self, ids: Sequence[int], move: Move) -> int:
        """The same transitions for operator alerts (which keep no send time)."""
        with self._tx() as db:
            return sum(
                db.execute(
                    "UPDATE alerts SET state = ?, attempts = attempts + ?, last_error = COALESCE(?, last_error),"
                    " next_try = COALESCE(?, next_try) WHERE id = ? AND state IN (SELECT value FROM json_each(?))",
                    (move.to, int(move.attempt), move.error, iso(move.next_try), row_id, json.dumps(move.sources)),
                ).rowcount
                for row_id in ids
            )

    def outbox_counts(self) -> dict[str, int]:
        return {row[0]: row[1] for row in self._query("SELECT state, COUNT(*) FROM outbox GROUP BY state")}

    # --- operator alerts ------------------------------------------------------------------

    def queue_alert(self, targets: Iterable[tuple[str, str]], text: str, now: datetime) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT INTO alerts (platform, chat, text, created_at, next_try) VALUES (?, ?, ?, ?, ?)",
                [(platform, chat, text, iso(now), iso(now)) for platform, chat in targets],
            )

    def due_alerts(self, now: datetime, platforms: Iterable[str] | None = None) -> list[Alert]:
        rows = self._query("SELECT * FROM alerts WHERE state = ? AND next_try <= ? ORDER BY id", (Delivery.QUEUED, iso(now)))
        allowed = None if platforms is None else set(platforms)
        return [
            Alert(row["id"], row["platform"], row["chat"], row["text"], row["attempts"])
            for row in rows
            if allowed is None or row["platform"] in allowed
        ]

    def alert_counts(self) -> dict[str, int]:
        return {row[0]: row[1] for row in self._query("SELECT state, COUNT(*) FROM alerts GROUP BY state")}
