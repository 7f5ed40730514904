"""Telegram-style inline mode, platform-neutral: a page of entries and the offset of the next.

Inline pickers scroll: the platform hands back the ``next_offset`` we gave when the user
reaches the end, so each answer is one page of a search. An empty query (the user has
typed only ``@medbot``) shows what the watcher found most recently, not nothing.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.core.registry import clean_text
from bot.core.views import entry_view, view_of

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.replies import EntryView

__all__ = ["INLINE_PAGE", "inline_page"]

INLINE_PAGE = 10
MAX_INLINE_RESULTS = 100


async def inline_page(core: MedBot, query: str, offset: str, per_page: int = INLINE_PAGE) -> tuple[list[EntryView], str]:
    """Entries from ``offset`` on (``""`` is the start) and the next offset (``""`` when done)."""
    start = int(offset) if offset.isdecimal() and len(offset) <= 4 else 0
    if start >= MAX_INLINE_RESULTS:
        return [], ""
    cleaned = clean_text(query, limit=300)
    if not cleaned:
        logged = await asyncio.to_thread(core.store.recent_new_entries, None, per_page, start)
        views = [view_of(item.entry, item.sources) for item in logged]
        total = await asyncio.to_thread(core.store.count_new_entries, None)
    else:
        page = start // per_page + 1
        result = await core.run_index(lambda: core.index.search(cleaned, page=page, per_page=per_page))
        views = [entry_view(hit) for hit in result.hits]
        total = result.total
    following = start + len(views)
    return views, str(following) if views and following < min(total, MAX_INLINE_RESULTS) else ""
