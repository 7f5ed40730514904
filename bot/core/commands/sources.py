"""``/sources``: the lists medbot serves, with entry counts and watch status.

A lab may configure a thousand lists. In a private chat the whole list is one (split)
answer the operator asked for; in a group or channel it would be twenty messages in
everybody's timeline, so there it is one message of ``GROUP_PAGE`` lines with
‹ Previous / Next › buttons that edit it in place (pager ``l``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.core.commands.common import page_buttons
from bot.core.context import ChatKind
from bot.core.i18n import t
from bot.core.link_health import dead_counts
from bot.core.registry import command
from bot.core.replies import Page, Reply

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context

__all__ = ["GROUP_PAGE", "sources", "sources_page"]

GROUP_PAGE = 20
"""Lines per page in a group: about 2,500 characters, one Telegram message."""


@command("sources", zh="查看收录的列表及其状态", usage="/sources")
async def sources(core: MedBot, args: str, ctx: Context) -> Reply:
    """List the awesome lists medbot serves, with entry counts and watch status."""
    if ctx.chat_type == ChatKind.PRIVATE:
        lines = await _lines(core, ctx, 0, len(core.settings.sources))
        return Reply(title=t(ctx.lang, "sources_title"), text=("\n".join(lines),), language=ctx.lang)
    return await sources_page(core, "", 1, ctx)


async def sources_page(core: MedBot, argument: str, page: int, ctx: Context) -> Reply:
    """Page ``page`` of ``/sources`` (the last one when asked past it), with its buttons."""
    total = len(core.settings.sources)
    pages = max(1, -(-total // GROUP_PAGE))
    number = min(max(page, 1), pages)
    start = (number - 1) * GROUP_PAGE
    lines = await _lines(core, ctx, start, start + GROUP_PAGE)
    where = Page(number=number, pages=pages, first=start + 1, total=total)
    title = t(ctx.lang, "sources_title")
    if pages > 1:
        title = t(ctx.lang, "sources_title_page", first=start + 1, last=start + len(lines), total=total)
    return Reply(
        title=title,
        text=("\n".join(lines),) if lines else (),
        buttons=page_buttons(core, "sources", "", where, ctx.lang),
        language=ctx.lang,
        page=where,
    )


async def _lines(core: MedBot, ctx: Context, start: int, stop: int) -> list[str]:
    counts = await core.run_index(core.index.source_counts)
    states = await asyncio.to_thread(core.store.source_states)
    dead = await asyncio.to_thread(dead_counts, core.settings, core.store)
    lines = []
    for source in core.settings.sources[start:stop]:
        line = t(ctx.lang, "source_line", name=source.name, count=counts.get(source.name, 0))
        details = []
        state = states.get(source.name)
        if source.url and (state is None or state.last_poll is None):
            details.append(t(ctx.lang, "source_never"))
        elif source.url and state is not None and state.last_poll is not None:  # (narrowed for mypy)
            details.append(t(ctx.lang, "source_polled", when=_when(state.last_poll)))
            if state.last_change:
                details.append(t(ctx.lang, "source_changed", when=_when(state.last_change)))
            if state.failures:
                details.append(t(ctx.lang, "source_failure") if state.failures == 1 else t(ctx.lang, "source_failures", n=state.failures))
        if dead.get(source.name):
            details.append(t(ctx.lang, "source_dead", n=dead[source.name]))
        if details:
            line += " — " + ", ".join(details)
        lines.append("• " + line)
    return lines


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
