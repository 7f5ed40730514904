"""What a browsing page needs that no chat command answers: the data, not the markup.

The chat commands answer in short messages (``/sources`` is a text block, ``/topic`` a
top-level summary); a web page shows the same facts as tables and trees. These
functions give those facts as plain records from the same index and store the commands
use, so an adapter that renders pages never searches or counts on its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.feed import build_feed
from bot.core.replies import EntryView
from bot.core.views import entry_view

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from index.search import TopicNode

__all__ = ["SourceStatus", "entry_card", "feed_xml", "health", "list_topics", "source_statuses"]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One configured list as its status page shows it."""

    name: str
    url: str | None
    entries: int
    last_poll: datetime | None
    last_change: datetime | None
    failures: int
    last_error: str | None


async def entry_card(core: MedBot, ref: str) -> EntryView | None:
    """One entry by its id (or any of its links), as results show it; None if unknown."""
    ref = ref.strip()[:500]
    if not ref:
        return None
    hit = await core.run_index(lambda: core.index.get(ref))
    return entry_view(hit) if hit is not None else None


async def list_topics(core: MedBot) -> list[tuple[str, tuple[TopicNode, ...]]]:
    """Each configured list with its own section tree and counts, in config order."""
    trees = await core.run_index(core.index.source_topics)
    return [(source.name, trees.get(source.name, ())) for source in core.settings.sources]


async def source_statuses(core: MedBot) -> list[SourceStatus]:
    """Every configured list: entries indexed and what the watcher knows of it."""
    counts = await core.run_index(core.index.source_counts)
    states = await asyncio.to_thread(core.store.source_states)
    rows = []
    for source in core.settings.sources:
        state = states.get(source.name)
        rows.append(
            SourceStatus(
                name=source.name,
                url=source.url,
                entries=counts.get(source.name, 0),
                last_poll=state.last_poll if state else None,
                last_change=state.last_change if state else None,
                failures=state.failures if state else 0,
                last_error=state.last_error if state else None,
            )
        )
    return rows


async def health(core: MedBot) -> dict[str, object]:
    """Readiness for a monitor: index, semantic search (when the core has it), watcher, outbox."""
    documents = await core.run_index(lambda: sum(core.index.source_counts().values()))
    semantic = getattr(core, "semantic", None)
    statuses = await source_statuses(core)
    polls = [status.last_poll for status in statuses if status.last_poll is not None]
    outbox: dict[str, int] = {}
    if core.store is not None:
        outbox = await asyncio.to_thread(core.store.outbox_counts)
    return {
        "index_ready": documents > 0,
        "entries": documents,
        "semantic_ready": bool(getattr(semantic, "ready", False)) if semantic is not None else False,
        "last_poll": max(polls).astimezone(UTC).isoformat(timespec="seconds") if polls else None,
        "outbox_depth": sum(count for state, count in outbox.items() if state in {"pending", "sending"}),
        "sources": len(statuses),
    }


async def feed_xml(core: MedBot, *, days: int | None = None, limit: int = 200, feed_url: str | None = None) -> bytes:
    """The Atom feed ``medbot feed`` writes, as bytes (empty feed without a store)."""
    store = core.store
    since = datetime.now(UTC) - timedelta(days=days) if days else None
    logged = await asyncio.to_thread(store.recent_new_entries, since, limit) if store is not None else []
    return bytes(build_feed(logged, feed_url=feed_url).atom_str(pretty=True))
