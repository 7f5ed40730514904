"""Per-chat settings, routed subscriptions, and what the outbox says about a chat or entry.

The tables of issue 14 (migration 4 in ``records.py``): ``chat_settings``, and the
questions ``/why`` and ``medbot deliveries`` ask of the outbox. Portable SQL only (``?``
placeholders, ``ON CONFLICT … DO UPDATE``, ISO text timestamps compared as strings),
because the same store also runs on PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.store.database import Database
from bot.store.engine import Row
from bot.store.outbox_states import Delivery
from bot.store.records import (
    ChatSettings,
    LoggedEntry,
    chat_settings_from_row,
    iso,
    logged_from_row,
    when,
)

__all__ = ["CHAT_SETTINGS", "ChatTables", "DeliveryRow"]

CHAT_SETTINGS = ("language", "timezone", "digest_threshold", "preview")
"""The columns ``set_chat_setting`` may write (never assembled from user text)."""


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One outbox row as operators and ``/why`` see it."""

    id: int
    platform: str
    chat: str
    thread: str
    entry_key: str
    entry_id: str
    title: str
    subscription_id: int
    state: Delivery
    attempts: int
    next_try: datetime | None
    due: datetime | None
    sent_at: datetime | None
    last_error: str | None


_DELIVERY_SELECT = (
    "SELECT o.id, o.platform, o.chat, o.thread, o.entry_key, o.subscription_id, o.state, o.attempts, o.next_try,"
    " o.due, o.sent_at, o.last_error, l.entry_id, l.entry_json FROM outbox o JOIN entry_log l ON l.key = o.entry_key"
)


class ChatTables(Database):
    # --- chat settings ----------------------------------------------------------------

    def chat_settings(self, platform: str, chat: str) -> ChatSettings:
        rows = self._query("SELECT * FROM chat_settings WHERE platform = ? AND chat = ?", (platform, chat))
        return chat_settings_from_row(rows[0]) if rows else ChatSettings(platform, chat)

    def set_chat_setting(self, platform: str, chat: str, name: str, value: object, by: str, now: datetime) -> ChatSettings:
        """Set one setting (None: back to the default); ``name`` is one of ``CHAT_SETTINGS``."""
        if name not in CHAT_SETTINGS:
            raise ValueError(f"unknown chat setting {name!r}")
        statement = (  # the column name comes from the fixed tuple above, never from user text
            f"INSERT INTO chat_settings (platform, chat, {name}, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)"
            f" ON CONFLICT (platform, chat) DO UPDATE SET {name} = excluded.{name},"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at"
        )
        with self._tx() as db:
            db.execute(statement, (platform, chat, value, by, iso(now)))
        return self.chat_settings(platform, chat)

    # --- routed subscriptions ---------------------------------------------------------

    def disable_thread(self, platform: str, chat: str, thread: str, reason: str) -> list[int]:
        """The topic or thread is gone: stop the subscriptions announcing there and their queued rows.

        Returns the subscriptions this disabled (empty when another lane already did).
        """
        with self._tx() as db:
            ids = [int(row["id"]) for row in db.execute(
                "SELECT id FROM subscriptions WHERE platform = ? AND chat = ? AND thread = ? AND active = 1",
                (platform, chat, thread),
            ).fetchall()]
            db.executemany("UPDATE subscriptions SET active = 0, disabled_reason = ? WHERE id = ?",
                           [(reason[:300], sub_id) for sub_id in ids])
            db.execute(
                "UPDATE outbox SET state = ?, last_error = ? WHERE platform = ? AND chat = ? AND thread = ? AND state IN (?, ?)",
                (Delivery.DEAD, reason[:300], platform, chat, thread, Delivery.QUEUED, Delivery.SENDING),
            )
            return ids

    # --- what the outbox says ---------------------------------------------------------

    def deliveries(self, *, platform: str | None = None, chat: str | None = None, since: datetime | None = None,
                   entry_key: str | None = None, limit: int = 200) -> list[DeliveryRow]:
        """Outbox rows, newest first: for ``medbot deliveries`` and ``/why``."""
        sql, params = _DELIVERY_SELECT + " WHERE l.first_seen >= ?", [iso(since) or ""]
        for column, value in (("o.platform", platform), ("o.chat", chat), ("o.entry_key", entry_key)):
            if value is not None:
                sql, params = sql + f" AND {column} = ?", [*params, value]
        rows = self._query(sql + " ORDER BY o.id DESC LIMIT ?", [*params, max(1, int(limit))])
        return [_delivery(row) for row in rows]

    def logged_by_id(self, entry_id: str) -> list[tuple[str, LoggedEntry]]:
        """(key, logged entry) of the log's entries with this short id (``/why 3f9a2c1d07``)."""
        rows = self._query("SELECT * FROM entry_log WHERE entry_id = ? ORDER BY first_seen DESC", (entry_id,))
        return [(row["key"], logged_from_row(row)) for row in rows]

    def logged_since(self, since: datetime, limit: int = 5000) -> list[LoggedEntry]:
        """The log since then, newest first (``/subscribe``'s "would have matched")."""
        rows = self._query("SELECT * FROM entry_log WHERE first_seen >= ? ORDER BY first_seen DESC LIMIT ?",
                           (iso(since), max(1, int(limit))))
        return [logged_from_row(row) for row in rows]

    def chat_subscriptions(self, platform: str, chat: str) -> list[tuple[int, str, bool, str | None, datetime | None]]:
        """(id, filter, active, disabled reason, created) of every subscription a chat ever had."""
        rows = self._query("SELECT id, filter, active, disabled_reason, created_at FROM subscriptions"
                           " WHERE platform = ? AND chat = ? ORDER BY id", (platform, chat))
        return [(int(r["id"]), r["filter"], bool(r["active"]), r["disabled_reason"], when(r["created_at"])) for r in rows]


def _delivery(row: Row) -> DeliveryRow:
    data = row["entry_json"]
    title = str(json.loads(data).get("title") or "") if data else ""
    return DeliveryRow(
        id=row["id"], platform=row["platform"], chat=row["chat"], thread=row["thread"] or "",
        entry_key=row["entry_key"], entry_id=row["entry_id"], title=title,
        subscription_id=row["subscription_id"], state=Delivery(row["state"]), attempts=row["attempts"],
        next_try=when(row["next_try"]), due=when(row["due"]), sent_at=when(row["sent_at"]), last_error=row["last_error"],
    )
