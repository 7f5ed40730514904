"""The /paper card: one entry in full, as a platform-neutral ``Reply`` (pure).

Title, authors, venue and year, a shortened abstract, every link with its label and what
the link checker last saw (dead, or moved and shown at its new address), the section,
the lists, provenance, when medbot first saw it, and its line in the upstream list.
Adapters render the text blocks as they render any reply; nothing here knows a platform.
"""

from __future__ import annotations

from datetime import UTC

from bot.core.paper_info import PaperInfo, upstream_line_url
from bot.core.replies import Reply

__all__ = ["ABSTRACT_CHARS", "link_lines", "paper_reply"]

ABSTRACT_CHARS = 900
AUTHORS_SHOWN = 8

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "authors": "Authors", "venue": "Venue", "year": "Year", "abstract": "Abstract", "links": "Links",
        "section": "Section", "lists": "In lists", "first_seen": "First seen", "upstream": "Upstream line",
        "dead": "dead", "moved": "moved to", "stars": "stars", "repo": "Repository", "et_al": "et al.",
        "in_list": "in", "new": "found new by the watcher", "id": "id", "provenance": "Provenance",
    },
    "zh": {
        "authors": "作者", "venue": "发表于", "year": "年份", "abstract": "摘要", "links": "链接",
        "section": "分类", "lists": "所在列表", "first_seen": "首次发现", "upstream": "上游原文行",
        "dead": "已失效", "moved": "已迁移至", "stars": "星标", "repo": "代码仓库", "et_al": "等",
        "in_list": "于", "new": "由监视器发现的新条目", "id": "编号", "provenance": "来源",
    },
}


def _label(lang: str, key: str) -> str:
    return _LABELS.get(lang, _LABELS["en"]).get(key) or _LABELS["en"][key]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    sentence_end = cut.rfind(". ")
    cut = cut[: sentence_end + 1] if sentence_end > limit // 2 else cut.rsplit(" ", 1)[0]
    return cut.rstrip() + " …"


def link_lines(info: PaperInfo, lang: str = "en") -> list[str]:
    """``• label — url`` for every link, marked dead, or shown at its new address when it moved."""
    entry = info.entry
    pairs = [(link.text or link.url, link.url) for link in entry.links]
    if entry.url and all(url != entry.url for _, url in pairs):
        pairs.insert(0, (entry.title[:60] or entry.url, entry.url))
    lines = []
    for text, url in dict.fromkeys(pairs):
        status = info.links.get(url)
        label = text if len(text) <= 60 else text[:59] + "…"
        if status is not None and status.dead:
            code = f" {status.status}" if status.status else ""
            lines.append(f"• {label} — {url} ⚠️ {_label(lang, 'dead')}{code}")
        elif status is not None and status.moved and status.final_url:
            lines.append(f"• {label} — {status.final_url} ({_label(lang, 'moved')}; was {url})")
        else:
            lines.append(f"• {label} — {url}")
    return lines


def paper_reply(info: PaperInfo, source_urls: dict[str, str | None], lang: str = "en") -> Reply:
    """The card for ``info``; ``source_urls`` maps each list name to its upstream URL."""
    entry = info.entry
    blocks: list[str] = []
    facts: list[str] = []
    if info.authors:
        shown = ", ".join(info.authors[:AUTHORS_SHOWN])
        if len(info.authors) > AUTHORS_SHOWN:
            shown += f" {_label(lang, 'et_al')} (+{len(info.authors) - AUTHORS_SHOWN})"
        facts.append(f"{_label(lang, 'authors')}: {shown}")
    venue_year = " · ".join(part for part in (info.venue, str(info.year) if info.year else "") if part)
    if venue_year:
        facts.append(f"{_label(lang, 'venue')}: {venue_year}" if info.venue else f"{_label(lang, 'year')}: {venue_year}")
    repository = info.repository
    if repository is not None and (repository.description or repository.stars is not None):
        stars = f" ★ {repository.stars} {_label(lang, 'stars')}" if repository.stars is not None else ""
        facts.append(f"{_label(lang, 'repo')}: {_shorten(repository.description, 200)}{stars}".rstrip())
    if facts:
        blocks.append("\n".join(facts))
    if info.abstract:
        blocks.append(f"{_label(lang, 'abstract')}: {_shorten(info.abstract, ABSTRACT_CHARS)}")
    elif entry.description:
        blocks.append(_shorten(entry.description, ABSTRACT_CHARS))
    links = link_lines(info, lang)
    if links:
        blocks.append(f"{_label(lang, 'links')}:\n" + "\n".join(links))
    where: list[str] = []
    if entry.section:
        where.append(f"{_label(lang, 'section')}: {' › '.join(entry.section)}")
    where.append(f"{_label(lang, 'lists')}: {', '.join(info.sources or (entry.source,))}")
    if info.provenance is not None and info.provenance.describe():
        where.append(f"{_label(lang, 'provenance')}: {info.provenance.describe()}")
    if info.first_seen is not None:
        moment = info.first_seen.when.astimezone(UTC).strftime("%Y-%m-%d")
        note = f" ({_label(lang, 'new')})" if info.first_seen.logged else ""
        where.append(f"{_label(lang, 'first_seen')}: {moment} {_label(lang, 'in_list')} {info.first_seen.source}{note}")
    upstream = upstream_line_url(source_urls.get(entry.source), entry.line)
    if upstream:
        where.append(f"{_label(lang, 'upstream')}: {upstream}")
    where.append(f"{_label(lang, 'id')}: {entry.id}")
    blocks.append("\n".join(where))
    title = info.title + (f" ({info.year})" if info.year else "")
    return Reply(title=title, text=tuple(blocks), language=lang, new_message=True)
