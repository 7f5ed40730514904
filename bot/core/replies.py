"""What a command answers, as plain data every adapter can render.

The core never formats for a platform: it says "here is a heading, five entries and a
next-page button", and Telegram turns that into escaped HTML while Discord turns it into
embeds. Keeping replies as frozen data also makes them easy to assert on in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.segments import plain_segments

__all__ = ["Attachment", "Button", "EntryView", "Page", "Reply", "ReplyKind", "UserError"]


class UserError(Exception):
    """A problem the user can fix; its message is shown verbatim (usage, bad argument)."""


@dataclass(frozen=True, slots=True)
class EntryView:
    """One entry as a reply shows it: title linked, where it sits, what it offers."""

    id: str
    title: str
    url: str | None
    section: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    code_url: str | None = None
    description: str = ""
    year: int | None = None
    sources: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (text, url) pairs, primary first
    score: float | None = None
    # The description as runs (text, url or None): the links written inside it, kept.
    description_parts: tuple[tuple[str, str | None], ...] = ()

    @property
    def parts(self) -> tuple[tuple[str, str | None], ...]:
        """The description's runs (one plain run when the view was built without them)."""
        return self.description_parts or ((self.description, None),) if self.description else ()

    @property
    def section_path(self) -> str:
        return " › ".join(self.section)


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a reply. ``payload`` is opaque: the core resolves it later.

    Payloads stay below 64 bytes (Telegram's callback-data limit) because the core
    keeps the heavy state (query, page) behind a short token.
    """

    label: str
    payload: str
    row: int = 0  # adapters that lay buttons out in rows keep paging (0) apart from per-entry ones (1)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (an export): Telegram sends a document, Discord an attachment."""

    filename: str
    data: bytes = field(repr=False)
    mime: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Page:
    """Where a paged reply sits: page ``number`` of ``pages``, its first item's number.

    Adapters number entries from ``first`` (6 on page 2 of fives), so every platform
    counts the same way, and ``total`` is what "57 results" says.
    """

    number: int
    pages: int
    first: int
    total: int


class ReplyKind(StrEnum):
    """What a reply is for; adapters and the announcer may treat kinds differently."""

    ANSWER = "answer"
    ANNOUNCEMENT = "announcement"
    DIGEST = "digest"
    ALERT = "alert"


@dataclass(frozen=True, slots=True)
class Reply:
    """A whole answer: a heading line, free text blocks, entries, buttons and hints.

    ``title`` is a short heading ("Results for “lesion” — page 1 of 3"); ``text`` blocks
    are paragraphs shown before the entries; ``footer`` comes after them. ``ephemeral``
    asks adapters that can (Discord) to show it only to the asker; ``silent`` asks for no
    notification sound (Telegram announcements).
    """

    title: str = ""
    text: tuple[str, ...] = ()
    entries: tuple[EntryView, ...] = ()
    buttons: tuple[Button, ...] = ()
    footer: str = ""
    ephemeral: bool = False
    silent: bool = False
    is_error: bool = False
    language: str = "en"
    page: Page | None = None
    kind: ReplyKind = ReplyKind.ANSWER
    suggestion: str | None = None
    """A search's "did you mean": chats show it as text and a button, a web page as a link."""

    @property
    def numbered(self) -> bool:
        """Whether entries carry numbers: a list of several, or any page of a paged reply."""
        return self.page is not None or len(self.entries) > 1

    @property
    def first_number(self) -> int:
        """The number of the first entry shown (1 unless this is a later page)."""
        return self.page.first if self.page is not None else 1
    files: tuple[Attachment, ...] = ()
    new_message: bool = False  # a button's answer that goes below, not in place of, the message (a /paper card)
    ping_role: str = ""
    """A role the adapter mentions with this message (Discord announcements); nothing else in it pings."""
    preview: bool = False
    """Whether the chat wants link previews under announcements (its ``/settings preview``)."""

    def plain_text(self) -> str:
        """A readable text form (console, logs, tests): every part, in order."""
        parts: list[str] = []
        if self.title:
            parts.append(self.title)
        parts.extend(self.text)
        for number, entry in enumerate(self.entries, self.first_number):
            head = f"{number}. " if self.numbered else ""
            lines = [head + entry.title + (f" ({entry.year})" if entry.year else "")]
            if entry.url:
                lines.append(f"   {entry.url}")
            if entry.section:
                lines.append(f"   in {entry.section_path}")
            if entry.tags:
                lines.append("   tags: " + ", ".join(entry.tags))
            if entry.code_url:
                lines.append(f"   code: {entry.code_url}")
            if entry.description:
                lines.append("   " + plain_segments(entry.parts))
            if entry.sources:
                lines.append("   from: " + ", ".join(entry.sources))
            lines.append(f"   id: {entry.id}")
            parts.append("\n".join(lines))
        if self.footer:
            parts.append(self.footer)
        if self.buttons:
            parts.append("  ".join(f"[{button.label}]" for button in self.buttons))
        parts.extend(f"(file: {attachment.filename}, {len(attachment.data)} bytes)" for attachment in self.files)
        return "\n\n".join(parts)
