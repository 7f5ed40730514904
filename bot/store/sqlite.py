"""The watcher's memory: source state, the log of new entries, subscriptions, the outbox.

Everything the watcher learns must survive a crash at any instant, so it lives in one
SQLite file (WAL mode, so readers such as ``/new`` never block the watcher), or in
PostgreSQL when several workers share it (``state.url``, ``bot/store/engine.py``), and every
change that belongs together is one transaction: a new version's snapshot, its new
entries and their outbox rows are committed together, before anything is sent. The
schema is migrated by version number (``bot/store/database.py``).

Methods are synchronous and thread-safe (a locked connection or a pool); async callers
wrap them in ``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from bot.store import poll_states
from bot.store.database import Database
from bot.store.engine import Tx
from bot.store.outbox_states import Delivery
from bot.store.records import (
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
from bot.store.schedules import next_due, parse_schedule
from bot.store.sqlite_chats import ChatTables
from bot.store.sqlite_outbox import OutboxTables
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


class Store(OutboxTables, ChatTables, Database):
    """The state (a SQLite file or PostgreSQL): sources, the log, subscriptions, the outbox, alerts, chat settings, button tokens."""

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
    def _write_source(db: Tx, state: SourceState, *, snapshot: str | None = None, pending_text: str | None = None) -> None:
        """The whole record, written by one statement; the texts only when given (or dropped with the hold)."""
        db.execute(
            "INSERT INTO source_state (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (state.name,)
        )
        db.execute(
            "UPDATE source_state SET entries = ?, last_poll = ?, last_change = ?, failures = ?, content_hash = ?,"
            " etag = ?, last_modified = ?, mtime = ?, last_error = ?, next_poll = ?, alerted = ?,"
            " pending_hash = ?, pending_etag = ?, pending_last_modified = ?, pending_since = ?, pending_reason = ?,"
            " snapshot = COALESCE(?, snapshot),"
            " pending_text = CASE WHEN CAST(? AS TEXT) IS NULL THEN NULL ELSE COALESCE(?, pending_text) END"
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
            return db.insert("INSERT INTO polls (started_at) VALUES (?)", (iso(now),))

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
        timezone: str = "UTC",
    ) -> list[Entry]:
        """Adopt a version; log the candidates never seen anywhere; queue their announcements.

        One transaction: the snapshot, the identities seen, the log and the outbox rows
        land together or not at all. A candidate already logged in this same poll (the
        same paper added to two lists at once) gains this list as a source instead.
        Returns the entries that are new. A subscription on a schedule gets its rows due
        at its next digest in the chat's time zone (``timezone`` when the chat set none).
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
                    "INSERT INTO entry_log (key, entry_id, entry_json, sources, section, first_seen, revision, poll_id, seq)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM entry_log))",
                    (
                        entry.key, entry.id, json.dumps(entry.to_json(), ensure_ascii=False), json.dumps([name]),
                        json.dumps(list(entry.section), ensure_ascii=False), iso(now), version.revision, poll_id,
                    ),
                )
                new_entries.append(entry)
            db.executemany(
                "INSERT INTO seen (key, first_seen, source) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(entry.key, iso(now), name) for entry in version.entries],
            )
            if new_entries and match is not None:
                subscriptions = [subscription_from_row(r) for r in db.execute("SELECT * FROM subscriptions WHERE active = 1 ORDER BY id")]
                zones = {(r["platform"], r["chat"]): r["timezone"] for r in db.execute("SELECT platform, chat, timezone FROM chat_settings")}
                rows = []
                for entry in new_entries:
                    for sub in subscriptions:
                        if match(sub.filter, entry):
                            due = iso(next_due(parse_schedule(sub.schedule), now, zones.get((sub.platform, sub.chat)) or timezone))
                            rows.append((sub.id, sub.platform, sub.chat, sub.thread, entry.key, poll_id,
                                         int(digest), due or iso(now), due))
                db.executemany(  # one row per chat and entry: the oldest matching subscription routes it
                    "INSERT INTO outbox (subscription_id, platform, chat, thread, entry_key, poll_id, digest, next_try, due)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, chat, entry_key) DO NOTHING",
                    rows,
                )
            self._write_source(db, poll_states.adopted(before, version, now), snapshot=version.text)
        return new_entries

    # --- the log ----------------------------------------------------------------------

    def recent_new_entries(self, since: datetime | None = None, limit: int = 20, offset: int = 0) -> list[LoggedEntry]:
        """Entries the watcher found new, newest first (``/new``, ``medbot new``, the feed)."""
        rows = self._query(
            "SELECT * FROM entry_log WHERE first_seen >= ? ORDER BY first_seen DESC, seq ASC LIMIT ? OFFSET ?",
            (iso(since) or "", max(0, int(limit)), max(0, int(offset))),
        )
        return [logged_from_row(row) for row in rows]

    def count_new_entries(self, since: datetime | None = None) -> int:
        """How many entries ``recent_new_entries(since)`` pages through (``/new``'s page count)."""
        return int(self._query("SELECT COUNT(*) FROM entry_log WHERE first_seen >= ?", (iso(since) or "",))[0][0])

    # --- subscriptions ------------------------------------------------------------------

    def add_subscription(
        self, platform: str, chat: str, filter: str = "", created_by: str = "", now: datetime | None = None,
        *, thread: str = "", role: str = "", schedule: str = "now",
    ) -> Subscription:
        """Subscribe a chat (or one topic/thread of it); the same filter twice in one place
        returns the existing one, with the newly given role and schedule."""
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM subscriptions WHERE platform = ? AND chat = ? AND filter = ? AND thread = ? AND active = 1",
                (platform, chat, filter, thread),
            ).fetchone()
            if row is not None:
                db.execute("UPDATE subscriptions SET role = ?, schedule = ? WHERE id = ?", (role, schedule, row["id"]))
                return subscription_from_row(db.execute("SELECT * FROM subscriptions WHERE id = ?", (row["id"],)).fetchone())
            new_id = db.insert(
                "INSERT INTO subscriptions (platform, chat, filter, created_by, created_at, thread, role, schedule)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (platform, chat, filter, created_by, iso(now or utcnow()), thread, role, schedule),
            )
            return subscription_from_row(db.execute("SELECT * FROM subscriptions WHERE id = ?", (new_id,)).fetchone())

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
        """Make the config's announcement chats subscriptions (``created_by='config'``).

        A chat whose admin said /unsubscribe stays silent: a target is not created again
        while the latest subscription row of that chat and filter is an unsubscribed one
        (nor when the chat already has that subscription of its own). /subscribe in the
        chat ends the silence.
        """
        wanted = set(targets)
        with self._tx() as db:
            current = {
                (r["platform"], r["chat"], r["filter"]): r["id"]
                for r in db.execute("SELECT * FROM subscriptions WHERE created_by = 'config' AND active = 1")
            }
            for key, sub_id in current.items():
                if key not in wanted:
                    db.execute("UPDATE subscriptions SET active = 0, disabled_reason = 'removed from config' WHERE id = ?", (sub_id,))
            latest = {
                (r["platform"], r["chat"], r["filter"]): bool(r["active"]) or r["disabled_reason"] == "unsubscribed"
                for r in db.execute("SELECT platform, chat, filter, active, disabled_reason FROM subscriptions ORDER BY id")
            }
            for platform, chat, filter_text in wanted - set(current):
                if latest.get((platform, chat, filter_text)):
                    continue  # subscribed by the chat itself, or silenced there by an admin
                db.execute(
                    "INSERT INTO subscriptions (platform, chat, filter, created_by, created_at) VALUES (?, ?, ?, 'config', ?)",
                    (platform, chat, filter_text, iso(utcnow())),
                )

    # --- button tokens ------------------------------------------------------------------

    def put_token(self, token: str, argument: str, ttl_seconds: float) -> None:
        """A button's long argument, for whichever worker receives the press (expired ones go)."""
        now = utcnow()
        with self._tx() as db:
            if secrets.randbelow(50) == 0:
                db.execute("DELETE FROM page_tokens WHERE expires_at < ?", (iso(now),))
            db.execute(
                "INSERT INTO page_tokens (token, argument, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (token, argument, iso(now + timedelta(seconds=ttl_seconds))),
            )

    def get_token(self, token: str) -> str | None:
        rows = self._query("SELECT argument FROM page_tokens WHERE token = ? AND expires_at >= ?", (token, iso(utcnow())))
        return str(rows[0]["argument"]) if rows else None
