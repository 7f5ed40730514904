"""What the CLI commands share: loading the core, JSON and text forms, usage errors."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.settings import Settings
    from index.search import Hit

__all__ = ["UsageError", "hit_json", "hit_text", "iso", "load_core", "names", "print_json", "read_document", "settings"]


class UsageError(Exception):
    """A problem with how medbot was called: one line on stderr, exit status 2."""


def load_core(args: argparse.Namespace, *, sync: bool = True) -> MedBot:
    """The core for a one-shot command: settings checked, store and index opened."""
    from bot.core.bot import MedBot

    try:
        return MedBot.load(settings=settings(args), sync=sync, progress=None)
    except OSError as exc:
        raise UsageError(f"medbot: cannot use the data dir: {exc}") from None


def settings(args: argparse.Namespace) -> Settings:
    """The settings with every registered platform's section checked."""
    from bot.core.settings import ConfigError
    from bot.run.platforms import load

    try:
        return load(args.config, args.data_dir)
    except ConfigError as exc:
        raise UsageError(f"medbot: {exc}") from None


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def hit_json(hit: Hit) -> dict[str, Any]:
    data: dict[str, Any] = hit.entry.to_json()
    data["score"] = round(hit.score, 4) if hit.score is not None else None
    data["sources"] = list(hit.sources)
    return data


def hit_text(number: int, hit: Hit) -> str:
    entry = hit.entry
    lines = [f"{number}. {entry.title}" + (f" ({entry.year})" if entry.year else "")]
    if entry.url:
        lines.append(f"   {entry.url}")
    if entry.section:
        lines.append("   in " + " › ".join(entry.section))
    if entry.tags:
        lines.append("   tags: " + ", ".join(entry.tags))
    if entry.code_url:
        lines.append(f"   code: {entry.code_url}")
    if entry.description:
        from bot.core.segments import plain_segments
        from bot.core.views import view_of

        lines.append("   " + plain_segments(view_of(entry).parts))
    lines.append(f"   from: {', '.join(hit.sources)}   id: {entry.id}")
    return "\n".join(lines)


def read_document(path_text: str) -> Any:
    from pathlib import Path

    from index.parser import parse_bytes

    path = Path(path_text)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"medbot: no such file: {path_text}") from None
    except IsADirectoryError:
        raise UsageError(f"medbot: {path_text} is a directory, not a list file") from None
    except OSError as exc:
        raise UsageError(f"medbot: cannot read {path_text}: {exc.strerror or exc}") from None
    return parse_bytes(data, source=path.stem)


def iso(value: Any) -> str | None:
    """Timestamps as ISO 8601 in UTC to the second (JSON and text alike)."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="seconds"))
    return str(value)


def names(names: list[str], shown: int = 8) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


