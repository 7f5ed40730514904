"""The built-in commands: start, help, search, topic, random, new, similar, sources.

Each handler takes the core, the argument text and the context, and returns a ``Reply``;
a ``UserError`` becomes a friendly answer in the core. Paged answers put their next and
previous pages behind button payloads that ``perform`` turns back into a page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.registry import REGISTRY, ArgSpec, command
from bot.core.details import detail_buttons
from bot.core.i18n import t
from bot.core.paging import Action, encode, path_hash
from bot.core.replies import Button, EntryView, Reply, UserError
from index.model import Entry, section_key
from index.search import Hit

if TYPE_CHECKING:
    from bot.app import Context
    from bot.core.bot import MedBot
    from index.search import SearchIndex, SearchResult, TopicNode

PER_PAGE = 5
MAX_QUERY_CHARS = 300
DESCRIPTION_CHARS = 300


# --- shared pieces -------------------------------------------------------------------


def entry_view(hit: Hit) -> EntryView:
    """What a reply shows of a search hit."""
    return view_of(hit.entry, hit.sources, hit.score)


def view_of(entry: Entry, sources: Sequence[str] = (), score: float | None = None) -> EntryView:
    """What a reply (or an announcement) shows of an entry: links primary first, a short description."""
    description = entry.description
    if len(description) > DESCRIPTION_CHARS:
        description = description[: DESCRIPTION_CHARS - 1].rstrip() + "…"
    links = tuple((link.text, link.url) for link in entry.links)
    if entry.url and all(url != entry.url for _, url in links):
        links = ((entry.title, entry.url), *links)
    return EntryView(
        id=entry.id,
        title=entry.title,
        url=entry.url,
        section=tuple(entry.section),
        tags=tuple(entry.tags),
        code_url=entry.code_url,
        description=description,
        year=entry.year,
        sources=tuple(sources) or (entry.source,),
        links=links,
        score=round(score, 4) if score is not None else None,
    )


def usage_error(name: str, lang: str) -> UserError:
    spec = REGISTRY[name]
    parts = [t(lang, "usage", usage=spec.usage)]
    if spec.example:
        parts.append(t(lang, "example", example=spec.example))
    return UserError("\n".join(parts))


def _page_buttons(kind: str, argument: str, page: int, pages: int, core: MedBot, lang: str) -> tuple[Button, ...]:
    buttons = []
    if page > 1:
        buttons.append(Button(t(lang, "prev"), encode(Action(kind, argument, page - 1), core.tokens)))
    if page < pages:
        buttons.append(Button(t(lang, "next"), encode(Action(kind, argument, page + 1), core.tokens)))
    return tuple(buttons)


def _window(result: SearchResult) -> tuple[int, int]:
    first = (result.page - 1) * result.per_page + 1
    return first, first + len(result.hits) - 1


# --- commands ------------------------------------------------------------------------


@command("start", zh="开始使用并查看简介", usage="/start")
async def start(core: MedBot, args: str, ctx: Context) -> Reply:
    """Say hello and show what medbot can do."""
    help_reply = await help_command(core, "", ctx)
    return Reply(title="medbot", text=(t(ctx.lang, "welcome"), *help_reply.text), language=ctx.lang)


@command(
    "help",
    zh="查看命令列表或某个命令的用法",
    usage="/help [command]",
    example="/help search",
    arg=ArgSpec("command", "A command to explain, e.g. search"),
)
async def help_command(core: MedBot, args: str, ctx: Context) -> Reply:
    """List the commands, or explain one of them."""
    name = args.strip().lstrip("/").lower()
    if name:
        spec = REGISTRY.get(name)
        if spec is None:
            return core.unknown_command(name, ctx)
        lines = [f"/{spec.name} — {spec.describe(ctx.lang)}", t(ctx.lang, "usage", usage=spec.usage)]
        if spec.example:
            lines.append(t(ctx.lang, "example", example=spec.example))
        return Reply(title=f"/{spec.name}", text=tuple(lines), language=ctx.lang)
    lines = [f"/{spec.name} — {spec.describe(ctx.lang)}" for spec in core.commands]
    return Reply(title=t(ctx.lang, "help_title"), text=("\n".join(lines),), footer=t(ctx.lang, "help_footer"), language=ctx.lang)


@command(
    "search",
    zh="搜索论文、代码和数据集",
    usage="/search <words>",
    example="/search lesion detection",
    arg=ArgSpec("query", "Words to look for: a topic, method, abbreviation or Chinese", required=True),
    aliases=("s", "find"),
)
async def search(core: MedBot, args: str, ctx: Context) -> Reply:
    """Search the lists for papers, code and datasets."""
    query = args.strip()
    if not query:
        raise usage_error("search", ctx.lang)
    return await search_page(core, query, 1, ctx)


async def search_page(core: MedBot, query: str, page: int, ctx: Context) -> Reply:
    notes: list[str] = []
    if len(query) > MAX_QUERY_CHARS:
        query = query[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] or query[:MAX_QUERY_CHARS]
        notes.append(t(ctx.lang, "query_trimmed", n=MAX_QUERY_CHARS))
    result = await core.run_index(lambda: core.index.search(query, page=page, per_page=PER_PAGE))
    if result.total and not result.hits and result.pages:
        last = result.pages
        result = await core.run_index(lambda: core.index.search(query, page=last, per_page=PER_PAGE))
    shown = query if len(query) <= 60 else query[:59] + "…"
    buttons: list[Button] = []
    if result.suggestion:
        notes.append(t(ctx.lang, "suggestion", suggestion=result.suggestion))
        buttons.append(Button(t(ctx.lang, "search_suggestion_button", suggestion=result.suggestion[:30]),
                              encode(Action("search", result.suggestion, 1), core.tokens)))
    if not result.hits:
        return Reply(
            text=(t(ctx.lang, "no_results", query=shown), *notes, t(ctx.lang, "no_results_hint")),
            buttons=tuple(buttons),
            language=ctx.lang,
            meta={"total": 0, "query": query},
        )
    if result.fuzzy:
        notes.insert(0, t(ctx.lang, "fuzzy_note"))
    first, last = _window(result)
    buttons = list(_page_buttons("search", query, result.page, result.pages, core, ctx.lang)) + buttons
    views = tuple(entry_view(hit) for hit in result.hits)
    buttons.extend(detail_buttons(views, first, core.tokens, ctx.lang))
    return Reply(
        title=t(ctx.lang, "results_title", query=shown, first=first, last=last, total=result.total),
        text=tuple(notes),
        entries=views,
        buttons=tuple(buttons),
        language=ctx.lang,
        meta={"total": result.total, "page": result.page, "pages": result.pages, "query": query, "first": first},
    )


@command(
    "topic",
    zh="浏览某个分类下的条目（不带参数列出全部分类）",
    usage="/topic [name]",
    example="/topic lesion detection",
    arg=ArgSpec("name", "A section of the lists (English or Chinese)", autocomplete="topic"),
    aliases=("topics",),
)
async def topic(core: MedBot, args: str, ctx: Context) -> Reply:
    """Browse a section of the lists, or list all sections."""
    name = args.strip()[:200]
    if not name:
        return await _topics_overview(core, ctx)
    path = await core.run_index(lambda: resolve_topic(core.index, name))
    if path is None:
        overview = await _topics_overview(core, ctx)
        return Reply(
            text=(t(ctx.lang, "no_topic", name=name[:60]), *overview.text),
            is_error=True,
            language=ctx.lang,
        )
    return await topic_page(core, path, 1, ctx)


async def topic_page(core: MedBot, path: tuple[str, ...], page: int, ctx: Context) -> Reply:
    result = await core.run_index(lambda: core.index.topic_entries(path, page=page, per_page=PER_PAGE))
    label = " › ".join(path)
    if not result.hits:
        return Reply(text=(t(ctx.lang, "empty_topic", path=label),), language=ctx.lang)
    first, last = _window(result)
    views = tuple(entry_view(hit) for hit in result.hits)
    return Reply(
        title=t(ctx.lang, "topic_title", path=label, first=first, last=last, total=result.total),
        entries=views,
        buttons=_page_buttons("topic", path_hash(path), result.page, result.pages, core, ctx.lang)
        + detail_buttons(views, first, core.tokens, ctx.lang),
        language=ctx.lang,
        meta={"total": result.total, "page": result.page, "pages": result.pages, "topic": list(path), "first": first},
    )


TOPIC_VALUE_LIMIT = 100  # Discord's limit on a choice value


def topic_value(path: tuple[str, ...]) -> str:
    """A short text that names one section exactly: its path, or ``#<hash>`` when that is long."""
    joined = " / ".join(path)
    return joined if len(joined) <= TOPIC_VALUE_LIMIT else "#" + path_hash(path)


