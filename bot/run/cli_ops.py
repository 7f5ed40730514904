"""The CLI's operator commands: parse, diff, index, sources, watch, feed, serve, chat, bench."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from bot.core.i18n import plural
from bot.run.cli_support import UsageError, iso, load_core, names, print_json, read_document, settings

__all__ = ["cmd_bench", "cmd_chat", "cmd_diff", "cmd_feed", "cmd_index", "cmd_parse", "cmd_serve", "cmd_sources", "cmd_watch", "cmd_web"]


def cmd_parse(args: argparse.Namespace) -> int:
    from index.diff import format_document

    document = read_document(args.file)
    if args.json:
        print_json(document.to_json())
    else:
        print(format_document(document))
    for warning in document.warnings:
        print(f"medbot: warning: {warning}", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from index.diff import diff, format_diff

    old = read_document(args.old)
    new = read_document(args.new)
    changes = diff(old, new)
    if args.json:
        print_json(changes.to_json())
    else:
        print(format_diff(changes))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    core = load_core(args, sync=False)
    report = core.sync(rebuild=args.rebuild, progress=None)
    core.index.embed(progress=sys.stderr.isatty())
    what = "rebuilt" if report.rebuilt else "updated"
    changed = list(report.added_sources) + list(report.updated_sources)
    print(
        f"index {what}: {plural('en', 'entry', report.entries)} from {plural('en', 'list', len(core.settings.sources))} in {report.seconds:.2f}s"
        + (f"; re-indexed: {names(changed)}" if changed else "; nothing changed")
        + (f"; dropped: {names(list(report.removed_sources))}" if report.removed_sources else "")
    )
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from bot.store.poll_states import PollState, state_of

    core = load_core(args)
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
                "last_poll": iso(state.last_poll if state else None),
                "last_change": iso(state.last_change if state else None),
                "failures": state.failures if state else 0,
                "state": str(state_of(state) if state else PollState.NEW),
                "next_poll": iso(state.next_poll if state else None),
                "last_error": state.last_error if state else None,
            }
        )
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        print(f"{row['name']}: {row['state']}; {plural('en', 'entry', int(row['entries'] or 0))}; last poll {row['last_poll'] or 'never'}; "
              f"last change {row['last_change'] or 'never'}; failures {row['failures']}; "
              f"next poll {row['next_poll'] or 'when due'}")
        if row["last_error"]:
            print(f"    last error: {row['last_error']}")
        print(f"    {row['url'] or row['path']}")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    import asyncio

    from bot.run.watching import watch_main

    if (args.force or args.source) and not args.once:
        raise UsageError("medbot watch: --force and --source go with --once")
    chosen = settings(args)
    if args.source:
        names_known = [source.name for source in chosen.sources]
        if args.source not in names_known:
            raise UsageError(f"medbot watch: no source named {args.source!r} (sources: {', '.join(names_known) or 'none'})")
        chosen = dataclasses.replace(chosen, sources=tuple(s for s in chosen.sources if s.name == args.source))
    if args.once:  # a cron run beside serve is safe: outbox rows are claimed, never sent twice
        return int(asyncio.run(watch_main(chosen, once=True, force=args.force)) or 0)
    from bot.run.lock import DataDirBusy, hold_lock

    try:
        lock = hold_lock(chosen.data_dir)  # but two long-running watchers (or serve) would poll twice
    except DataDirBusy as exc:
        raise UsageError(str(exc)) from None
    with lock:
        return int(asyncio.run(watch_main(chosen, once=False, force=args.force)) or 0)


def cmd_feed(args: argparse.Namespace) -> int:
    from bot.core.feed import feed_main

    try:
        return int(feed_main(settings(args), args.output) or 0)
    except OSError as exc:  # a missing or read-only output directory
        raise UsageError(f"medbot: cannot write the feed to {args.output}: {exc.strerror or exc}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.run.service import serve

    return int(serve(args.config, args.data_dir) or 0)


def cmd_chat(args: argparse.Namespace) -> int:
    from adapters.console import run_console

    core = load_core(args)
    return run_console(core, sys.stdin, sys.stdout)


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        from benchmarks.run import bench_main
    except ImportError:
        raise UsageError("medbot: benchmarks are not available in this build") from None
    return int(bench_main(args) or 0)


def cmd_web(args: argparse.Namespace) -> int:
    from adapters.web.server import DEFAULT_PORT, web_main
    from adapters.web.settings import WebSettings

    core = load_core(args)
    options = core.settings.platform("web", WebSettings)
    port = args.port or options.port or DEFAULT_PORT
    if port > 65535:
        raise UsageError(f"medbot web: --port: expected a port number from 1 to 65535, got {port}")
    return web_main(core, args.host or options.host, port)
