"""``/search``: ranked entries for what a lab member typed, five a page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.commands.common import PER_PAGE, page_buttons, page_of, usage_error
from bot.core.details import detail_buttons
from bot.core.i18n import t
from bot.core.registry import ArgSpec, command
from bot.core.replies import Button, Reply
from bot.core.saved_search import SubscriptionFilter, read_filter, saved_search
from bot.core.views import entry_view
from index.search_results import SearchResult, page_count

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context

__all__ = ["MAX_QUERY_CHARS", "search", "search_page"]

MAX_QUERY_CHARS = 300

# What /help search shows: the reader in index/search_query.py accepts exactly these.
SEARCH_SYNTAX = "\n".join((
    "Words match titles, descriptions, sections and tags, in English or Chinese.",
    '"a phrase" in quotes: /search "lesion detection"',
    "year:2019 one year: /search segmentation year:2019",
    "year:2018..2020 a range: /search segmentation year:2018..2020",
    "topic:NAME within a list or section: /search unet topic:segmentation",
    "source:NAME within one awesome list: /search ct source:awesome-medical-research",
    "tag:NAME with a tag: /search lesion tag:MICCAI",
    "-word, -topic:NAME, -tag:NAME leave out: /search segmentation -review",
))
SEARCH_SYNTAX_ZH = "\n".join((
    "词语会匹配标题、简介、章节和标签，中英文均可。",
    "用引号搜索整个短语：/search \"lesion detection\"",
    "year:2019 某一年：/search segmentation year:2019",
    "year:2018..2020 年份范围：/search segmentation year:2018..2020",
    "topic:名称 限定列表或章节：/search unet topic:segmentation",
    "source:名称 限定某个列表：/search ct source:awesome-medical-research",
    "tag:名称 限定标签：/search lesion tag:MICCAI",
    "-词语、-topic:名称、-tag:名称 排除：/search segmentation -review",
))


EXCLUDING_DEPTH = 100
"""With exclusions (``-word``, ``-tag:``, ``author:`` …) the first this many results of the
rest of the query are filtered, the way a subscription would filter new entries."""


def _excluding(core: MedBot, query: str, positive: str, page: int, per_page: int) -> SearchResult:
    """Results for ``positive``, minus what ``query``'s exclusions reject, paged (blocking)."""
    found = core.index.search(positive, page=1, per_page=EXCLUDING_DEPTH)
    match = saved_search(core.settings.synonyms_path)
    kept = [hit for hit in found.hits if match(query, hit.entry)]
    pages = page_count(len(kept), per_page)
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return SearchResult(query, len(kept), page, pages, per_page, found.suggestion, found.fuzzy,
                        tuple(kept[start : start + per_page]))


@command(
    "search",
    zh="搜索论文、代码和数据集",
    usage="/search <words>",
    example="/search lesion detection",
    arg=ArgSpec("query", 'Words, "a phrase", or filters: year:2019 year:2018..2020 topic: source: tag:', required=True),
    aliases=("s", "find"),
    details=SEARCH_SYNTAX,
    details_zh=SEARCH_SYNTAX_ZH,
)
async def search(core: MedBot, args: str, ctx: Context) -> Reply:
    """Search the lists for papers, code and datasets."""
    query = args.strip()
    if not query:
        raise usage_error(core, "search", ctx.lang)
    return await search_page(core, query, 1, ctx)


async def search_page(core: MedBot, query: str, page: int, ctx: Context, *, per_page: int = PER_PAGE) -> Reply:
    """Page ``page`` of the results for ``query`` (the last page when asked past it)."""
    notes: list[str] = []
    if len(query) > MAX_QUERY_CHARS:
        query = query[:MAX_QUERY_CHARS].rsplit(" ", 1)[0] or query[:MAX_QUERY_CHARS]
        notes.append(t(ctx.lang, "query_trimmed", n=MAX_QUERY_CHARS))
    wanted = read_filter(query)
    if wanted != SubscriptionFilter(wanted.search) and wanted.search.strip():
        result = await core.run_index(lambda: _excluding(core, query, wanted.search, page, per_page))
    else:
        result = await core.run_index(lambda: core.index.search(query, page=page, per_page=per_page))
    if result.total and not result.hits and result.pages:
        last = result.pages
        result = await core.run_index(lambda: core.index.search(query, page=last, per_page=per_page))
    shown = query if len(query) <= 60 else query[:59] + "…"
    buttons: list[Button] = []
    if result.suggestion:
        notes.append(t(ctx.lang, "suggestion", suggestion=result.suggestion))
        buttons.append(Button(t(ctx.lang, "search_suggestion_button", suggestion=result.suggestion[:30]),
                              core.payload("search", result.suggestion, 1)))
    if not result.hits:
        return Reply(
            text=(t(ctx.lang, "no_results", query=shown), *notes, t(ctx.lang, "no_results_hint")),
            buttons=tuple(buttons),
            language=ctx.lang,
            suggestion=result.suggestion,
        )
    if result.fuzzy:
        notes.insert(0, t(ctx.lang, "fuzzy_note"))
    if result.relaxed:
        notes.insert(0, t(ctx.lang, "relaxed_note"))
    where = page_of(result)
    last_number = where.first + len(result.hits) - 1
    views = tuple(entry_view(hit) for hit in result.hits)
    return Reply(
        title=t(ctx.lang, "results_title", query=shown, first=where.first, last=last_number, total=result.total),
        text=tuple(notes),
        entries=views,
        buttons=page_buttons(core, "search", query, where, ctx.lang) + tuple(buttons) + detail_buttons(core, views, where.first),
        language=ctx.lang,
        page=where,
        suggestion=result.suggestion,
    )