def resolve_topic(index: SearchIndex, name: str) -> tuple[str, ...] | None:
    """The section a name means: a value from ``topic_value`` (a whole path or ``#<hash>``),
    else the best match for what the user typed."""
    if name.startswith("#"):
        for node in flatten_topics(index.topics()):
            if path_hash(node.path) == name[1:]:
                return node.path
    for separator in (" / ", " › ", " > "):
        if separator in name:
            wanted = tuple(section_key(part) for part in name.split(separator))
            for node in flatten_topics(index.topics()):
                if tuple(section_key(part) for part in node.path) == wanted:
                    return node.path
    return index.match_topic(name)


def flatten_topics(nodes: tuple[TopicNode, ...]) -> list[TopicNode]:
    flat: list[TopicNode] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        flat.append(node)
        stack.extend(reversed(node.children))
    return flat


async def _topics_overview(core: MedBot, ctx: Context) -> Reply:
    nodes = await core.run_index(core.index.topics)
    flat = flatten_topics(nodes)
    if not flat:
        return Reply(text=(t(ctx.lang, "nothing_indexed"),), language=ctx.lang)
    lines: list[str] = []
    for node in nodes:
        lines.append(f"• {node.name} ({node.count})")
        for child in node.children[:12]:
            lines.append(f"   ◦ {child.name} ({child.count})")
        if len(node.children) > 12:
            lines.append(f"   ◦ … +{len(node.children) - 12}")
    text = "\n".join(lines)
    if len(text) > 3000:
        text = text[:3000].rsplit("\n", 1)[0] + "\n…"
    example = next((node.name for node in flat if node.count and not node.children), flat[0].name)
    return Reply(
        title=t(ctx.lang, "topics_title", count=len(flat)),
        text=(text,),
        footer=t(ctx.lang, "topics_hint", example=example),
        language=ctx.lang,
    )


