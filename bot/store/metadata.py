"""What medbot learned about papers beyond the lists: metadata, link health, provenance.

Three tables of the state (migration 3 in ``records.py``), read and written through
the ``Store``'s engine, so these writes never interleave with the
watcher's transactions. Synchronous like ``Store``: async callers use
``asyncio.to_thread``. Rows become the frozen records below and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.store.records import iso, when
from bot.store.sqlite import Store

__all__ = ["FirstSeen", "LinkStatus", "MetadataStore", "PaperMeta", "Provenance"]


@dataclass(frozen=True, slots=True)
class PaperMeta:
    """Bibliographic data one service returned for one identifier (``key``)."""

    key: str
    service: str  # arxiv | crossref | pubmed | github
    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str = ""
    abstract: str = ""
    description: str = ""  # a repository's own description
    stars: int | None = None
    fetched_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key, "service": self.service, "title": self.title, "authors": list(self.authors),
            "year": self.year, "venue": self.venue, "abstract": self.abstract, "description": self.description,
            "stars": self.stars, "fetched_at": iso(self.fetched_at),
        }


@dataclass(frozen=True, slots=True)
class CacheState:
    """What the enricher needs to decide on a refresh and to ask conditionally."""

    key: str
    status: str  # ok | missing | error
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """The last check of one link: ``dead`` after a 404/410 or no answer; ``final_url`` when it moved."""

    url: str
    status: int | None
    checked_at: datetime
    final_url: str | None = None
    moved: bool = False
    dead: bool = False
    last_ok: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """The upstream commit (and pull request, when there is one) that added an entry."""

    entry_key: str
    source: str
    sha: str | None = None
    author: str | None = None
    committed_at: datetime | None = None
    pr_repo: str | None = None
    pr_number: int | None = None
    pr_author: str | None = None

    def describe(self) -> str:
        """``added in owner/repo#123 by user`` (or the commit when there is no PR)."""
        if self.pr_repo and self.pr_number:
            by = f" by {self.pr_author}" if self.pr_author else ""
            return f"added in {self.pr_repo}#{self.pr_number}{by}"
        if self.sha:
            by = f" by {self.author}" if self.author else ""
            return f"added in commit {self.sha[:7]}{by}"
        return ""


@dataclass(frozen=True, slots=True)
class FirstSeen:
    when: datetime
    source: str
    logged: bool = field(default=False)  # True when the watcher found it new (announced)


def _meta_from(key: str, service: str, data: dict[str, Any], fetched: datetime | None) -> PaperMeta:
    year = data.get("year")
    stars = data.get("stars")
    return PaperMeta(
        key=key, service=service, title=str(data.get("title") or ""),
        authors=tuple(str(a) for a in data.get("authors") or ()), year=year if isinstance(year, int) else None,
        venue=str(data.get("venue") or ""), abstract=str(data.get("abstract") or ""),
        description=str(data.get("description") or ""), stars=stars if isinstance(stars, int) else None,
        fetched_at=fetched,
    )


