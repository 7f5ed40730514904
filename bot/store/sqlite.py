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
                (iso(now), etag, last_modified, mtime, name),
            )
        return self._must_state(name)

    def record_failure(self, name: str, now: datetime, error: str, next_poll: datetime) -> SourceState:
        """A failed poll: nothing of the good state is touched, only the failure count."""
        with self._tx() as db:
            self._ensure_source(db, name)
            db.execute(
                "UPDATE source_state SET last_poll = ?, failures = failures + 1, last_error = ?, next_poll = ? WHERE name = ?",
                (iso(now), error[:500], iso(next_poll), name),
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
                (content_hash, text, etag, last_modified, iso(now), reason, iso(now), name),
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
            db.execute(
                "UPDATE source_state SET snapshot = ?, content_hash = ?, entries = ?, etag = ?, last_modified = ?,"
                " mtime = ?, last_poll = ?, last_change = ?, failures = 0, last_error = NULL, next_poll = NULL,"
                " pending_hash = NULL, pending_text = NULL, pending_etag = NULL, pending_last_modified = NULL,"
                " pending_since = NULL, pending_reason = NULL WHERE name = ?",
                (
                    version.text, version.content_hash, len(version.entries), version.etag, version.last_modified,
                    version.mtime, iso(now), iso(now), name,
                ),
            )
        return new_entries

    # --- the log ----------------------------------------------------------------------

    def recent_new_entries(self, since: datetime | None = None, limit: int = 20) -> list[LoggedEntry]:
        """Entries the watcher found new, newest first (``/new``, ``medbot new``, the feed)."""
        rows = self._query(
            "SELECT * FROM entry_log WHERE first_seen >= ? ORDER BY first_seen DESC, rowid ASC LIMIT ?",
            (iso(since) or "", max(0, int(limit))),
        )
        return [logged_from_row(row) for row in rows]

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
            db.execute("UPDATE outbox SET state = 'cancelled' WHERE subscription_id = ? AND state = 'pending'", (subscription_id,))
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
                    (platform, chat, filter_text, iso(utcnow())),
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
            (iso(now),),
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
            params.append(iso(next_try))
        if state == "sent" and table == "outbox":
            sets.append("sent_at = ?")
            params.append(iso(now or utcnow()))
        with self._tx() as db:
            db.executemany(f"UPDATE {table} SET {', '.join(sets)} WHERE id = ?", [(*params, i) for i in ids])

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
        rows = self._query("SELECT * FROM alerts WHERE state = 'pending' AND next_try <= ? ORDER BY id", (iso(now),))
        allowed = None if platforms is None else set(platforms)
        return [
            Alert(row["id"], row["platform"], row["chat"], row["text"], row["attempts"])
            for row in rows
            if allowed is None or row["platform"] in allowed
        ]

    def alert_counts(self) -> dict[str, int]:
        return {row[0]: row[1] for row in self._query("SELECT state, COUNT(*) FROM alerts GROUP BY state")}
