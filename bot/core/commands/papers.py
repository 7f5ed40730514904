"""Commands about single papers and files of them: /paper (the full card) and /export.

``/paper`` takes what users have at hand: the id shown under a result, any of the
entry's links, or an identifier (arXiv id, DOI, PMID/PMCID, GitHub repository). The
store's reads (metadata, link health, provenance) run in a thread; the index's on the
index thread, so neither blocks the loop. ``/export`` answers with a file attachment.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.commands.browse import resolve_topic
from bot.core.commands.common import usage_error
from bot.core.export import FORMATS, export
from bot.core.i18n import t
from bot.core.paper_card import paper_reply
from bot.core.paper_info import PaperInfo, gather_infos
from bot.core.registry import ArgSpec, command
from bot.core.replies import Attachment, Reply, UserError
from index.identifiers import identifiers_of, parse_identifier
from index.model import Entry

if TYPE_CHECKING:
    from bot.app import Context
    from bot.core.bot import MedBot
    from index.search import Hit, SearchIndex, SearchResult

__all__ = ["EXPORT_LIMIT", "collect_for_export", "export_command", "export_reply", "find_entry", "paper", "paper_card", "paper_page"]

EXPORT_LIMIT = 500
FORMAT_WORDS = {"bibtex": "bibtex", "bib": "bibtex", "ris": "ris", "csv": "csv"}


# --- finding one entry ---------------------------------------------------------------


def find_entry(index: SearchIndex, ref: str) -> Hit | None:
    """The entry ``ref`` names: its id, one of its links, or an identifier it carries (blocking)."""
    hit = index.get(ref)
    if hit is not None:
        return hit
    identifier = parse_identifier(ref)
    if identifier is None:
        return None
    wanted = set(identifier.keys)
    for candidate in index.search(ref, per_page=5).hits:
        if wanted & {found.key for found in identifiers_of(candidate.entry)} or candidate.entry.key in wanted:
            return candidate
    return None


async def paper_page(core: MedBot, ref: str, page: int, ctx: Context) -> Reply:
    """A "Details" button: the card of the entry it names (``page`` is always 1)."""
    return await paper_card(core, ref, ctx)


async def paper_card(core: MedBot, ref: str, ctx: Context) -> Reply:
    hit = await core.run_index(lambda: find_entry(core.index, ref))
    if hit is None:
        raise UserError(t(ctx.lang, "no_paper", ref=ref[:80]))
    [info] = await asyncio.to_thread(gather_infos, core.store, [(hit.entry, hit.sources)])
    return paper_reply(info, {source.name: source.url for source in core.settings.sources}, ctx.lang)


@command(
    "paper",
    zh="查看一个条目的全部信息（作者、摘要、链接状态、来源）",
    usage="/paper <id, link or identifier>",
    example="/paper arXiv:1710.01766",
    arg=ArgSpec("entry", "The id shown under a result, a link, an arXiv id, DOI or PMID", required=True, autocomplete="entry"),
    aliases=("details", "show"),
)
async def paper(core: MedBot, args: str, ctx: Context) -> Reply:
    """Show everything about one paper: authors, abstract, links and their health, where it came from."""
    ref = args.strip()[:500]
    if not ref:
        raise usage_error(core, "paper", ctx.lang)
    return await paper_card(core, ref, ctx)


# --- export --------------------------------------------------------------------------


def split_export_args(args: str) -> tuple[str, str]:
    """``("topic:单细胞", "bibtex")`` from ``topic:单细胞 bibtex``; the format defaults to BibTeX."""
    words = args.split()
    fmt = "bibtex"
    if words and words[-1].lower() in FORMAT_WORDS:
        fmt = FORMAT_WORDS[words.pop().lower()]
    return " ".join(words), fmt


def _all_hits(fetch: Callable[[int], SearchResult], limit: int) -> list[Hit]:
    hits: list[Hit] = []
    page = 1
    while len(hits) < limit:
        result = fetch(page)
        hits.extend(result.hits)
        if page >= result.pages or not result.hits:
            break
        page += 1
    return hits[:limit]


def collect_for_export(index: SearchIndex, selection: str, limit: int = EXPORT_LIMIT + 1) -> list[tuple[Entry, tuple[str, ...]]]:
    """The entries a ``topic:NAME`` or search-words selection means (blocking; not ``new:``)."""
    topic_match = re.fullmatch(r"(?i)topic:\s*(.+)", selection.strip())
    if topic_match:
        path = resolve_topic(index, topic_match.group(1).strip())
        if path is None:
            return []
        hits = _all_hits(lambda page: index.topic_entries(path, page=page, per_page=100), limit)
    else:
        hits = _all_hits(lambda page: index.search(selection, page=page, per_page=100), limit)
    return [(hit.entry, hit.sources) for hit in hits]


def parse_days(selection: str) -> int | None:
    """The DAYS of ``new:DAYS`` (None when the selection is something else); UserError when bad."""
    match = re.fullmatch(r"(?i)new:\s*(\S*)", selection.strip())
    if not match:
        return None
    text = match.group(1) or "30"
    if not (text.isdecimal() and len(text) <= 3 and 1 <= int(text) <= 365):
        raise ValueError(text)
    return int(text)


def export_filename(selection: str, fmt: str) -> str:
    folded = unicodedata.normalize("NFKD", selection).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:40] or "entries"
    return f"medbot-{slug}.{FORMATS[fmt][0]}"


def export_reply(infos: Sequence[PaperInfo], selection: str, fmt: str, lang: str, capped: bool) -> Reply:
    extension, mime = FORMATS[fmt]
    attachment = Attachment(export_filename(selection, fmt), export(infos, fmt), mime)
    text = [t(lang, "exported", count=len(infos), what=selection[:60], fmt=fmt)]
    if capped:
        text.append(t(lang, "capped", n=EXPORT_LIMIT))
    return Reply(text=tuple(text), files=(attachment,), language=lang)


@command(
    "export",
    zh="把搜索结果、分类或新条目导出为 BibTeX、CSV 或 RIS 文件",
    usage="/export <search words | topic:NAME | new:DAYS> [bibtex|csv|ris]",
    example="/export topic:单细胞 bibtex",
    arg=ArgSpec("what", "Search words, topic:NAME or new:DAYS, then bibtex, csv or ris", required=True),
)
async def export_command(core: MedBot, args: str, ctx: Context) -> Reply:
    """Export entries as a BibTeX, CSV or RIS file: a search, a topic, or what is new."""
    selection, fmt = split_export_args(args.strip()[:300])
    if not selection:
        raise usage_error(core, "export", ctx.lang)
    try:
        days = parse_days(selection)
    except ValueError:
        raise UserError(t(ctx.lang, "export_bad_days")) from None
    if days is not None:
        store = core.store
        if store is None:
            return Reply(text=(t(ctx.lang, "export_no_store"),), language=ctx.lang)
        since = datetime.now(UTC) - timedelta(days=days)
        logged = await asyncio.to_thread(store.recent_new_entries, since, EXPORT_LIMIT + 1)
        items = [(item.entry, item.sources) for item in logged]
    else:
        items = await core.run_index(lambda: collect_for_export(core.index, selection))
    if not items:
        return Reply(text=(t(ctx.lang, "nothing_to_export", what=selection[:60]),), language=ctx.lang)
    capped = len(items) > EXPORT_LIMIT
    infos = await asyncio.to_thread(gather_infos, core.store, items[:EXPORT_LIMIT], detail=False)
    return export_reply(infos, selection, fmt, ctx.lang, capped)
