"""Dead-link checking: every entry's links, politely, with the result kept in the state store.

A link is asked with HEAD, and with GET when the server refuses HEAD (405/501, or 403
from sites that block HEAD); redirects are followed by hand so a permanent move (301/308)
is recorded with its new address while a temporary one (302/307) is not. 404 and 410
mean dead; a 5xx or a network error is recorded but not called dead (it may pass). At
most ``linkcheck.per_host_per_minute`` requests go to one host. Checking never touches
an entry's identity and never announces anything: it only feeds /paper and /sources.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import httpx
from msgspec import structs

from bot.core.config import Settings
from bot.core.i18n import plural
from bot.core.link_health import all_entries, dead_counts, entry_urls
from bot.store.metadata import LinkStatus, MetadataStore
from bot.store.sqlite import Store
from bot.watch.enrich import user_agent
from index.model import Entry

__all__ = ["LinkReport", "check_link", "linkcheck_main", "run_linkchecker", "weekly_summary"]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
HOSTS_AT_ONCE = 8
_PERMANENT = {301, 308}
_REDIRECTS = {301, 302, 303, 307, 308}
_HEAD_REFUSED = {403, 405, 501}
_DEAD = {404, 410}


@dataclass
class LinkReport:
    checked: int = 0
    dead: int = 0
    moved: int = 0
    errors: int = 0

    def line(self) -> str:
        return f"checked {self.checked} links: {self.dead} dead, {self.moved} moved, {self.errors} unreachable for now"


async def _ask(client: httpx.AsyncClient, method: str, url: str, timeout: float) -> httpx.Response:
    if method == "HEAD":
        return await client.head(url, follow_redirects=False, timeout=timeout)
    async with client.stream("GET", url, follow_redirects=False, timeout=timeout) as response:
        return response  # the status and headers are enough; the body is never read


async def check_link(client: httpx.AsyncClient, url: str, *, timeout: float = 15.0, now: datetime | None = None) -> LinkStatus:
    """What ``url`` answers now: dead, moved (and where to), fine, or unreachable (error)."""
    moment = now or datetime.now(UTC)
    current, moved, first_status = url, False, None
    try:
        for hop in range(MAX_REDIRECTS + 1):
            response = await _ask(client, "HEAD", current, timeout)
            if response.status_code in _HEAD_REFUSED:
                response = await _ask(client, "GET", current, timeout)
            status = response.status_code
            first_status = first_status or status
            location = response.headers.get("Location")
            if status in _REDIRECTS and location and hop < MAX_REDIRECTS:
                moved = moved or (hop == 0 and status in _PERMANENT)
                current = urljoin(current, location)
                continue
            break
    except httpx.HTTPError as exc:
        return LinkStatus(url, first_status, moment, error=f"{exc.__class__.__name__}")
    final = current if moved else None
    if status in _DEAD:
        return LinkStatus(url, status, moment, final, moved, dead=True)
    if status >= 400:
        return LinkStatus(url, status, moment, final, moved, error=f"HTTP {status}")
    return LinkStatus(url, status, moment, final, moved, last_ok=moment)


class LinkChecker:
    def __init__(self, settings: Settings, store: Store, client: httpx.AsyncClient,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings.linkcheck
        self.tables = MetadataStore(store)
        self.client = client
        self.clock = clock

    def due(self, urls: list[str], now: datetime) -> list[str]:
        known = self.tables.links(urls)
        recheck = timedelta(days=self.settings.recheck_days)
        return [url for url in urls if url not in known or now - known[url].checked_at >= recheck]

    async def run_round(self, entries: list[Entry], stop: asyncio.Event | None = None) -> LinkReport:
        report = LinkReport()
        now = datetime.now(UTC)
        due = (await asyncio.to_thread(self.due, entry_urls(entries), now))[: self.settings.per_round]
        by_host: dict[str, list[str]] = defaultdict(list)
        for url in due:
            by_host[urlsplit(url).netloc.lower()].append(url)
        gate = asyncio.Semaphore(HOSTS_AT_ONCE)
        await asyncio.gather(*(self._host(urls, report, gate, stop) for urls in by_host.values()))
        return report

    async def _host(self, urls: list[str], report: LinkReport, gate: asyncio.Semaphore, stop: asyncio.Event | None) -> None:
        spacing = 60.0 / max(1, self.settings.per_host_per_minute)
        async with gate:
            for number, url in enumerate(urls):
                if stop is not None and stop.is_set():
                    return
                if number:
                    await asyncio.sleep(spacing)
                status = await check_link(self.client, url, timeout=self.settings.timeout)
                await asyncio.to_thread(self.tables.save_link, status)
                report.checked += 1
                report.dead += status.dead
                report.moved += status.moved
                report.errors += bool(status.error)


SUMMARY_PREFIX = "Weekly link check"
SUMMARY_EVERY = timedelta(days=7)
SUMMARY_SHOWN = 10


def weekly_summary(settings: Settings, store: Store, now: datetime) -> str | None:
    """Queue the operators' weekly summary of dead and moved links if a week has passed (blocking).

    It goes through the alerts queue, so the watcher's delivery sends it to
    ``watch.operator_chats`` with the same flood limits and retries as any alert.
    Returns the text queued, or None.
    """
    targets = [(target.platform, target.chat_id) for target in settings.watch.operator_chats]
    if not targets or not settings.linkcheck.weekly_summary:
        return None
    tables = MetadataStore(store)
    last = tables.last_alert_starting(SUMMARY_PREFIX)
    if last is not None and now - last < SUMMARY_EVERY:
        return None
    entries = all_entries(settings, store)
    statuses = tables.links(entry_urls(entries))
    dead = [(entry, url) for entry in entries for url in entry_urls([entry]) if url in statuses and statuses[url].dead]
    moved = sum(1 for status in statuses.values() if status.moved)
    per_list = dead_counts(settings, store)
    lines = [f"{SUMMARY_PREFIX}: {plural('en', 'dead_link', len(dead))}, {moved} moved, of {len(statuses)} checked."]
    lines.extend(f"• {name}: {count} dead" for name, count in sorted(per_list.items()))
    lines.extend(f"  – {entry.title[:80]} — {url}" for entry, url in dead[:SUMMARY_SHOWN])
    if len(dead) > SUMMARY_SHOWN:
        lines.append(f"  …and {len(dead) - SUMMARY_SHOWN} more (medbot linkcheck; /paper shows each).")
    text = "\n".join(lines)
    store.queue_alert(targets, text, now)
    return text


def _client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(headers={"User-Agent": user_agent(settings.enrich.contact)}, timeout=settings.linkcheck.timeout)


async def run_linkchecker(core: object, settings: Settings, stop: asyncio.Event) -> None:
    """The slow background pass for ``medbot serve``; returns at once when ``linkcheck: false``."""
    store: Store | None = getattr(core, "store", None)
    if not settings.linkcheck.enabled or store is None:
        return
    async with _client(settings) as client:
        checker = LinkChecker(settings, store, client)
        while not stop.is_set():
            try:
                entries = await asyncio.to_thread(all_entries, settings, store)
                log.info("link check: %s", (await checker.run_round(entries, stop)).line())
                await asyncio.to_thread(weekly_summary, settings, store, datetime.now(UTC))
            except Exception:  # the edge of the task: log, try again next round
                log.exception("link check round failed")
            try:
                await asyncio.wait_for(stop.wait(), settings.linkcheck.interval)
            except TimeoutError:
                pass


async def linkcheck_main(settings: Settings, *, limit: int | None = None) -> LinkReport:
    """``medbot linkcheck``: one pass now over the links that are due."""
    from dataclasses import replace

    if limit is not None:
        settings = replace(settings, linkcheck=structs.replace(settings.linkcheck, per_round=limit))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(settings.state_url) as store:
        async with _client(settings) as client:
            entries = await asyncio.to_thread(all_entries, settings, store)
            return await LinkChecker(settings, store, client).run_round(entries)
