"""Pieces the commands share: page size, usage errors, page buttons and page numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.i18n import t
from bot.core.replies import Button, Page, UserError

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from index.search import SearchResult

__all__ = ["PER_PAGE", "page_buttons", "page_of", "usage_error"]

PER_PAGE = 5


def usage_error(core: MedBot, name: str, lang: str) -> UserError:
    """The usage line (and example) of ``/name``: what a user sees after a malformed call."""
    spec = core.registry[name]
    parts = [t(lang, "usage", usage=spec.usage)]
    if spec.example:
        parts.append(t(lang, "example", example=spec.example))
    return UserError("\n".join(parts))


def page_of(result: SearchResult) -> Page:
    first = (result.page - 1) * result.per_page + 1
    return Page(number=result.page, pages=max(result.pages, 1), first=first, total=result.total)


def page_buttons(core: MedBot, kind: str, argument: str, page: Page, lang: str) -> tuple[Button, ...]:
    """‹ Previous / Next › for a paged reply; each payload names the pager of ``kind``."""
    buttons = []
    if page.number > 1:
        buttons.append(Button(t(lang, "prev"), core.payload(kind, argument, page.number - 1)))
    if page.number < page.pages:
        buttons.append(Button(t(lang, "next"), core.payload(kind, argument, page.number + 1)))
    return tuple(buttons)
