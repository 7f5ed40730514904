"""The ``medbot`` command line (argparse). The composition root: only here, in
``bot/service.py`` and in ``bot/watcher.py``'s ``watch_main`` (its senders) are adapters
imported, lazily, inside the command that needs them, so ``medbot search`` never pays
for importing a platform library.

Exit codes: 0 on success (an empty result is a success), 2 on a usage error with a
one-line message on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.run.cli_browse import cmd_new, cmd_random, cmd_search, cmd_similar, cmd_topic, cmd_topics
from bot.run.cli_check import cmd_check
from bot.run.cli_deliveries import add_deliveries_command
from bot.run.cli_ops import cmd_bench, cmd_chat, cmd_diff, cmd_feed, cmd_index, cmd_parse, cmd_serve, cmd_sources, cmd_watch, cmd_web
from bot.run.cli_papers import Deps, add_paper_commands
from bot.run.cli_state import add_state_commands, cmd_migrate
from bot.run.cli_support import UsageError, load_core, settings
from bot.run.terminal import DisplayableStream
from bot.store.database import StoreVersionError
from bot.store.engine import StateUnavailable
from index.search_synonyms import SynonymsError

if TYPE_CHECKING:
    pass

__all__ = ["main"]



class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, as the contract says
        raise UsageError(f"{self.prog}: {message}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command with list text made harmless on the way to the terminal."""
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = DisplayableStream(stdout), DisplayableStream(stderr)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        long_running = getattr(args, "command", None) in {"serve", "watch", "web"}
        _configure_logging(max(args.verbose, 1) if long_running else args.verbose)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(str(exc).splitlines()[0] if str(exc) else "medbot: usage error", file=sys.stderr)
        return 2
    except SynonymsError as exc:  # a broken synonyms file: which file, which line, what
        print(f"medbot: {exc}", file=sys.stderr)
        return 2
    except (StoreVersionError, StateUnavailable) as exc:  # a newer medbot's state, an unreachable server
        print(f"medbot: {exc}", file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
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

    search = add("search", cmd_search, "ranked entries for a query")
    search.add_argument("query", nargs="+", help="words; use -- before a query starting with '-'")
    search.add_argument("--limit", type=_positive, default=10, help="results per page (default 10)")
    search.add_argument("--page", type=_positive, default=1)
    search.add_argument("--source", metavar="NAME", help="only this list")

    add("topics", cmd_topics, "the section tree with entry counts")
    topic = add("topic", cmd_topic, "entries of the best-matching section")
    topic.add_argument("name", nargs="+")
    topic.add_argument("--limit", type=_positive, default=20)
    topic.add_argument("--page", type=_positive, default=1)

    random_cmd = add("random", cmd_random, "one random entry")
    random_cmd.add_argument("--topic", metavar="NAME")

    new = add("new", cmd_new, "entries the watcher found, newest first")
    new.add_argument("--days", type=_days, default=30, help="how many days back, 1 to 365 as in chat (default 30)")
    new.add_argument("--limit", type=_positive, default=20)

    similar = add("similar", cmd_similar, "entries like the given one")
    similar.add_argument("ref", metavar="ID_OR_URL")
    similar.add_argument("--limit", type=_positive, default=5)

    parse = add("parse", cmd_parse, "parse an awesome-list file")
    parse.add_argument("file")
    diff = add("diff", cmd_diff, "entries added, removed and changed between two files")
    diff.add_argument("old")
    diff.add_argument("new")

    index = add("index", cmd_index, "build or update the index of the configured sources", json_flag=False)
    index.add_argument("--rebuild", action="store_true", help="rebuild from scratch")

    add("check", cmd_check, "check config, lists and synonyms without starting anything")
    add("sources", cmd_sources, "configured lists: entries, last poll, last change")
    add_deliveries_command(sub)
    watch = add("watch", cmd_watch, "poll upstream, log new entries, deliver announcements", json_flag=False)
    watch.add_argument("--once", action="store_true", help="one poll and delivery, then exit (1 if every due poll failed)")
    watch.add_argument("--force", action="store_true", help="with --once: poll now, ignoring backoff")
    watch.add_argument("--source", metavar="NAME", help="with --once: poll only this source")
    feed = add("feed", cmd_feed, "write an Atom feed of new entries", json_flag=False)
    feed.add_argument("--output", metavar="FILE", help="file to write (default: stdout)")
    add_state_commands(add("migrate", cmd_migrate, "apply the state's migrations, or copy a state (--from URL --to URL)"))
    add("serve", cmd_serve, "run Telegram and/or Discord (whichever tokens are set) plus the watcher", json_flag=False)
    add("chat", cmd_chat, "console chat: type /search ... lines, read replies", json_flag=False)
    web = add("web", cmd_web, "serve the web page: search, topics, entries, new entries, feed", json_flag=False)
    web.add_argument("--host", help="address to listen on (default: web.host, 127.0.0.1)")
    web.add_argument("--port", type=_positive, help="port to listen on (default: web.port, else 8080)")
    add_paper_commands(add, Deps(_positive, load_core, settings, UsageError))  # show, export, enrich, linkcheck
    bench = add("bench", cmd_bench, "measure speed and memory")
    bench.add_argument("--corpus", metavar="DIR", help="extra lists to load (default: ../shared/corpus/lists if present)")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    return parser


def _days(text: str) -> int:
    """``new --days``: the range ``/new`` accepts in chat, so both say the same."""
    from bot.core.commands.recent import MAX_DAYS

    value = _positive(text)
    if value > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to {MAX_DAYS}, got {value}")
    return value


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