@command(
    "random",
    zh="随机推荐一个条目（可指定分类）",
    usage="/random [topic]",
    example="/random single-cell",
    arg=ArgSpec("topic", "Pick from this section only (optional)", autocomplete="topic"),
)
async def random_pick(core: MedBot, args: str, ctx: Context) -> Reply:
    """Recommend one random entry, optionally from a topic."""
    return await random_reply(core, args.strip()[:200], ctx)


async def random_reply(core: MedBot, topic_name: str, ctx: Context) -> Reply:
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
        buttons=(Button(t(ctx.lang, "another"), encode(Action("random", topic_name, 1), core.tokens)),),
        language=ctx.lang,
    )


@command(
    "new",
    zh="查看监视器最近发现的新条目",
    usage="/new [days]",
    example="/new 7",
    arg=ArgSpec("days", "How many days back (default 30)", kind="integer"),
)
async def new_entries(core: MedBot, args: str, ctx: Context) -> Reply:
    """Show entries added upstream recently."""
    text = args.strip()
    if text and not (text.isdecimal() and len(text) <= 10 and 1 <= int(text) <= 365):
        raise UserError(t(ctx.lang, "bad_days"))
    days = int(text) if text else 30
    store = core.store
    if store is None:
        return Reply(text=(t(ctx.lang, "new_no_store"),), language=ctx.lang)
    since = datetime.now(UTC) - timedelta(days=days)
    logged = await asyncio.to_thread(store.recent_new_entries, since, 10)
    if not logged:
        return Reply(text=(t(ctx.lang, "new_none", days=days),), language=ctx.lang)
    views = [entry_view(Hit(item.entry, tuple(item.sources), 0.0)) for item in logged]
    return Reply(title=t(ctx.lang, "new_title", days=days), entries=tuple(views), language=ctx.lang)


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
        raise usage_error("similar", ctx.lang)
    hit = await core.run_index(lambda: core.index.get(ref))
    if hit is None:
        raise UserError(t(ctx.lang, "no_entry", ref=ref[:80]))
    hits = await core.run_index(lambda: core.index.similar(ref, limit=PER_PAGE))
    title = hit.entry.title if len(hit.entry.title) <= 80 else hit.entry.title[:79] + "…"
    if not hits:
        return Reply(text=(t(ctx.lang, "similar_none", title=title),), language=ctx.lang)
    return Reply(title=t(ctx.lang, "similar_title", title=title), entries=tuple(entry_view(h) for h in hits), language=ctx.lang)


@command("sources", zh="查看收录的列表及其状态", usage="/sources")
async def sources(core: MedBot, args: str, ctx: Context) -> Reply:
    """List the awesome lists medbot serves, with entry counts and watch status."""
    counts = await core.run_index(core.index.source_counts)
    states = await asyncio.to_thread(core.store.source_states) if core.store is not None else {}
    from bot.watch.linkcheck import dead_counts  # (the link checker's tables; lazy: /sources only)

    dead = await asyncio.to_thread(dead_counts, core.settings, core.store)
    lines = []
    for source in core.settings.sources:
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
                details.append(t(ctx.lang, "source_failures", n=state.failures))
        if dead.get(source.name):
            details.append(t(ctx.lang, "source_dead", n=dead[source.name]))
        if details:
            line += " — " + ", ".join(details)
        lines.append("• " + line)
    return Reply(title=t(ctx.lang, "sources_title"), text=("\n".join(lines),), language=ctx.lang)


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- buttons -------------------------------------------------------------------------


async def perform(core: MedBot, action: Action, ctx: Context) -> Reply:
    """The reply a pressed button stands for."""
    if action.kind == "search":
        return await search_page(core, action.argument, action.page, ctx)
    if action.kind == "random":
        return await random_reply(core, action.argument, ctx)
    if action.kind == "paper":
        from bot.core.commands.papers import paper_card  # (papers imports this module)

        return await paper_card(core, action.argument, ctx)
    if action.kind == "topic":
        nodes = await core.run_index(core.index.topics)
        for node in flatten_topics(nodes):
            if path_hash(node.path) == action.argument:
                return await topic_page(core, node.path, action.page, ctx)
    return Reply(text=(t(ctx.lang, "stale_button"),), is_error=True, ephemeral=True, language=ctx.lang)

