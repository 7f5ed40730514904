"""Provenance: which upstream commit (and pull request) added an entry the watcher found new.

Only for lists hosted on GitHub (``raw.githubusercontent.com`` or ``github.com/.../blob``).
The file's recent commits come from ``GET /repos/{o}/{r}/commits?path=&sha=`` (asked
conditionally with the ETag of the last answer), each candidate's patch from
``GET /repos/{o}/{r}/commits/{sha}``: the newest commit whose added lines contain one of
the entry's links is the one. Its pull request comes from ``/commits/{sha}/pulls``. It
runs inside the enricher's round and shares its GitHub pace, token and back-off; an
announcement never waits for it (it is read from the store when there is something).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.config import Settings
from bot.store.metadata import MetadataStore, Provenance
from bot.store.sqlite import LoggedEntry, Store

if TYPE_CHECKING:
    from bot.watch.enrich import Enricher

__all__ = ["GithubFile", "github_file", "record_provenance"]

log = logging.getLogger(__name__)

COMMITS_LOOKED_AT = 10
LOOKBACK = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class GithubFile:
    owner: str
    repo: str
    ref: str
    path: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


def github_file(url: str | None) -> GithubFile | None:
    """Where a list lives on GitHub, from its raw or blob URL (pure)."""
    if not url:
        return None
    raw = re.match(r"^https?://raw\.githubusercontent\.com/([^/]+)/([^/]+)/(?:refs/heads/)?([^/]+)/([^?#]+)", url)
    blob = re.match(r"^https?://(?:www\.)?github\.com/([^/]+)/([^/]+)/(?:blob|raw)/([^/]+)/([^?#]+)", url)
    found = raw or blob
    return GithubFile(*found.groups()) if found else None


def _added_lines(patch: str) -> str:
    return "\n".join(line[1:] for line in patch.splitlines() if line.startswith("+") and not line.startswith("+++"))


class _Unreachable(Exception):
    pass


async def _get(enricher: Enricher, path: str, params: dict[str, str], stop: asyncio.Event | None,
               etag: str | None = None) -> tuple[int, Any, str | None]:
    base = enricher.settings.github_url.rstrip("/")
    for attempt in range(1, enricher.max_attempts + 1):
        await enricher.pace("github", stop)
        headers = enricher.github_headers()
        if etag:
            headers["If-None-Match"] = etag
        try:
            response = await enricher.client.get(base + path, params=params, headers=headers, timeout=enricher.settings.timeout)
        except Exception as exc:  # httpx errors: the provenance is simply not known yet
            raise _Unreachable(exc.__class__.__name__) from None
        wait = enricher.backoff_seconds("github", response, attempt)
        if wait is not None:
            if wait > enricher.settings.max_wait or attempt == enricher.max_attempts:
                raise _Unreachable(f"rate limited for {wait:.0f}s")
            enricher.defer("github", wait)
            continue
        if response.status_code == 304:
            return 304, None, etag
        if response.status_code != 200:
            raise _Unreachable(f"HTTP {response.status_code}")
        return 200, response.json(), response.headers.get("ETag")
    raise _Unreachable("gave up")


async def _commits(enricher: Enricher, where: GithubFile, stop: asyncio.Event | None,
                   cache: dict[str, tuple[str | None, list[Any]]]) -> list[Any]:
    key = f"{where.full_name}:{where.ref}:{where.path}"
    etag, known = cache.get(key, (None, []))
    status, data, new_etag = await _get(enricher, f"/repos/{where.full_name}/commits",
                                        {"path": where.path, "sha": where.ref, "per_page": str(COMMITS_LOOKED_AT)}, stop, etag)
    if status == 304:
        return known
    commits = data if isinstance(data, list) else []
    cache[key] = (new_etag, commits)
    return commits


async def _provenance_of(enricher: Enricher, where: GithubFile, logged: LoggedEntry, source: str, commits: list[Any],
                         stop: asyncio.Event | None) -> Provenance | None:
    urls = [url for url in [logged.entry.url, *(link.url for link in logged.entry.links)] if url]
    for commit in commits[:COMMITS_LOOKED_AT]:
        sha = str(commit.get("sha") or "")
        if not sha:
            continue
        _, detail, _ = await _get(enricher, f"/repos/{where.full_name}/commits/{sha}", {}, stop)
        patches = [_added_lines(str(f.get("patch") or "")) for f in detail.get("files") or () if f.get("filename") == where.path]
        if not any(url in patch for patch in patches for url in urls):
            continue
        author = (commit.get("author") or {}).get("login") or ((commit.get("commit") or {}).get("author") or {}).get("name")
        date_text = ((commit.get("commit") or {}).get("author") or {}).get("date")
        committed = datetime.fromisoformat(date_text.replace("Z", "+00:00")) if date_text else None
        _, pulls, _ = await _get(enricher, f"/repos/{where.full_name}/commits/{sha}/pulls", {}, stop)
        pull = pulls[0] if isinstance(pulls, list) and pulls else None
        return Provenance(
            logged.entry.key, source, sha, author, committed,
            where.full_name if pull else None, int(pull["number"]) if pull else None,
            (pull.get("user") or {}).get("login") if pull else None,
        )
    return None


async def record_provenance(enricher: Enricher, settings: Settings, store: Store, stop: asyncio.Event | None = None,
                            cache: dict[str, tuple[str | None, list[Any]]] | None = None) -> int:
    """Find and store the provenance of recently logged entries that have none; returns how many were found."""
    if not settings.enrich.provenance:
        return 0
    tables = MetadataStore(store)
    since = datetime.now(UTC) - LOOKBACK
    logged = await asyncio.to_thread(store.recent_new_entries, since, 200)
    cache = {} if cache is None else cache
    urls = {source.name: source.url for source in settings.sources}
    found = 0
    for item in logged:
        if stop is not None and stop.is_set():
            break
        if await asyncio.to_thread(tables.provenance, item.entry.key) is not None:
            continue
        for source in item.sources:
            where = github_file(urls.get(source))
            if where is None:
                continue
            try:
                commits = await _commits(enricher, where, stop, cache)
                record = await _provenance_of(enricher, where, item, source, commits, stop)
            except _Unreachable as exc:
                log.info("provenance of %s: GitHub unreachable (%s); trying next round", item.entry.id, exc)
                return found
            if record is not None:
                await asyncio.to_thread(tables.save_provenance, record, datetime.now(UTC))
                found += 1
                break
    return found
