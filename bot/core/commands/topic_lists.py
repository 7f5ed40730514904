"""``/topic`` with no name: the lists first, then one list's sections, each paged.

With dozens of lists, one merged tree of every section is thousands of lines that say
nothing of where a section comes from. So ``/topic`` shows the lists (one line each,
with its section and entry counts) and a button per list; a list's page shows its own
sections with a button each; a section opened from there shows that list's entries.

The pager ``t`` carries what is being browsed in its argument, so a button keeps working
after a restart: ``*`` the lists, ``L<list>`` a list's sections, ``<hash>@<list>`` a
section of one list, ``<hash>`` a section of the merged tree (what ``/topic NAME`` opens).
The chat's last browsed list is remembered for a while, so a typed ``/topic Datasets``
that several lists share means the one the user is looking at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.commands.common import page_buttons
from bot.core.i18n import plural, t
from bot.core.paging import path_hash
from bot.core.replies import Button, Page, Reply

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context
    from index.search import TopicNode

__all__ = [
    "ALL_LISTS", "LIST_PREFIX", "ListInfo", "browsed_list", "indexed_lists", "list_sections_page", "lists_page",
    "remember_list", "section_lines",
]

ALL_LISTS = "*"
LIST_PREFIX = "L"
LISTS_PER_PAGE = 8
SECTIONS_PER_PAGE = 8
LABEL_CHARS = 28


@dataclass(frozen=True, slots=True)
class ListInfo:
    """One indexed list as ``/topic`` shows it: its sections (every level) and entries."""

    name: str
    sections: tuple[TopicNode, ...]
    entries: int


async def indexed_lists(core: MedBot) -> list[ListInfo]:
    """The lists that have sections, in the order the index knows them."""

    def read() -> list[ListInfo]:
        trees = core.index.source_topics()
        counts = core.index.source_counts()
        return [ListInfo(name, tuple(section_lines(roots)), counts.get(name, 0)) for name, roots in trees.items() if roots]

    return await core.run_index(read)


def section_lines(roots: tuple[TopicNode, ...]) -> list[TopicNode]:
    """A list's sections in reading order, every level (a child after its parent)."""
    flat: list[TopicNode] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        flat.append(node)
        stack.extend(reversed(node.children))
    return flat


def _page(total: int, per_page: int, page: int) -> tuple[Page, int]:
    pages = max(1, -(-total // per_page))
    number = max(1, min(page, pages))
    first = (number - 1) * per_page
    return Page(number=number, pages=pages, first=first + 1, total=total), first


def _label(number: int, name: str) -> str:
    text = f"{number}. {name}"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _choice_buttons(choices: list[tuple[str, str]], first: int) -> tuple[Button, ...]:
    """One button per choice, four to a row below the paging row (Discord takes five)."""
    return tuple(Button(_label(number, name), payload, row=1 + index // 4)
                 for index, (number, (name, payload)) in enumerate(enumerate(choices, first)))


async def lists_page(core: MedBot, page: int, ctx: Context) -> Reply:
    """Page ``page`` of the lists: one line per list with its counts, and a button to open it."""
    lists = await indexed_lists(core)
    if not lists:
        return Reply(text=(t(ctx.lang, "nothing_indexed"),), language=ctx.lang)
    where, start = _page(len(lists), LISTS_PER_PAGE, page)
    shown = lists[start:start + LISTS_PER_PAGE]
    lines = [
        f"{number}. {info.name} — {plural(ctx.lang, 'section', len(info.sections))}, {plural(ctx.lang, 'entry', info.entries)}"
        for number, info in enumerate(shown, where.first)
    ]
    sections = sum(len(info.sections) for info in lists)
    buttons = page_buttons(core, "topic", ALL_LISTS, where, ctx.lang) + _choice_buttons(
        [(info.name, core.payload("topic", LIST_PREFIX + info.name)) for info in shown], where.first)
    return Reply(
        title=t(ctx.lang, "lists_title", lists=plural(ctx.lang, "list", len(lists)), sections=plural(ctx.lang, "section", sections)),
        text=("\n".join(lines),),
        buttons=buttons,
        footer=t(ctx.lang, "lists_hint", example=shown[0].name),
        language=ctx.lang,
        page=where,
    )


async def list_sections_page(core: MedBot, name: str, page: int, ctx: Context) -> Reply:
    """Page ``page`` of one list's sections (indented by level), a button each, and "back to the lists"."""
    lists = await indexed_lists(core)
    info = next((item for item in lists if item.name == name), None)
    if info is None:
        return Reply(text=(t(ctx.lang, "stale_button"),), is_error=True, ephemeral=True, language=ctx.lang)
    remember_list(core, ctx, name)
    where, start = _page(len(info.sections), SECTIONS_PER_PAGE, page)
    shown = info.sections[start:start + SECTIONS_PER_PAGE]
    lines = [f"{number}. {'   ' * (len(node.path) - 1)}{node.name} ({node.count})" for number, node in enumerate(shown, where.first)]
    buttons = page_buttons(core, "topic", LIST_PREFIX + name, where, ctx.lang) + _choice_buttons(
        [(node.name, core.payload("topic", f"{path_hash(node.path)}@{name}")) for node in shown], where.first)
    back = Button(t(ctx.lang, "all_lists"), core.payload("topic", ALL_LISTS), row=0)
    return Reply(
        title=t(ctx.lang, "list_sections_title", name=name, sections=plural(ctx.lang, "section", len(info.sections)),
                entries=plural(ctx.lang, "entry", info.entries)),
        text=("\n".join(lines),),
        buttons=(*buttons, back),
        footer=t(ctx.lang, "list_sections_hint", example=shown[-1].name if shown else name),
        language=ctx.lang,
        page=where,
    )


def _chat(ctx: Context) -> tuple[str, str]:
    return (ctx.platform, ctx.chat_id)


def remember_list(core: MedBot, ctx: Context, name: str) -> None:
    core.browsing[_chat(ctx)] = name


def browsed_list(core: MedBot, ctx: Context) -> str | None:
    """The list this chat opened last (for a while), if any."""
    return core.browsing.get(_chat(ctx))
