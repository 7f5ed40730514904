"""The command registry: what each command is called, takes and says about itself.

A command is a coroutine function tagged with ``@command``; the tag only records a
``CommandSpec`` on the function, it registers nothing. ``bot/core/commands/__init__.py``
lists the commands explicitly and ``Registry`` is built from that list, so importing a
module never changes what the bot can do. Help text is the docstring's first line, and
the adapters build their menus (Telegram ``setMyCommands``, Discord slash commands, the
console's /help) from the same specs, so a command exists everywhere or nowhere.

A paged command also names its button: ``Pager`` ties a one-letter payload code to the
function that renders page N, so buttons, their payloads and their dispatch are one
table instead of three.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from bot.core.replies import Reply

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context

__all__ = [
    "ArgKind",
    "ArgSpec",
    "CommandSpec",
    "Handler",
    "PageHandler",
    "Pager",
    "ParsedCommand",
    "Registry",
    "clean_text",
    "command",
    "parse_command",
    "spec_of",
]


class Handler(Protocol):
    """``await handler(core, args, ctx)``: the reply to ``/name args``."""

    def __call__(self, core: MedBot, args: str, ctx: Context, /) -> Awaitable[Reply]: ...


PageHandler = Callable[["MedBot", str, int, "Context"], Awaitable[Reply]]
"""``await page(core, argument, page_number, ctx)``: the reply a pressed button stands for."""


class ArgKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """The one free-text argument a command takes (slash-command option on Discord)."""

    name: str
    description: str
    required: bool = False
    kind: ArgKind = ArgKind.TEXT
    autocomplete: str | None = None  # "topic" or "entry": what the adapter may offer


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    handler: Handler
    summary: str
    summary_zh: str
    usage: str
    example: str
    arg: ArgSpec | None = None
    admin_only: bool = False
    hidden: bool = False
    aliases: tuple[str, ...] = ()
    details: str = ""
    details_zh: str = ""
    admin_to_change: bool = False
    """Anyone may run it bare (``/settings`` lists); with arguments it changes the chat: admins only."""

    def needs_admin(self, args: str) -> bool:
        return self.admin_only or (self.admin_to_change and bool(args.strip()))

    def describe(self, lang: str = "en") -> str:
        return self.summary_zh if lang == "zh" and self.summary_zh else self.summary

    def explain(self, lang: str = "en") -> str:
        """The longer help (``/help search``): syntax and examples, when the command has any."""
        return self.details_zh if lang == "zh" and self.details_zh else self.details


@dataclass(frozen=True, slots=True)
class Pager:
    """A paged reply's button: its payload ``code`` and the function that renders page N."""

    kind: str
    code: str
    page: PageHandler


_SPEC_ATTRIBUTE = "__medbot_command__"


def command(
    name: str,
    *,
    zh: str,
    usage: str,
    example: str = "",
    arg: ArgSpec | None = None,
    admin_only: bool = False,
    hidden: bool = False,
    aliases: tuple[str, ...] = (),
    details: str = "",
    details_zh: str = "",
    admin_to_change: bool = False,
) -> Callable[[Handler], Handler]:
    """Tag a handler with its spec; the docstring's first line becomes its English help text."""

    def tag(handler: Handler) -> Handler:
        doc = (handler.__doc__ or "").strip()
        if not doc:
            raise ValueError(f"command /{name} needs a docstring: it is the help text")
        summary = doc.splitlines()[0].strip().rstrip(".")
        spec = CommandSpec(name, handler, summary, zh, usage, example, arg, admin_only, hidden, aliases, details, details_zh,
                           admin_to_change)
        setattr(handler, _SPEC_ATTRIBUTE, spec)
        return handler

    return tag


def spec_of(handler: Handler) -> CommandSpec:
    spec = getattr(handler, _SPEC_ATTRIBUTE, None)
    if not isinstance(spec, CommandSpec):
        raise TypeError(f"{getattr(handler, '__name__', handler)!r} is not tagged with @command")
    return spec


class Registry:
    """The commands and pagers one core answers, by name and by payload code."""

    def __init__(self, handlers: Iterable[Handler], pagers: Iterable[Pager] = ()) -> None:
        self._by_name: dict[str, CommandSpec] = {}
        self._visible: list[CommandSpec] = []
        for handler in handlers:
            spec = spec_of(handler)
            self._add(spec.name, spec)
            if not spec.hidden:
                self._visible.append(spec)
            for alias in spec.aliases:
                self._add(alias, replace(spec, name=alias, hidden=True, aliases=()))
        self._pagers_by_kind = {pager.kind: pager for pager in pagers}
        self._pagers_by_code = {pager.code: pager for pager in self._pagers_by_kind.values()}
        if len(self._pagers_by_code) != len(self._pagers_by_kind) or any(len(code) != 1 or not code.islower() for code in self._pagers_by_code):
            raise ValueError("each pager needs its own one-letter lower-case code")

    def _add(self, name: str, spec: CommandSpec) -> None:
        if name in self._by_name:
            raise ValueError(f"/{name} is registered twice")
        self._by_name[name] = spec

    @property
    def visible(self) -> list[CommandSpec]:
        """Every command a user sees, in the order of the explicit list."""
        return list(self._visible)

    def get(self, name: str) -> CommandSpec | None:
        return self._by_name.get(name.lower())

    def __getitem__(self, name: str) -> CommandSpec:
        return self._by_name[name]

    def pager(self, kind: str) -> Pager:
        return self._pagers_by_kind[kind]

    def pager_for_code(self, code: str) -> Pager | None:
        return self._pagers_by_code.get(code)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    name: str
    args: str
    addressee: str | None


_COMMAND = re.compile(r"^[/!](?P<name>[A-Za-z0-9_]{1,64})(?:@(?P<bot>[A-Za-z0-9_]{1,64}))?(?=\s|$)(?P<rest>.*)$", re.S)
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn"}


def clean_text(text: str, limit: int = 1000) -> str:
    """User text made safe to process: controls and invisible marks gone, bounded length."""
    cleaned = "".join(
        " " if ch in "\t\r\n" else ch for ch in text if ch in "\t\r\n" or unicodedata.category(ch) not in _INVISIBLE
    )
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    return cleaned[:limit]


def parse_command(text: str) -> ParsedCommand | None:
    """``/Search@MedBot  lesion`` -> ("search", "lesion", "MedBot"); None if not a command."""
    stripped = clean_text(text, limit=10_000)
    match = _COMMAND.match(stripped)
    if not match:
        return None
    return ParsedCommand(match["name"].lower(), match["rest"].strip(), match["bot"])
