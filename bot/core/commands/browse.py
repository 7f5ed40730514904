"""``/topic`` and ``/random``: browsing the lists' sections instead of searching them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.commands.common import PER_PAGE, page_buttons, page_of
from bot.core.commands.topic_lists import (
    ALL_LISTS,
    LIST_PREFIX,
    browsed_list,
    indexed_lists,
    list_sections_page,
    lists_page,
    remember_list,
    section_lines,
)
from bot.core.details import detail_buttons
from bot.core.i18n import t
from bot.core.paging import path_hash
from bot.core.registry import ArgSpec, command
from bot.core.replies import Button, Reply, UserError
from bot.core.views import entry_view
from index.model import section_key

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context
    from index.search import SearchIndex

__all__ = [
    "TOPIC_VALUE_LIMIT",
    "random_again",
    "random_pick",
    "resolve_topic",
    "topic",
    "topic_page",
    "topic_page_by_hash",
    "topic_value",
]

TOPIC_VALUE_LIMIT = 100  # Discord's limit on a choice value


@command(
    "topic",
    zh="浏览某个分类下的条目（不带参数先列出各个列表）",
    usage="/topic [name]",
    example="/topic lesion detection",
    arg=ArgSpec("name", "A section or a list (English or Chinese); none: the lists", autocomplete="topic"),
    aliases=("topics",),
)
async def topic(core: MedBot, args: str, ctx: Context) -> Reply:
    """Browse a section of the lists, or list the lists and their sections."""
    name = args.strip()[:200]
    if not name:
        return await lists_page(core, 1, ctx)
    lists = await indexed_lists(core)
    named_list = next((info.name for info in lists if info.name.casefold() == name.casefold()), None)
    if named_list is not None:
        return await list_sections_page(core, named_list, 1, ctx)
    path = await core.run_index(lambda: resolve_topic(core.index, name))
    if path is None:
        overview = await lists_page(core, 1, ctx)
        return Reply(
            text=(t(ctx.lang, "no_topic", name=name[:60]), *overview.text),
            buttons=overview.buttons,
            footer=overview.footer,
            is_error=True,
            language=ctx.lang,
        )
    browsing = browsed_list(core, ctx)
    info = next((item for item in lists if item.name == browsing), None)
    if info is not None:  # the user is looking at one list: a name several lists share means its section
        wanted = section_key(name)
        mine = next((node.path for node in info.sections if node.path == path), None) or next(
            (node.path for node in info.sections if section_key(node.name) == wanted), None)
        if mine is not None:
            return await topic_page(core, mine, 1, ctx, source=info.name)
    return await topic_page(core, path, 1, ctx)


async def topic_page(core: MedBot, path: tuple[str, ...], page: int, ctx: Context, *, per_page: int = PER_PAGE,
                     source: str | None = None) -> Reply:
    """A section's entries, of one list when ``source`` names it (its buttons keep the list)."""
    result = await core.run_index(lambda: core.index.topic_entries(path, page=page, per_page=per_page, source=source))
    label = " › ".join(path)
    if source:
        label = f"{source}: {label}"
    if not result.hits:
        return Reply(text=(t(ctx.lang, "empty_topic", path=label),), language=ctx.lang)
    where = page_of(result)
    last_number = where.first + len(result.hits) - 1
    views = tuple(entry_view(hit) for hit in result.hits)
    argument = f"{path_hash(path)}@{source}" if source else path_hash(path)
    buttons = page_buttons(core, "topic", argument, where, ctx.lang)
    if source:
        buttons += (Button(t(ctx.lang, "back_to_list", name=source), core.payload("topic", LIST_PREFIX + source)),)
    return Reply(
        title=t(ctx.lang, "topic_title", path=label, first=where.first, last=last_number, total=result.total),
        entries=views,
        buttons=buttons + detail_buttons(core, views, where.first),
        language=ctx.lang,
        page=where,
    )


async def topic_page_by_hash(core: MedBot, argument: str, page: int, ctx: Context) -> Reply:
    """A topic button: the lists (``*``), a list's sections (``L<list>``), or a section by the
    hash of its path, of one list when ``@<list>`` follows (see ``topic_lists``)."""
    if argument == ALL_LISTS:
        return await lists_page(core, page, ctx)
    if argument.startswith(LIST_PREFIX):
        return await list_sections_page(core, argument[len(LIST_PREFIX):], page, ctx)
    hashed, _, source = argument.partition("@")
    if source:
        info = next((item for item in await indexed_lists(core) if item.name == source), None)
        nodes = info.sections if info is not None else ()
    else:
        nodes = tuple(section_lines(await core.run_index(core.index.topics)))
    for node in nodes:
        if path_hash(node.path) == hashed:
            if source:
                remember_list(core, ctx, source)
            return await topic_page(core, node.path, page, ctx, source=source or None)
    return Reply(text=(t(ctx.lang, "stale_button"),), is_error=True, ephemeral=True, language=ctx.lang)


def topic_value(path: tuple[str, ...]) -> str:
    """A short text that names one section exactly: its path, or ``#<hash>`` when that is long."""
    joined = " / ".join(path)
    return joined if len(joined) <= TOPIC_VALUE_LIMIT else "#" + path_hash(path)


def resolve_topic(index: SearchIndex, name: str) -> tuple[str, ...] | None:
    """The section a name means: a value from ``topic_value`` (a whole path or ``#<hash>``),
    else the best match for what the user typed."""
    if name.startswith("#"):
        for node in section_lines(index.topics()):
            if path_hash(node.path) == name[1:]:
                return node.path
    for separator in (" / ", " › ", " > "):
        if separator in name:
            wanted = tuple(section_key(part) for part in name.split(separator))
            for node in section_lines(index.topics()):
                if tuple(section_key(part) for part in node.path) == wanted:
                    return node.path
    return index.match_topic(name)




@command(
    "random",
    zh="随机推荐一个条目（可指定分类）",
    usage="/random [topic]",
    example="/random single-cell",
    arg=ArgSpec("topic", "Pick from this section only (optional)", autocomplete="topic"),
)
async def random_pick(core: MedBot, args: str, ctx: Context) -> Reply:
    """Recommend one random entry, optionally from a topic."""
    return await random_again(core, args.strip()[:200], 1, ctx)


async def random_again(core: MedBot, topic_name: str, page: int, ctx: Context) -> Reply:
    """One random entry (``page`` is ignored: "another one" is always a fresh pick)."""
    path: tuple[str, ...] | None = None
    if topic_name:
        path = await core.run_index(lambda: resolve_topic(core.index, topic_name))
        if path is None:
            raise UserError(t(ctx.lang, "no_topic", name=topic_name[:60]) + " " + t(ctx.lang, "see_help"))
    hit = await core.run_index(lambda: core.index.random(" › ".join(path) if path else None))
    if hit is None:
        return Reply(text=(t(ctx.lang, "nothing_indexed"),), language=ctx.lang)
    title = t(ctx.lang, "random_title_topic", path=" › ".join(path)) if path else t(ctx.lang, "random_title")
    return Reply(
        title=title,
        entries=(entry_view(hit),),
        buttons=(Button(t(ctx.lang, "another"), core.payload("random", topic_name, 1)),),
        language=ctx.lang,
    )
