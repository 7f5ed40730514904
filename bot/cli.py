"""The ``medbot`` command line (argparse). The composition root: only here, in
``bot/service.py`` and in ``bot/watcher.py``'s ``watch_main`` (its senders) are adapters
imported, lazily, inside the command that needs them, so ``medbot search`` never pays
for importing a platform library.

Exit codes: 0 on success (an empty result is a success), 2 on a usage error with a
one-line message on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot import __version__

if TYPE_CHECKING:
    from bot.core import MedBot

__all__ = ["main"]


class UsageError(Exception):
    """A problem with how medbot was called: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, as the contract says
        raise UsageError(f"{self.prog}: {message}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        long_running = getattr(args, "command", None) in {"serve", "watch"}
        _configure_logging(max(args.verbose, 1) if long_running else args.verbose)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(str(exc).splitlines()[0] if str(exc) else "medbot: usage error", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("medbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # an unusable data dir or output path, whichever command met it
        where = f": {exc.filename}" if exc.filename else ""
        print(f"medbot: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2


# --- argument parser -------------------------------------------------------------------


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="medbot", description="Research resources from awesome lists, in your chats.")
    parser.add_argument("--config", metavar="FILE", help="config file (env MEDBOT_CONFIG; default: bundled lists)")
    parser.add_argument("--data-dir", metavar="DIR", help="where the index and state live (env MEDBOT_DATA_DIR)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("--version", action="version", version=f"medbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str, json_flag: bool = True) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        if json_flag:
            command.add_argument("--json", action="store_true", help="print JSON")
        return command

    search = add("search", _cmd_search, "ranked entries for a query")
    search.add_argument("query", nargs="+", help="words; use -- before a query starting with '-'")
    search.add_argument("--limit", type=_positive, default=10, help="results per page (default 10)")
    search.add_argument("--page", type=_positive, default=1)
    search.add_argument("--source", metavar="NAME", help="only this list")

    add("topics", _cmd_topics, "the section tree with entry counts")
    topic = add("topic", _cmd_topic, "entries of the best-matching section")
    topic.add_argument("name", nargs="+")
    topic.add_argument("--limit", type=_positive, default=20)
    topic.add_argument("--page", type=_positive, default=1)

    random_cmd = add("random", _cmd_random, "one random entry")
    random_cmd.add_argument("--topic", metavar="NAME")

    new = add("new", _cmd_new, "entries the watcher found, newest first")
    new.add_argument("--days", type=_positive, default=30)
    new.add_argument("--limit", type=_positive, default=20)

    similar = add("similar", _cmd_similar, "entries like the given one")
    similar.add_argument("ref", metavar="ID_OR_URL")
    similar.add_argument("--limit", type=_positive, default=5)

    parse = add("parse", _cmd_parse, "parse an awesome-list file")
    parse.add_argument("file")
    diff = add("diff", _cmd_diff, "entries added, removed and changed between two files")
    diff.add_argument("old")
    diff.add_argument("new")

    index = add("index", _cmd_index, "build or update the index of the configured sources", json_flag=False)
    index.add_argument("--rebuild", action="store_true", help="rebuild from scratch")

    add("sources", _cmd_sources, "configured lists: entries, last poll, last change")
    watch = add("watch", _cmd_watch, "poll upstream, log new entries, deliver announcements", json_flag=False)
    watch.add_argument("--once", action="store_true", help="one poll and delivery, then exit")
    feed = add("feed", _cmd_feed, "write an Atom feed of new entries", json_flag=False)
    feed.add_argument("--output", metavar="FILE", help="file to write (default: stdout)")
    add("serve", _cmd_serve, "run Telegram and/or Discord (whichever tokens are set) plus the watcher", json_flag=False)
    add("chat", _cmd_chat, "console chat: type /search ... lines, read replies", json_flag=False)
    bench = add("bench", _cmd_bench, "measure speed and memory")
    bench.add_argument("--corpus", metavar="DIR", help="extra lists to load (default: ../shared/corpus/lists if present)")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value < 1 or value > 100_000:
        raise argparse.ArgumentTypeError(f"expected a number from 1 to 100000, got {value}")
    return value


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)


# --- helpers ---------------------------------------------------------------------------


def _load_core(args: argparse.Namespace) -> MedBot:
    from bot.config import ConfigError
    from bot.core import MedBot

    try:
        return MedBot.load(args.config, args.data_dir, progress=None)
    except ConfigError as exc:
        raise UsageError(f"medbot: {exc}") from None
    except OSError as exc:
        raise UsageError(f"medbot: cannot use the data dir: {exc}") from None


def _settings(args: argparse.Namespace) -> Any:
    from bot.config import ConfigError, load_settings

    try:
        return load_settings(args.config, args.data_dir)
    except ConfigError as exc:
        raise UsageError(f"medbot: {exc}") from None


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _hit_json(hit: Any) -> dict[str, Any]:
    data = hit.entry.to_json()
    data["score"] = round(hit.score, 4) if hit.score is not None else None
    data["sources"] = list(hit.sources)
    return data


def _hit_text(number: int, hit: Any) -> str:
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
    lines.append(f"   from: {', '.join(hit.sources)}   id: {entry.id}")
    return "\n".join(lines)


def _read_document(path_text: str) -> Any:
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


# --- commands --------------------------------------------------------------------------


def _cmd_search(args: argparse.Namespace) -> int:
    core = _load_core(args)
    query = " ".join(args.query)
    result = core.index.search(query, page=args.page, per_page=args.limit, source=args.source)
    if args.json:
        _print_json(
            {
                "query": query,
                "total": result.total,
                "page": result.page,
                "pages": result.pages,
                "suggestion": result.suggestion,
                "fuzzy": result.fuzzy,
                "results": [_hit_json(hit) for hit in result.hits],
            }
        )
        return 0
    if not result.hits:
        print(f"Nothing found for “{query}”." + (f" Did you mean “{result.suggestion}”?" if result.suggestion else ""))
        return 0
    first = (result.page - 1) * result.per_page + 1
    print(f"{result.total} results for “{query}” (page {result.page} of {result.pages})")
    if result.suggestion:
        print(f"Did you mean “{result.suggestion}”?")
    for number, hit in enumerate(result.hits, first):
        print(_hit_text(number, hit))
    return 0


def _topic_json(node: Any) -> dict[str, Any]:
    return {"name": node.name, "path": list(node.path), "count": node.count, "children": [_topic_json(c) for c in node.children]}


def _cmd_topics(args: argparse.Namespace) -> int:
    core = _load_core(args)
    nodes = core.index.topics()
    if args.json:
        _print_json([_topic_json(node) for node in nodes])
        return 0

    def show(node: Any, depth: int) -> None:
        print(f"{'  ' * depth}{node.name} ({node.count})")
        for child in node.children:
            show(child, depth + 1)

    for node in nodes:
        show(node, 0)
    return 0


def _cmd_topic(args: argparse.Namespace) -> int:
    from bot.handlers import resolve_topic

    core = _load_core(args)
    name = " ".join(args.name)
    path = resolve_topic(core.index, name)
    if path is None:
        if args.json:
            _print_json({"name": name, "topic": None, "total": 0, "results": []})
        else:
            print(f"No topic matches “{name}”. See `medbot topics`.")
        return 0
    result = core.index.topic_entries(path, page=args.page, per_page=args.limit)
    if args.json:
        _print_json({"name": name, "topic": list(path), "total": result.total, "page": result.page, "results": [_hit_json(h) for h in result.hits]})
        return 0
    print(f"{' › '.join(path)}: {result.total} entries (page {result.page} of {max(result.pages, 1)})")
    first = (result.page - 1) * result.per_page + 1
    for number, hit in enumerate(result.hits, first):
        print(_hit_text(number, hit))
    return 0


def _cmd_random(args: argparse.Namespace) -> int:
    from bot.handlers import resolve_topic

    core = _load_core(args)
    topic_path = None
    if args.topic:
        topic_path = resolve_topic(core.index, args.topic)
        if topic_path is None:
            raise UsageError(f"medbot: no topic matches {args.topic!r} (see `medbot topics`)")
    hit = core.index.random(" › ".join(topic_path) if topic_path else None)
    if args.json:
        _print_json(_hit_json(hit) if hit else None)
    elif hit is None:
        print("No entries are indexed.")
    else:
        print(_hit_text(1, hit))
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    core = _load_core(args)
    logged = []
    if core.store is not None:
        logged = core.store.recent_new_entries(datetime.now(UTC) - timedelta(days=args.days), args.limit)
    if args.json:
        rows = []
        for item in logged:
            data = item.entry.to_json()
            data["sources"] = list(item.sources)
            data["first_seen"] = item.first_seen.isoformat()
            rows.append(data)
        _print_json(rows)
        return 0
    if not logged:
        print(f"No new entries recorded in the last {args.days} days (the watcher records entries added upstream after its first poll).")
        return 0
    for item in logged:
        print(f"{item.first_seen:%Y-%m-%d}  {item.entry.title}\n            {item.entry.url or ''}  [{', '.join(item.sources)}]")
    return 0


def _cmd_similar(args: argparse.Namespace) -> int:
    core = _load_core(args)
    hit = core.index.get(args.ref)
    if hit is None:
        raise UsageError(f"medbot: no entry with id or link {args.ref!r}")
    hits = core.index.similar(args.ref, limit=args.limit)
    if args.json:
        _print_json({"entry": _hit_json(hit), "results": [_hit_json(h) for h in hits]})
        return 0
    print(f"Similar to “{hit.entry.title}”:")
    for number, similar_hit in enumerate(hits, 1):
        print(_hit_text(number, similar_hit))
    return 0


def _cmd_parse(args: argparse.Namespace) -> int:
    from index.diff import format_document

    document = _read_document(args.file)
    if args.json:
        _print_json(document.to_json())
    else:
        print(format_document(document))
    for warning in document.warnings:
        print(f"medbot: warning: {warning}", file=sys.stderr)
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from index.diff import diff, format_diff

    old = _read_document(args.old)
    new = _read_document(args.new)
    changes = diff(old, new)
    if args.json:
        _print_json(changes.to_json())
    else:
        print(format_diff(changes))
    return 0


def _cmd_index(args: argparse.Namespace) -> int:
    from bot.config import ConfigError
    from bot.core import MedBot

    try:
        core = MedBot.load(args.config, args.data_dir, sync=False)
    except ConfigError as exc:
        raise UsageError(f"medbot: {exc}") from None
    report = core.sync(rebuild=args.rebuild, progress=None)
    core.index.embed(progress=sys.stderr.isatty())
    what = "rebuilt" if report.rebuilt else "updated"
    changed = list(report.added_sources) + list(report.updated_sources)
    print(
        f"index {what}: {report.entries} entries from {len(core.settings.sources)} lists in {report.seconds:.2f}s"
        + (f"; re-indexed: {_names(changed)}" if changed else "; nothing changed")
        + (f"; dropped: {_names(list(report.removed_sources))}" if report.removed_sources else "")
    )
    return 0


def _iso(value: Any) -> str | None:
    """Timestamps as ISO 8601 in UTC to the second (JSON and text alike)."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="seconds"))
    return str(value)


def _names(names: list[str], shown: int = 8) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def _cmd_sources(args: argparse.Namespace) -> int:
    core = _load_core(args)
    counts = core.index.source_counts()
    states = core.store.source_states() if core.store is not None else {}
    rows = []
    for source in core.settings.sources:
        state = states.get(source.name)
        rows.append(
            {
                "name": source.name,
                "url": source.url,
                "path": str(source.path) if source.path else None,
                "entries": counts.get(source.name, 0),
                "last_poll": _iso(state.last_poll if state else None),
                "last_change": _iso(state.last_change if state else None),
                "failures": state.failures if state else 0,
            }
        )
    if args.json:
        _print_json(rows)
        return 0
    for row in rows:
        print(f"{row['name']}: {row['entries']} entries; last poll {row['last_poll'] or 'never'}; "
              f"last change {row['last_change'] or 'never'}; failures {row['failures']}")
        print(f"    {row['url'] or row['path']}")
    return 0


def _cmd_watch(args: argparse.Namespace) -> int:
    import asyncio

    from bot.watcher import watch_main

    return int(asyncio.run(watch_main(_settings(args), once=args.once)) or 0)


def _cmd_feed(args: argparse.Namespace) -> int:
    from bot.feed import feed_main

    try:
        return int(feed_main(_settings(args), args.output) or 0)
    except OSError as exc:  # a missing or read-only output directory
        raise UsageError(f"medbot: cannot write the feed to {args.output}: {exc.strerror or exc}") from None


def _cmd_serve(args: argparse.Namespace) -> int:
    from bot.service import serve

    return int(serve(args.config, args.data_dir) or 0)


def _cmd_chat(args: argparse.Namespace) -> int:
    from adapters.console import run_console

    core = _load_core(args)
    return run_console(core, sys.stdin, sys.stdout)


def _cmd_bench(args: argparse.Namespace) -> int:
    try:
        from benchmarks.run import bench_main
    except ImportError:
        raise UsageError("medbot: benchmarks are not available in this build") from None
    return int(bench_main(args) or 0)
