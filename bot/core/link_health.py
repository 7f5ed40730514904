"""What the lists' links look like from outside: every entry, every link, the dead ones per list.

The link checker (``bot/watch/linkcheck.py``) records each link's status in the store;
``/sources`` and ``medbot sources`` count the dead ones here, from the same snapshots
the index is built from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.core.settings import Settings
from bot.core.sources import source_snapshots
from bot.store.metadata import MetadataStore
from bot.store.sqlite import Store
from index.model import Entry

__all__ = ["all_entries", "dead_counts", "entry_urls"]

log = logging.getLogger(__name__)


def all_entries(settings: Settings, store: Store | None) -> list[Entry]:
    """Every entry of the configured lists, as the index holds them (blocking: parses lists)."""
    entries: list[Entry] = []
    for snapshot in source_snapshots(settings, store):
        try:
            entries.extend(snapshot.load().entries)
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s: %s", snapshot.name, exc)
    return entries



def entry_urls(entries: Iterable[Entry]) -> list[str]:
    urls: dict[str, None] = {}
    for entry in entries:
        for url in [entry.url, *(link.url for link in entry.links)]:
            if url and url.lower().startswith(("http://", "https://")):
                urls[url] = None
    return list(urls)



def dead_counts(settings: Settings, store: Store | None) -> dict[str, int]:
    """Dead links per list, from the last checks (blocking; /sources and ``medbot sources``)."""
    if store is None:
        return {}
    entries = all_entries(settings, store)
    statuses = MetadataStore(store).links(entry_urls(entries))
    counts: dict[str, int] = {}
    for entry in entries:
        dead = sum(1 for url in entry_urls([entry]) if url in statuses and statuses[url].dead)
        if dead:
            counts[entry.source] = counts.get(entry.source, 0) + dead
    return counts
