"""``/new`` and ``/similar``: what changed upstream, what is alike (``/sources`` is in ``sources.py``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.commands.common import PER_PAGE, page_buttons, usage_error
from bot.core.i18n import t
from bot.core.registry import ArgKind, ArgSpec, command
from bot.core.replies import Page, Reply, UserError
from bot.core.views import entry_view, view_of

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "new_entries", "new_page", "similar"]

MAX_DAYS = 365
DEFAULT_DAYS = 30


@command(
    "new",
    zh="查看监视器最近发现的新条目",
    usage="/new [days]",
    example="/new 7",
    arg=ArgSpec("days", "How many days back (default 30)", kind=ArgKind.INTEGER),
)
async def new_entries(core: MedBot, args: str, ctx: Context) -> Reply:
    """Show entries added upstream recently."""
    text = args.strip()
    if text and not (text.isdecimal() and len(text) <= 10 and 1 <= int(text) <= MAX_DAYS):
        raise UserError(t(ctx.lang, "bad_days"))
    return await new_page(core, text or str(DEFAULT_DAYS), 1, ctx)


async def new_page(core: MedBot, argument: str, page: int, ctx: Context) -> Reply:
    """Page ``page`` of ``/new days`` (the last page when asked past it), with the search buttons."""
    days = int(argument) if argument.isdecimal() and 1 <= int(argument) <= MAX_DAYS else DEFAULT_DAYS
    since = datetime.now(UTC) - timedelta(days=days)
    total = await asyncio.to_thread(core.store.count_new_entries, since)
    if not total:
        return Reply(text=(t(ctx.lang, "new_none", days=days),), language=ctx.lang)
    pages = -(-total // PER_PAGE)
    number = min(max(page, 1), pages)
    logged = await asyncio.to_thread(core.store.recent_new_entries, since, PER_PAGE, (number - 1) * PER_PAGE)
    where = Page(number=number, pages=pages, first=(number - 1) * PER_PAGE + 1, total=total)
    views = [view_of(item.entry, item.sources) for item in logged]
    return Reply(
        title=t(ctx.lang, "new_title", days=days),
        entries=tuple(views),
        buttons=page_buttons(core, "new", str(days), where, ctx.lang),
        language=ctx.lang,
        page=where,
    )


@command(
    "similar",
    zh="查找与某个条目相似的条目",
    usage="/similar <id or link>",
    example="/similar https://arxiv.org/abs/1710.01766",
    arg=ArgSpec("entry", "The id shown under a result, or its link", required=True, autocomplete="entry"),
)
async def similar(core: MedBot, args: str, ctx: Context) -> Reply:
    """Find entries similar to a given one."""
    ref = args.strip().split(" ")[0][:500] if args.strip() else ""
    if not ref:
        raise usage_error(core, "similar", ctx.lang)
    hit = await core.run_index(lambda: core.index.get(ref))
    if hit is None:
        raise UserError(t(ctx.lang, "no_entry", ref=ref[:80]))
    hits = await core.run_index(lambda: core.index.similar(ref, limit=PER_PAGE))
    title = hit.entry.title if len(hit.entry.title) <= 80 else hit.entry.title[:79] + "…"
    if not hits:
        return Reply(text=(t(ctx.lang, "similar_none", title=title),), language=ctx.lang)
    return Reply(title=t(ctx.lang, "similar_title", title=title), entries=tuple(entry_view(h) for h in hits), language=ctx.lang)
