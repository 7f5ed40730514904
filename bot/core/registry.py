"""One command registry: parsing "/cmd@botname args", dispatch, usage and help text.

A command is a coroutine function tagged with ``@command``; its docstring's first line is
its help text, and the adapters build their menus (Telegram ``setMyCommands``, Discord
slash commands, the console's /help) from the same specs, so a command exists
everywhere or nowhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.core.replies import Reply

if TYPE_CHECKING:
    from bot.app import Context

__all__ = ["ArgSpec", "CommandSpec", "ParsedCommand", "command", "parse_command", "REGISTRY"]

Handler = Callable[[Any, str, "Context"], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class ArgSpec:
    """The one free-text argument a command takes (slash-command option on Discord)."""

    name: str
    description: str
    required: bool = False
    kind: str = "text"  # text | integer
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

    def describe(self, lang: str = "en") -> str:
        return self.summary_zh if lang == "zh" and self.summary_zh else self.summary


REGISTRY: dict[str, CommandSpec] = {}


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
) -> Callable[[Handler], Handler]:
    """Register a command; the docstring's first line becomes its English help text."""

    def register(handler: Handler) -> Handler:
        doc = (handler.__doc__ or "").strip()
        if not doc:
            raise ValueError(f"command /{name} needs a docstring: it is the help text")
        summary = doc.splitlines()[0].strip().rstrip(".")
        spec = CommandSpec(name, handler, summary, zh, usage, example, arg, admin_only, hidden)
        REGISTRY[name] = spec
        for alias in aliases:
            REGISTRY[alias] = CommandSpec(alias, handler, summary, zh, usage, example, arg, admin_only, hidden=True)
        return handler

    return register


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
