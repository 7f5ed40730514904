"""Metadata enrichment: authors, venue, year and abstract from arXiv, Crossref and PubMed,
description and stars from GitHub, cached in the state store and refreshed rarely.

It is slow on purpose. Each service has its own worker and pace (arXiv one request every
3 s, Crossref's polite pool with ``mailto``, NCBI 3/s without a key, GitHub 60/h without
a token), a polite User-Agent naming ``enrich.contact``, conditional requests where a
validator is known, and it backs off on 429/503 (honouring ``Retry-After``) and on
GitHub's 403 with ``X-RateLimit-Remaining: 0``. Store writes go through
``asyncio.to_thread``, so neither a chat reply nor the watcher ever waits for it.
``run_enricher`` is the background task; ``enrich_main`` is ``medbot enrich``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from msgspec import structs

from bot import __version__
from bot.core.config import Settings
from bot.core.link_health import all_entries
from bot.store.metadata import MetadataStore, PaperMeta
from bot.store.sqlite import Store
from bot.watch.meta_parse import ServiceError, parse_arxiv, parse_crossref, parse_github_repo, parse_pubmed
from bot.watch.provenance import record_provenance
from index.identifiers import Identifier, identifiers_of
from index.model import Entry

__all__ = ["EnrichReport", "Enricher", "all_entries", "enrich_main", "run_enricher", "user_agent"]

log = logging.getLogger(__name__)

SERVICE_OF = {"arxiv": "arxiv", "doi": "crossref", "pubmed": "pubmed", "github": "github"}
MAX_ATTEMPTS = 3
ERROR_RETRY = timedelta(days=1)
Sleep = Callable[[float], Awaitable[None]]


def user_agent(contact: str) -> str:
    """What every request says about itself: medbot, its version, and whom to write to."""
    return f"medbot/{__version__} (awesome-list research bot; mailto:{contact or 'unset'})"


@dataclass
class EnrichReport:
    fetched: int = 0
    not_modified: int = 0
    missing: int = 0
    failed: int = 0
    backed_off: int = 0
    skipped_services: list[str] = field(default_factory=list)
    provenance: int = 0

    def line(self) -> str:
        text = (f"enriched {self.fetched}, unchanged {self.not_modified}, unknown to the service {self.missing}, "
                f"failed {self.failed}, back-offs {self.backed_off}")
        return text + (f"; paused: {', '.join(self.skipped_services)}" if self.skipped_services else "")


class _Pause(Exception):
    """The service asked us to wait longer than ``enrich.max_wait``: stop it for this round."""


class Enricher:
    """One round over the identifiers that are due, a worker per service."""

    max_attempts = MAX_ATTEMPTS  # provenance's GitHub calls retry as often as the enricher's own

    def __init__(self, settings: Settings, store: Store, client: httpx.AsyncClient, *,
                 sleep: Sleep = asyncio.sleep, clock: Callable[[], float] = time.monotonic,
                 github_token: str | None = None) -> None:
        self.settings = settings.enrich
        self.tables = MetadataStore(store)
        self.client = client
        self.sleep = sleep
        self.clock = clock
        self.token = github_token if github_token is not None else os.environ.get("GITHUB_TOKEN") or None
        self._next_at: dict[str, float] = {}

    # --- pacing ---------------------------------------------------------------------------

    def delay(self, service: str) -> float:
        s = self.settings
        if service == "github":
            return min(s.github_delay, 1.0) if self.token else s.github_delay
        return {"arxiv": s.arxiv_delay, "crossref": s.crossref_delay, "pubmed": s.ncbi_delay}[service]

    async def pace(self, service: str, stop: asyncio.Event | None) -> None:
        """Wait until ``service`` may be asked again (its delay, or a back-off it asked for)."""
        wait = self._next_at.get(service, 0.0) - self.clock()
        if wait > 0:
            await self._sleep_or_stop(wait, stop)
        self._next_at[service] = self.clock() + self.delay(service)

    def defer(self, service: str, seconds: float) -> None:
        self._next_at[service] = self.clock() + seconds

    async def _sleep_or_stop(self, seconds: float, stop: asyncio.Event | None) -> None:
        if stop is None:
            await self.sleep(seconds)
            return
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass

    # --- what is due ----------------------------------------------------------------------

    def due(self, entries: Iterable[Entry], now: datetime) -> dict[str, list[Identifier]]:
        """Identifiers never fetched, or fetched longer ago than ``refresh_days`` (errors: a day)."""
        wanted: dict[str, Identifier] = {}
        for entry in entries:
            for identifier in identifiers_of(entry):
                if identifier.kind in SERVICE_OF:
                    wanted.setdefault(identifier.key, identifier)
        states = self.tables.cache_states(list(wanted))
        refresh = timedelta(days=self.settings.refresh_days)
        by_service: dict[str, list[Identifier]] = {}
        for key, identifier in wanted.items():
            state = states.get(key)
            if state is not None and now - state.fetched_at < (ERROR_RETRY if state.status == "error" else refresh):
                continue
            by_service.setdefault(SERVICE_OF[identifier.kind], []).append(identifier)
        return by_service

    # --- one round ------------------------------------------------------------------------

    async def run_round(self, entries: list[Entry], stop: asyncio.Event | None = None) -> EnrichReport:
        report = EnrichReport()
        now = datetime.now(UTC)
        due = await asyncio.to_thread(self.due, entries, now)
        workers = [self._work(service, identifiers[: self.settings.per_round], report, stop)
                   for service, identifiers in due.items()]
        await asyncio.gather(*workers)
        return report

    async def _work(self, service: str, identifiers: list[Identifier], report: EnrichReport, stop: asyncio.Event | None) -> None:
        for identifier in identifiers:
            if stop is not None and stop.is_set():
                return
            try:
                await self._one(service, identifier, report, stop)
            except _Pause as pause:
                log.warning("%s asked to wait %s; pausing it until the next round", service, pause)
                report.skipped_services.append(service)
                return

    async def _one(self, service: str, identifier: Identifier, report: EnrichReport, stop: asyncio.Event | None) -> None:
        states = await asyncio.to_thread(self.tables.cache_states, [identifier.key])
        state = states.get(identifier.key)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            await self.pace(service, stop)
            url, params, headers = self.request_for(service, identifier)
            if state is not None and state.status == "ok":
                if state.etag:
                    headers["If-None-Match"] = state.etag
                if state.last_modified:
                    headers["If-Modified-Since"] = state.last_modified
            try:
                response = await self.client.get(url, params=params, headers=headers, timeout=self.settings.timeout)
            except httpx.HTTPError as exc:
                await self._failed(identifier, service, f"network: {exc.__class__.__name__}", report)
                return
            wait = self.backoff_seconds(service, response, attempt)
            if wait is not None:
                report.backed_off += 1
                if wait > self.settings.max_wait or attempt == MAX_ATTEMPTS:
                    raise _Pause(f"{wait:.0f}s")
                self.defer(service, wait)
                continue
            await self._record(service, identifier, response, report)
            return

    def request_for(self, service: str, identifier: Identifier) -> tuple[str, dict[str, str], dict[str, str]]:
        s = self.settings
        headers = {"User-Agent": user_agent(s.contact)}
        if service == "arxiv":
            return s.arxiv_url, {"id_list": identifier.value, "max_results": "1"}, headers
        if service == "crossref":
            params = {"mailto": s.contact} if s.contact else {}
            return f"{s.crossref_url.rstrip('/')}/works/{quote(identifier.value, safe='/')}", params, headers
        if service == "pubmed":
            params = {"db": "pubmed", "id": identifier.value, "retmode": "xml", "tool": "medbot"}
            if s.contact:
                params["email"] = s.contact
            return f"{s.ncbi_url.rstrip('/')}/efetch.fcgi", params, headers
        headers = self.github_headers()
        owner_repo = identifier.value.removeprefix("github.com/")
        return f"{s.github_url.rstrip('/')}/repos/{owner_repo}", {}, headers

    def github_headers(self) -> dict[str, str]:
        headers = {"User-Agent": user_agent(self.settings.contact), "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def backoff_seconds(self, service: str, response: httpx.Response, attempt: int) -> float | None:
        """How long to wait before asking again, or None when the answer is not a "slow down"."""
        limited = response.status_code in (429, 503)
        if service == "github" and response.status_code in (403, 429) and response.headers.get("X-RateLimit-Remaining") == "0":
            reset = response.headers.get("X-RateLimit-Reset", "")
            if reset.isdigit():
                return max(1.0, float(reset) - time.time())
            limited = True
        if not limited:
            return None
        retry_after = response.headers.get("Retry-After", "").strip()
        if retry_after.isdigit():
            return float(retry_after)
        if retry_after:
            try:
                seconds: float = (parsedate_to_datetime(retry_after) - datetime.now(UTC)).total_seconds()
                return max(0.0, seconds)
            except (TypeError, ValueError):
                pass
        return self.delay(service) * float(2**attempt) + 1.0

    async def _record(self, service: str, identifier: Identifier, response: httpx.Response, report: EnrichReport) -> None:
        now = datetime.now(UTC)
        key = identifier.key
        if response.status_code == 304:
            await asyncio.to_thread(self.tables.touch_meta, key, now)
            report.not_modified += 1
            return
        if response.status_code in (404, 410):
            await asyncio.to_thread(self.tables.record_meta_failure, key, service, now, "missing", f"HTTP {response.status_code}")
            report.missing += 1
            return
        if response.status_code != 200:
            await self._failed(identifier, service, f"HTTP {response.status_code}", report)
            return
        try:
            meta = self.parse(service, response, key)
        except (ServiceError, ValueError) as exc:
            await self._failed(identifier, service, str(exc), report)
            return
        if meta is None:
            await asyncio.to_thread(self.tables.record_meta_failure, key, service, now, "missing", "no record")
            report.missing += 1
            return
        await asyncio.to_thread(self.tables.save_meta, meta, now, etag=response.headers.get("ETag"),
                                last_modified=response.headers.get("Last-Modified"))
        report.fetched += 1

    @staticmethod
    def parse(service: str, response: httpx.Response, key: str) -> PaperMeta | None:
        if service == "arxiv":
            return parse_arxiv(response.content, key)
        if service == "pubmed":
            return parse_pubmed(response.content, key)
        data = response.json()
        return parse_crossref(data, key) if service == "crossref" else parse_github_repo(data, key)

    async def _failed(self, identifier: Identifier, service: str, error: str, report: EnrichReport) -> None:
        log.info("enrich %s via %s failed: %s", identifier.key, service, error)
        await asyncio.to_thread(self.tables.record_meta_failure, identifier.key, service, datetime.now(UTC), "error", error)
        report.failed += 1


def _client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(headers={"User-Agent": user_agent(settings.enrich.contact)}, follow_redirects=True,
                             timeout=settings.enrich.timeout)


async def run_enricher(core: object, settings: Settings, stop: asyncio.Event) -> None:
    """The background task for ``medbot serve``: a round every ``enrich.interval`` seconds until ``stop``.

    Never raises out (a failed round is logged); returns at once when ``enrich: false``.
    """
    store: Store | None = getattr(core, "store", None)
    if not settings.enrich.enabled or store is None:
        return
    async with _client(settings) as client:
        enricher = Enricher(settings, store, client)
        commits_cache: dict[str, Any] = {}
        while not stop.is_set():
            try:
                entries = await asyncio.to_thread(all_entries, settings, store)
                report = await enricher.run_round(entries, stop)
                found = await record_provenance(enricher, settings, store, stop, commits_cache)
                log.info("enrichment round: %s; provenance found for %d new entries", report.line(), found)
            except Exception:  # the edge of the task: log and try again next round
                log.exception("enrichment round failed")
            try:
                await asyncio.wait_for(stop.wait(), settings.enrich.interval)
            except TimeoutError:
                pass


async def enrich_main(settings: Settings, *, limit: int | None = None) -> EnrichReport:
    """``medbot enrich``: one round now (``--limit`` identifiers per service at most)."""
    from dataclasses import replace

    if limit is not None:
        settings = replace(settings, enrich=structs.replace(settings.enrich, per_round=limit))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(settings.state_url) as store:
        async with _client(settings) as client:
            entries = await asyncio.to_thread(all_entries, settings, store)
            enricher = Enricher(settings, store, client)
            report = await enricher.run_round(entries)
            report.provenance = await record_provenance(enricher, settings, store)
            return report
