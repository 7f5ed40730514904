"""The core's ``Reply`` as Telegram HTML: escaped, split below the message limit, with buttons.

Feed bots fail with "can't parse entities" because list text reaches Telegram
unescaped; here every piece of user or list text goes through ``html.escape`` and only
our own tags (``b``, ``i``, ``a``, ``code``) are markup. A long reply is split at entry
boundaries so no entry is cut in half, and the buttons ride on the last message.
These are pure functions: the adapter does the sending.
"""

from __future__ import annotations

import html
import logging
import re

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode

from bot.core.replies import EntryView, Reply
from bot.core.segments import clip_segments

__all__ = ["MESSAGE_LIMIT", "inline_result", "keyboard", "render_entry", "render_reply", "telegram_length"]

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4000
"""Below Telegram's 4,096 (counted in UTF-16 units), with room for a margin."""

CALLBACK_DATA_LIMIT = 64
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_TITLE_LIMIT = 300
_DESCRIPTION_LIMIT = 300
_EXPANSION = 6  # html.escape turns one character into at most six (&quot;)


def esc(text: str) -> str:
    """Escape list or user text for Telegram HTML (quotes too: it may sit in an href)."""
    return html.escape(text, quote=True)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _link(url: str | None, label: str) -> str:
    """A link only for web URLs: Telegram rejects other schemes, and a bad one fails the message."""
    if url and url.lower().startswith(("http://", "https://")):
        return f'<a href="{esc(url)}">{esc(label)}</a>'
    return esc(label)


def render_entry(entry: EntryView, number: int | None = None) -> str:
    """One entry: linked title (year), section path, tags, code link, a short description."""
    title = _shorten(entry.title, _TITLE_LIMIT) or entry.url or entry.id
    head = f"<b>{number}.</b> " if number is not None else ""
    lines = [head + _link(entry.url, title) + (f" ({entry.year})" if entry.year else "")]
    if entry.section:
        lines.append(f"<i>{esc(_shorten(entry.section_path, _TITLE_LIMIT))}</i>")
    details = []
    if entry.tags:
        details.append("🏷 " + esc(_shorten(" · ".join(entry.tags), _TITLE_LIMIT)))
    if entry.code_url:
        details.append("💻 " + _link(entry.code_url, "code"))
    if details:
        lines.append("  ".join(details))
    if entry.description:
        runs = clip_segments([(re.sub(r"\s+", " ", text), url) for text, url in entry.parts], _DESCRIPTION_LIMIT)
        lines.append("".join(_link(url, text) if url else esc(text) for text, url in runs))
    if len(entry.sources) > 1:
        lines.append("📚 " + esc(", ".join(entry.sources)))
    lines.append(f"id: <code>{esc(entry.id)}</code>")
    return "\n".join(lines)


def _paragraph_blocks(paragraph: str, limit: int) -> list[str]:
    """Escape a free-text paragraph, cutting it (at lines, then hard) if it is too long."""
    whole = esc(paragraph)
    if telegram_length(whole) <= limit:
        return [whole]
    blocks: list[str] = []
    step = max(1, limit // _EXPANSION)
    for line in paragraph.splitlines() or [paragraph]:
        escaped = esc(line)
        if telegram_length(escaped) <= limit:
            blocks.append(escaped)
        else:
            blocks.extend(esc(line[start : start + step]) for start in range(0, len(line), step))
    return blocks


def _blocks(reply: Reply, limit: int) -> list[str]:
    blocks: list[str] = []
    if reply.title:
        prefix = "⚠️ " if reply.is_error else ""
        blocks.append(f"<b>{prefix}{esc(_shorten(reply.title, _TITLE_LIMIT * 2))}</b>")
    for paragraph in reply.text:
        blocks.extend(_paragraph_blocks(paragraph, limit))
    blocks.extend(render_entry(entry, number if reply.numbered else None) for number, entry in enumerate(reply.entries, reply.first_number))
    if reply.footer:
        blocks.extend(f"<i>{block}</i>" for block in _paragraph_blocks(reply.footer, limit - 7))
    return blocks or ["…"]


def render_reply(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The reply as one or more HTML messages, each below ``limit``, split between blocks."""
    chunks: list[str] = []
    current = ""
    for block in _blocks(reply, limit):
        candidate = f"{current}\n\n{block}" if current else block
        if telegram_length(candidate) <= limit:
            current = candidate
        else:
            if current:
                chunks.append(current)
            current = block
    chunks.append(current)
    return chunks


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Buttons by row (paging first, then per-entry details); a payload over 64 bytes is dropped."""
    rows: dict[int, list[InlineKeyboardButton]] = {}
    for button in reply.buttons:
        if len(button.payload.encode("utf-8")) > CALLBACK_DATA_LIMIT:
            log.warning("dropping button %r: payload is over %d bytes", button.label, CALLBACK_DATA_LIMIT)
            continue
        rows.setdefault(button.row, []).append(InlineKeyboardButton(button.label, callback_data=button.payload))
    return InlineKeyboardMarkup([rows[row] for row in sorted(rows)]) if rows else None


def inline_result(entry: EntryView, result_id: str) -> InlineQueryResultArticle:
    """An inline-mode result: what the picker shows, and the message it sends when chosen."""
    summary = " · ".join(part for part in (entry.section_path, ", ".join(entry.tags)) if part)
    return InlineQueryResultArticle(
        id=result_id,
        title=_shorten(entry.title, 200) or entry.id,
        description=_shorten(summary or entry.description, 200) or None,
        url=entry.url if entry.url and entry.url.startswith(("http://", "https://")) else None,
        input_message_content=InputTextMessageContent(
            render_entry(entry), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        ),
    )