class MetadataStore:
    """Typed access to the issue-15 tables of one ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # --- paper metadata ---------------------------------------------------------------

    def save_meta(self, meta: PaperMeta, now: datetime, *, etag: str | None = None, last_modified: str | None = None) -> None:
        data = meta.to_json()
        del data["key"], data["service"], data["fetched_at"]
        with self.store._tx() as db:
            db.execute(
                "INSERT INTO paper_meta (key, service, status, data, etag, last_modified, fetched_at, error)"
                " VALUES (?, ?, 'ok', ?, ?, ?, ?, NULL) ON CONFLICT (key) DO UPDATE SET service = excluded.service,"
                " status = excluded.status, data = excluded.data, etag = excluded.etag,"
                " last_modified = excluded.last_modified, fetched_at = excluded.fetched_at, error = NULL",
                (meta.key, meta.service, json.dumps(data, ensure_ascii=False), etag, last_modified, iso(now)),
            )

    def touch_meta(self, key: str, now: datetime) -> None:
        """A 304 Not Modified: what we have is still right, as of ``now``."""
        with self.store._tx() as db:
            db.execute("UPDATE paper_meta SET fetched_at = ?, error = NULL WHERE key = ?", (iso(now), key))

    def record_meta_failure(self, key: str, service: str, now: datetime, status: str, error: str) -> None:
        """``missing`` (the service does not know it) or ``error``; earlier good data is kept."""
        with self.store._tx() as db:
            db.execute(
                "INSERT INTO paper_meta (key, service, status, fetched_at, error) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET fetched_at = excluded.fetched_at, error = excluded.error,"
                " status = CASE WHEN paper_meta.status = 'ok' THEN 'ok' ELSE excluded.status END",
                (key, service, status, iso(now), error[:300]),
            )

    def meta(self, keys: Iterable[str]) -> list[PaperMeta]:
        """The good metadata held for these keys, in the order asked."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        rows = self.store._query(f"SELECT * FROM paper_meta WHERE status = 'ok' AND key IN ({marks})", wanted)
        by_key = {row["key"]: _meta_from(row["key"], row["service"], json.loads(row["data"] or "{}"), when(row["fetched_at"]))
                  for row in rows}
        return [by_key[key] for key in wanted if key in by_key]

    def cache_states(self, keys: Sequence[str]) -> dict[str, CacheState]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = self.store._query(f"SELECT key, status, fetched_at, etag, last_modified FROM paper_meta WHERE key IN ({marks})", keys)
        states = {}
        for row in rows:
            fetched = when(row["fetched_at"])
            assert fetched is not None
            states[row["key"]] = CacheState(row["key"], row["status"], fetched, row["etag"], row["last_modified"])
        return states

    # --- links --------------------------------------------------------------------------

    def save_link(self, status: LinkStatus) -> None:
        with self.store._tx() as db:
            db.execute(
                "INSERT INTO link_status (url, status, final_url, moved, dead, checked_at, last_ok, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET status = excluded.status,"
                " final_url = excluded.final_url, moved = excluded.moved, dead = excluded.dead,"
                " checked_at = excluded.checked_at, last_ok = COALESCE(excluded.last_ok, link_status.last_ok),"
                " error = excluded.error",
                (status.url, status.status, status.final_url, int(status.moved), int(status.dead),
                 iso(status.checked_at), iso(status.last_ok), status.error),
            )

    def links(self, urls: Iterable[str]) -> dict[str, LinkStatus]:
        wanted = list(dict.fromkeys(urls))
        found: dict[str, LinkStatus] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.store._query(f"SELECT * FROM link_status WHERE url IN ({marks})", chunk):
                checked = when(row["checked_at"])
                assert checked is not None
                found[row["url"]] = LinkStatus(
                    row["url"], row["status"], checked, row["final_url"], bool(row["moved"]), bool(row["dead"]),
                    when(row["last_ok"]), row["error"],
                )
        return found

    # --- provenance -----------------------------------------------------------------------

    def save_provenance(self, record: Provenance, now: datetime) -> None:
        with self.store._tx() as db:
            db.execute(
                "INSERT INTO provenance (entry_key, source, sha, author, committed_at, pr_repo, pr_number,"
                " pr_author, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entry_key) DO UPDATE SET"
                " source = excluded.source, sha = excluded.sha, author = excluded.author,"
                " committed_at = excluded.committed_at, pr_repo = excluded.pr_repo, pr_number = excluded.pr_number,"
                " pr_author = excluded.pr_author, fetched_at = excluded.fetched_at",
                (record.entry_key, record.source, record.sha, record.author, iso(record.committed_at), record.pr_repo,
                 record.pr_number, record.pr_author, iso(now)),
            )

    def provenance(self, entry_key: str) -> Provenance | None:
        rows = self.store._query("SELECT * FROM provenance WHERE entry_key = ?", (entry_key,))
        if not rows:
            return None
        row = rows[0]
        return Provenance(row["entry_key"], row["source"], row["sha"], row["author"], when(row["committed_at"]),
                          row["pr_repo"], row["pr_number"], row["pr_author"])

    def last_alert_starting(self, prefix: str) -> datetime | None:
        """When an operator alert starting with ``prefix`` was last queued (the weekly summary's clock)."""
        rows = self.store._query("SELECT MAX(created_at) FROM alerts WHERE substr(text, 1, ?) = ?", (len(prefix), prefix))
        return when(rows[0][0]) if rows and rows[0][0] else None

    # --- when medbot first saw an entry ---------------------------------------------------

    def first_seen(self, entry_key: str) -> FirstSeen | None:
        logged = self.store._query("SELECT first_seen, sources FROM entry_log WHERE key = ?", (entry_key,))
        if logged:
            moment = when(logged[0]["first_seen"])
            assert moment is not None
            return FirstSeen(moment, ", ".join(json.loads(logged[0]["sources"])), logged=True)
        seen = self.store._query("SELECT first_seen, source FROM seen WHERE key = ?", (entry_key,))
        if seen:
            moment = when(seen[0]["first_seen"])
            assert moment is not None
            return FirstSeen(moment, seen[0]["source"])
        return None
