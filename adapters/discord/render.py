"""A core ``Reply`` as a Discord message: content plus embeds, inside every Discord limit.

Discord rejects a whole message (HTTP 400) when one embed title is 257 characters or the
embeds of one message add up to 6,001, so rendering measures as it builds: one embed per
entry (title linked, section, tags, code link), descriptions shortened step by step until
the message fits, and entries dropped last. Pure functions, no I/O: easy to test alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import discord

from bot.core.replies import EntryView, Reply

__all__ = ["LIMITS", "Rendered", "clip", "render", "safe_url"]


@dataclass(frozen=True, slots=True)
class _Limits:
    """Discord's documented message and embed limits (characters unless noted)."""

    content: int = 2000
    title: int = 256
    description: int = 4096
    field_name: int = 256
    field_value: int = 1024
    fields: int = 25  # per embed
    footer: int = 2048
    embeds: int = 10  # per message
    total: int = 6000  # all embeds of one message together
    url: int = 2048


LIMITS = _Limits()
_COLOUR = discord.Colour(0x2B7A78)
_ERROR_COLOUR = discord.Colour(0xC0392B)
_DESCRIPTION_CAPS = (700, 350, 160, 60, 0)
_FIELD_CAPS = (LIMITS.field_value, 300, 120)
_LABELS = {
    "en": {"section": "Section", "tags": "Tags", "code": "Code", "sources": "In lists", "more": "more not shown"},
    "zh": {"section": "分类", "tags": "标签", "code": "代码", "sources": "来源", "more": "条未显示"},
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """What one Discord message carries: ``content`` (may be empty) and its embeds."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marked with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    cut = text[: limit - 1].rstrip()
    # Never leave a dangling Markdown escape that would swallow the ellipsis.
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + "…"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL Discord accepts in an embed, or None (a bad URL fails the message)."""
    if not url:
        return None
    url = url.strip().replace(" ", "%20")
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", url, re.I) or len(url) > LIMITS.url:
        return None
    return url


def _md(text: str) -> str:
    return discord.utils.escape_markdown(text, as_needed=False)


def _link(label: str, url: str) -> str:
    """A masked Markdown link whose URL cannot close the link early."""
    return f"[{label}]({url.replace('(', '%28').replace(')', '%29')})"


def _description(entry: EntryView, cap: int) -> str:
    """The description with its inline links masked, cut at a run so no link breaks."""
    text = ""
    for run, url in entry.parts:
        target = safe_url(url)
        piece = _link(_md(run), target) if target else _md(run)
        if len(text) + len(piece) > cap - 1:
            return clip(text + _md(run), cap) if not target else clip(text, cap - 1).rstrip() + "…"
        text += piece
    return text


def _labels(reply: Reply) -> dict[str, str]:
    return _LABELS["zh" if reply.language == "zh" else "en"]


def _entry_embed(entry: EntryView, number: int | None, labels: dict[str, str], description_cap: int, field_cap: int) -> discord.Embed:
    title = entry.title or entry.url or entry.id
    if entry.year and str(entry.year) not in title:
        title = f"{title} ({entry.year})"
    if number is not None:  # numbered from the page's first item, as on every platform
        title = f"{number}. {title}"
    embed = discord.Embed(
        title=clip(_md(title), LIMITS.title),
        url=safe_url(entry.url),
        description=_description(entry, min(description_cap, LIMITS.description)) or None,
        colour=_COLOUR,
    )
    if entry.section:
        embed.add_field(name=labels["section"], value=clip(_md(entry.section_path), field_cap), inline=False)
    if entry.tags:
        embed.add_field(name=labels["tags"], value=clip(_md(", ".join(entry.tags)), field_cap), inline=True)
    code_url = safe_url(entry.code_url)
    code_link = _link("code", code_url) if code_url else ""
    if code_link and len(code_link) <= field_cap:  # measured after encoding: "(" becomes "%28"
        embed.add_field(name=labels["code"], value=code_link, inline=True)
    footer = f"id: {entry.id}"
    if entry.sources:
        footer += f" · {labels['sources']}: " + ", ".join(entry.sources)
    embed.set_footer(text=clip(footer, min(LIMITS.footer, max(field_cap, 60))))
    return embed


def _entry_embeds(reply: Reply) -> tuple[list[discord.Embed], int]:
    """Embeds for the entries that fit the per-message budget, and how many were left out."""
    labels = _labels(reply)
    entries: Sequence[EntryView] = reply.entries[: LIMITS.embeds]
    while entries:
        for field_cap in _FIELD_CAPS:
            for description_cap in _DESCRIPTION_CAPS:
                embeds = [_entry_embed(entry, number if reply.numbered else None, labels, description_cap, field_cap)
                          for number, entry in enumerate(entries, reply.first_number)]
                if sum(len(embed) for embed in embeds) <= LIMITS.total:
                    return embeds, len(reply.entries) - len(entries)
        entries = entries[:-1]
    return [], len(reply.entries)


def _text_embeds(reply: Reply) -> list[discord.Embed]:
    """Text-only replies (help, sources) as embeds: paragraphs packed into descriptions."""
    colour = _ERROR_COLOUR if reply.is_error else _COLOUR
    chunks: list[str] = []
    current = ""
    for paragraph in reply.text:
        paragraph = clip(paragraph, LIMITS.description)
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) > LIMITS.description:
            chunks.append(current)
            current = paragraph
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    embeds: list[discord.Embed] = []
    budget = LIMITS.total - len(reply.footer[: LIMITS.footer])
    for number, chunk in enumerate(chunks[: LIMITS.embeds]):
        title = clip(reply.title, LIMITS.title) if number == 0 and reply.title else None
        room = budget - len(title or "")
        if room <= 1:
            break
        embed = discord.Embed(title=title, description=clip(chunk, min(room, LIMITS.description)) or None, colour=colour)
        budget -= len(embed)
        embeds.append(embed)
    if embeds and reply.footer:
        embeds[-1].set_footer(text=clip(reply.footer, LIMITS.footer))
    return embeds


def render(reply: Reply) -> Rendered:
    """The message for ``reply``; every string within Discord's limits.

    Errors and usage replies are plain content (short, shown ephemerally); replies with
    entries put the heading and paragraphs in ``content`` and one embed per entry;
    other replies become text embeds.
    """
    if reply.is_error:
        parts = [reply.title, *reply.text, reply.footer]
        return Rendered(content=clip("\n\n".join(part for part in parts if part), LIMITS.content) or "…")
    if not reply.entries:
        embeds = [embed for embed in _text_embeds(reply) if len(embed)]
        return Rendered(embeds=embeds) if embeds else Rendered(content="…")  # Discord refuses an empty message
    embeds, left_out = _entry_embeds(reply)
    heading = f"**{_md(reply.title)}**" if reply.title else ""
    parts = [heading, *reply.text, reply.footer]
    if left_out:
        parts.append(f"(+{left_out} {_labels(reply)['more']})")
    return Rendered(content=clip("\n\n".join(part for part in parts if part), LIMITS.content), embeds=embeds)
