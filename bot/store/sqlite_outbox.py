"""The outbox and alert tables: claims with a lease, moves along the delivery machine."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.store.database import Database
from bot.store.engine import Row
from bot.store.outbox_states import Delivery, Move
from bot.store.records import (
    Alert,
    OutboxItem,
    iso,
    logged_from_row,
    utcnow,
    when,
)

__all__ = ["OutboxTables", "owner_alive"]


class OutboxTables(Database):
    # --- outbox ---------------------------------------------------------------------------

    def reset_sending(self, now: datetime | None = None) -> int:
        """After a crash: rows whose claim expired (or that were never leased) are queued again.

        Rows another live process holds keep their lease: only their owner sends them.
        """
        moment = iso(now or utcnow())
        with self._tx() as db:
            count = 0
            for table in ("outbox", "alerts"):
                count += db.execute(
                    _RECOVER[table], (Delivery.QUEUED, Delivery.SENDING, moment)
                ).rowcount
            return count

    def claim_outbox(
        self, owner: str, now: datetime, lease_until: datetime, platforms: Iterable[str] | None = None,
        max_chats: int | None = None,
    ) -> list[OutboxItem]:
        """Claim what is due (and what a dead process left behind) in the transaction that reads it.

        Two processes never claim the same row: claims take turns (``BEGIN IMMEDIATE`` on
        SQLite, an advisory lock on PostgreSQL, whose ``SELECT … FOR UPDATE SKIP LOCKED``
        also skips rows a worker is moving), and a claimed row is ``SENDING`` with a live
        lease. A chat another live process is sending to stays its: one sender per chat
        at a time keeps the chat's flood limits across workers. ``max_chats`` leaves the
        other chats to the other workers.
        """
        allowed = None if platforms is None else set(platforms)
        with self._tx() as db:
            self.engine.serialize(db, "claims")
            busy = _busy_chats(db.execute(_SENDING_CHATS.format(table="outbox"), (Delivery.SENDING,)).fetchall(), owner, now)
            rows = db.execute(
                _ROWS
                + " WHERE (o.state = ? AND o.next_try <= ?) OR o.state = ?"
                " ORDER BY o.poll_id, o.platform, o.chat, o.id" + self.engine.lock_rows,
                (Delivery.QUEUED, iso(now), Delivery.SENDING),
            ).fetchall()
            rows = [row for row in rows if (allowed is None or row["platform"] in allowed)
                    and (row["platform"], row["chat"]) not in busy and _claimable(row, now)]
            if max_chats is not None:
                chats = list(dict.fromkeys((row["platform"], row["chat"]) for row in rows))[:max_chats]
                rows = [row for row in rows if (row["platform"], row["chat"]) in set(chats)]
            db.executemany(
                "UPDATE outbox SET state = ?, owner = ?, lease_until = ? WHERE id = ?",
                [(Delivery.SENDING, owner, iso(lease_until), row["id"]) for row in rows],
            )
        return [_outbox_item(row) for row in rows]

    def claim_alerts(self, owner: str, now: datetime, lease_until: datetime, platforms: Iterable[str] | None = None) -> list[Alert]:
        allowed = None if platforms is None else set(platforms)
        with self._tx() as db:
            self.engine.serialize(db, "claims")
            rows = db.execute(
                "SELECT * FROM alerts o WHERE (state = ? AND next_try <= ?) OR state = ? ORDER BY id" + self.engine.lock_rows,
                (Delivery.QUEUED, iso(now), Delivery.SENDING),
            ).fetchall()
            rows = [row for row in rows if (allowed is None or row["platform"] in allowed) and _claimable(row, now)]
            db.executemany(
                "UPDATE alerts SET state = ?, owner = ?, lease_until = ? WHERE id = ?",
                [(Delivery.SENDING, owner, iso(lease_until), row["id"]) for row in rows],
            )
        return [Alert(row["id"], row["platform"], row["chat"], row["text"], row["attempts"]) for row in rows]

    def renew_claim(self, ids: Sequence[int], owner: str, lease_until: datetime) -> int:
        """Keep rows this process is about to send; 0 means another process took them over."""
        with self._tx() as db:
            return sum(
                db.execute(
                    "UPDATE outbox SET lease_until = ? WHERE id = ? AND owner = ? AND state = ?",
                    (iso(lease_until), row_id, owner, Delivery.SENDING),
                ).rowcount
                for row_id in ids
            )

    def recent_sends(self, since: datetime) -> list[tuple[str, str, datetime]]:
        """(platform, chat, when) of messages sent (or tried) since then, by any process.

        Flood budgets survive restarts and hold across workers: a send a killed worker
        tried but never marked counts from the moment it was tried.
        """
        rows = self._query(
            "SELECT DISTINCT platform, chat, COALESCE(sent_at, tried_at) AS sent_at FROM outbox"
            " WHERE COALESCE(sent_at, tried_at) >= ? ORDER BY sent_at", (iso(since),)
        )
        return [(row["platform"], row["chat"], when(row["sent_at"]) or since) for row in rows]

    def due_outbox(self, now: datetime, platforms: Iterable[str] | None = None) -> list[OutboxItem]:
        rows = self._query(
            _ROWS
            + " WHERE o.state = ? AND o.next_try <= ? ORDER BY o.poll_id, o.platform, o.chat, o.id",
            (Delivery.QUEUED, iso(now)),
        )
        allowed = None if platforms is None else set(platforms)
        return [_outbox_item(row) for row in rows if allowed is None or row["platform"] in allowed]

    def move_outbox(self, ids: Sequence[int], move: Move, *, owner: str | None = None) -> int:
        """Apply one ``bot.store.outbox_states`` transition to outbox rows; returns how many moved.

        With ``owner``, only rows that process still holds move (a row whose lease was
        taken over belongs to the new owner). Leaving ``SENDING`` drops the claim.
        """
        with self._tx() as db:
            return sum(db.execute(_MOVE_OUTBOX, _move_params(move, row_id, owner)).rowcount for row_id in ids)

    def move_alerts(self, ids: Sequence[int], move: Move, *, owner: str | None = None) -> int:
        """The same transitions for operator alerts."""
        with self._tx() as db:
            return sum(db.execute(_MOVE_ALERTS, _move_params(move, row_id, owner, with_sent_at=False)).rowcount for row_id in ids)

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



_ROWS = (
    "SELECT o.*, l.entry_json, l.sources, l.first_seen, s.role AS sub_role FROM outbox o"
    " JOIN entry_log l ON l.key = o.entry_key LEFT JOIN subscriptions s ON s.id = o.subscription_id"
)
# Positional and typed (CAST) so the one statement runs on both engines; a move leaves
# from at most two states, so ``state IN (?, ?)`` takes the first one twice when needed.
_MOVE_SET = (
    " SET state = ?, attempts = attempts + ?, last_error = COALESCE(CAST(? AS TEXT), last_error),"
    " next_try = COALESCE(CAST(? AS TEXT), next_try),"
    " owner = CASE WHEN CAST(? AS TEXT) = 'sending' THEN owner END,"
    " lease_until = CASE WHEN CAST(? AS TEXT) = 'sending' THEN lease_until END"
)
_MOVE_WHERE = " WHERE id = ? AND state IN (?, ?) AND (CAST(? AS TEXT) IS NULL OR owner = ?)"
_MOVE_OUTBOX = (
    "UPDATE outbox" + _MOVE_SET + ", sent_at = COALESCE(CAST(? AS TEXT), sent_at),"
    " tried_at = COALESCE(CAST(? AS TEXT), tried_at)" + _MOVE_WHERE
)
_MOVE_ALERTS = "UPDATE alerts" + _MOVE_SET + _MOVE_WHERE
_SENDING_CHATS = "SELECT DISTINCT platform, chat, owner, lease_until, state FROM {table} WHERE state = ?"
_RECOVER = {
    "outbox": "UPDATE outbox SET state = ?, owner = NULL, lease_until = NULL"
              " WHERE state = ? AND (lease_until IS NULL OR lease_until < ?)",
    "alerts": "UPDATE alerts SET state = ?, owner = NULL, lease_until = NULL"
              " WHERE state = ? AND (lease_until IS NULL OR lease_until < ?)",
}


def _move_params(move: Move, row_id: int, owner: str | None, *, with_sent_at: bool = True) -> tuple[object, ...]:
    assert 1 <= len(move.sources) <= 2, move
    first, second = move.sources[0].value, move.sources[-1].value
    head: tuple[object, ...] = (move.to.value, int(move.attempt), move.error, iso(move.next_try), move.to.value, move.to.value)
    times = (iso(move.sent_at), iso(move.tried_at)) if with_sent_at else ()
    return (*head, *times, row_id, first, second, owner, owner)


def _busy_chats(rows: Sequence[Row], owner: str, now: datetime) -> set[tuple[str, str]]:
    """Chats another live process is sending to (read without row locks: a row being moved counts)."""
    return {(row["platform"], row["chat"]) for row in rows if row["owner"] != owner and not _claimable(row, now)}


def _claimable(row: Row, now: datetime) -> bool:
    """Queued rows are; a claimed row is when its lease ran out or its owner is a dead
    process on this machine (a killed ``watch --once`` need not hold its rows for minutes)."""
    if row["state"] != Delivery.SENDING:
        return True
    lease = when(row["lease_until"])
    return lease is None or lease < now or not owner_alive(row["owner"])


def owner_alive(owner: str | None) -> bool:
    """Whether the process named ``host:pid:nonce`` may still be sending (unknown hosts: yes)."""
    host, _, rest = (owner or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdecimal():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _outbox_item(row: Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"], subscription_id=row["subscription_id"], platform=row["platform"], chat=row["chat"],
        poll_id=row["poll_id"], digest=bool(row["digest"]), attempts=row["attempts"], logged=logged_from_row(row),
        thread=row["thread"] or "", role=row["sub_role"] or "", due=when(row["due"]),
    )
