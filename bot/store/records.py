"""What the store holds, as data: the schema by version, and the records it returns.

Kept apart from ``bot/store.py`` so the SQL behaviour (transactions, queries) reads on
its own; rows become frozen dataclasses here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.store.engine import Row
from index.model import Entry, Link

__all__ = [
    "MIGRATIONS",
    "Alert",
    "ChatSettings",
    "LoggedEntry",
    "OutboxItem",
    "SourceState",
    "Subscription",
    "Version",
    "chat_settings_from_row",
    "entry_from_json",
    "iso",
    "logged_from_row",
    "state_from_row",
    "subscription_from_row",
    "utcnow",
    "when",
]

MIGRATIONS: tuple[str, ...] = (
    # Portable SQL only: the same scripts run on SQLite and PostgreSQL (``bot/store/engine.py``
    # maps AUTOINCREMENT and REAL; a line ``-- sqlite: …`` or ``-- postgresql: …`` is a
    # statement for that engine alone).
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
    # version 2: claims with a lease (several processes share one outbox); config chats an
    # admin silenced stay silent
    """
    ALTER TABLE outbox ADD COLUMN owner TEXT;
    ALTER TABLE outbox ADD COLUMN lease_until TEXT;
    ALTER TABLE alerts ADD COLUMN owner TEXT;
    ALTER TABLE alerts ADD COLUMN lease_until TEXT;
    CREATE INDEX outbox_sent ON outbox (platform, chat, sent_at);
    """,
    # version 3: everything about one paper (bot/store/metadata.py reads these)
    """
    CREATE TABLE paper_meta (
        key TEXT PRIMARY KEY, service TEXT NOT NULL, status TEXT NOT NULL, data TEXT,
        etag TEXT, last_modified TEXT, fetched_at TEXT NOT NULL, error TEXT
    );
    CREATE TABLE link_status (
        url TEXT PRIMARY KEY, status INTEGER, final_url TEXT, moved INTEGER NOT NULL DEFAULT 0,
        dead INTEGER NOT NULL DEFAULT 0, checked_at TEXT NOT NULL, last_ok TEXT, error TEXT
    );
    CREATE TABLE provenance (
        entry_key TEXT PRIMARY KEY, source TEXT NOT NULL, sha TEXT, author TEXT, committed_at TEXT,
        pr_repo TEXT, pr_number INTEGER, pr_author TEXT, fetched_at TEXT NOT NULL
    );
    """,
    # version 4: announcements where the lab talks (issue 14): a subscription's topic or
    # thread, its role ping and schedule; outbox rows keep their thread and digest time;
    # per-chat settings. Portable SQL only (the store also runs on PostgreSQL).
    """
    ALTER TABLE subscriptions ADD COLUMN thread TEXT NOT NULL DEFAULT '';
    ALTER TABLE subscriptions ADD COLUMN role TEXT NOT NULL DEFAULT '';
    ALTER TABLE subscriptions ADD COLUMN schedule TEXT NOT NULL DEFAULT 'now';
    ALTER TABLE outbox ADD COLUMN thread TEXT NOT NULL DEFAULT '';
    ALTER TABLE outbox ADD COLUMN due TEXT;
    CREATE TABLE chat_settings (
        platform TEXT NOT NULL, chat TEXT NOT NULL, language TEXT, timezone TEXT,
        digest_threshold INTEGER, preview INTEGER, updated_by TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL, PRIMARY KEY (platform, chat)
    );
    """,
    # version 5: several workers share one state (PostgreSQL): the log's order as a column
    # (PostgreSQL has no rowid), button tokens any worker can resolve
    """
    ALTER TABLE entry_log ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    -- sqlite: UPDATE entry_log SET seq = rowid;
    CREATE TABLE page_tokens (token TEXT PRIMARY KEY, argument TEXT NOT NULL, expires_at TEXT NOT NULL);
    CREATE INDEX page_tokens_expiry ON page_tokens (expires_at);
    CREATE INDEX outbox_chat_state ON outbox (platform, chat, state);
    ALTER TABLE outbox ADD COLUMN tried_at TEXT;
    """,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def when(text: str | None) -> datetime | None:
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
    thread: str = ""
    """The forum topic (Telegram) or thread (Discord) it announces into; empty: the chat itself."""
    role: str = ""
    """A Discord role id mentioned with each announcement; empty: nobody."""
    schedule: str = "now"
    """``now`` | ``daily HH:MM`` | ``weekly DAY HH:MM`` (``bot/store/schedules.py``)."""
    disabled_reason: str | None = None


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
    thread: str = ""
    role: str = ""
    due: datetime | None = None
    """The scheduled digest this row waits for; None: announced as soon as found."""


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



def state_from_row(row: Row) -> SourceState:
    return SourceState(
        name=row["name"], entries=row["entries"], last_poll=when(row["last_poll"]), last_change=when(row["last_change"]),
        failures=row["failures"], content_hash=row["content_hash"], etag=row["etag"], last_modified=row["last_modified"],
        mtime=row["mtime"], last_error=row["last_error"], next_poll=when(row["next_poll"]), alerted=bool(row["alerted"]),
        pending_hash=row["pending_hash"], pending_etag=row["pending_etag"], pending_last_modified=row["pending_last_modified"],
        pending_since=when(row["pending_since"]), pending_reason=row["pending_reason"],
    )


def logged_from_row(row: Row) -> LoggedEntry:
    first_seen = when(row["first_seen"])
    assert first_seen is not None
    return LoggedEntry(entry_from_json(json.loads(row["entry_json"])), tuple(json.loads(row["sources"])), first_seen)


def subscription_from_row(row: Row) -> Subscription:
    created = when(row["created_at"])
    assert created is not None
    return Subscription(
        row["id"], row["platform"], row["chat"], row["filter"], row["created_by"], created, bool(row["active"]),
        thread=row["thread"] or "", role=row["role"] or "", schedule=row["schedule"] or "now",
        disabled_reason=row["disabled_reason"],
    )


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """A chat's own choices (``/settings``); None: the deployment's default."""

    platform: str
    chat: str
    language: str | None = None
    timezone: str | None = None
    digest_threshold: int | None = None
    preview: bool | None = None


def chat_settings_from_row(row: Row) -> ChatSettings:
    preview = row["preview"]
    return ChatSettings(row["platform"], row["chat"], row["language"], row["timezone"], row["digest_threshold"],
                        None if preview is None else bool(preview))
