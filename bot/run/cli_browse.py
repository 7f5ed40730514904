"""The CLI's reading commands: search, topics, topic, random, new, similar."""

from __future__ import annotations

import argparse
from typing import Any

from bot.run.cli_support import UsageError, hit_json, hit_text, load_core, print_json

__all__ = ["cmd_new", "cmd_random", "cmd_search", "cmd_similar", "cmd_topic", "cmd_topics"]


def cmd_search(args: argparse.Namespace) -> int:
    core = load_core(args)
    query = " ".join(args.query)
    if args.source and args.source not in core.index.source_counts():
        known = ", ".join(sorted(core.index.source_counts())) or "none"
        raise UsageError(f"medbot: no source named {args.source!r} (sources: {known})")
    result = core.index.search(query, page=args.page, per_page=args.limit, source=args.source)
    if args.json:
        print_json(
            {
                "query": query,
                "total": result.total,
                "page": result.page,
                "pages": result.pages,
                "suggestion": result.suggestion,
                "fuzzy": result.fuzzy,
                "results": [hit_json(hit) for hit in result.hits],
            }
        )
        return 0
    if result.total and not result.hits:
        raise UsageError(f"medbot: page {args.page} is past the last page ({result.pages} of {result.total} {_results(result.total)})")
    if not result.hits:
        print(f"Nothing found for “{query}”." + (f" Did you mean “{result.suggestion}”?" if result.suggestion else ""))
        return 0
    first = (result.page - 1) * result.per_page + 1
    print(f"{result.total} {_results(result.total)} for “{query}” (page {result.page} of {result.pages})")
    if result.suggestion:
        print(f"Did you mean “{result.suggestion}”?")
    for number, hit in enumerate(result.hits, first):
        print(hit_text(number, hit))
    return 0


def _results(count: int) -> str:
    return "result" if count == 1 else "results"


def topic_json(node: Any) -> dict[str, Any]:
    return {"name": node.name, "path": list(node.path), "count": node.count, "children": [topic_json(c) for c in node.children]}


def cmd_topics(args: argparse.Namespace) -> int:
    core = load_core(args)
    nodes = core.index.topics()
    if args.json:
        print_json([topic_json(node) for node in nodes])
        return 0

    def show(node: Any, depth: int) -> None:
        print(f"{'  ' * depth}{node.name} ({node.count})")
        for child in node.children:
            show(child, depth + 1)

    for node in nodes:
        show(node, 0)
    return 0


def cmd_topic(args: argparse.Namespace) -> int:
    from bot.core.commands.browse import resolve_topic

    core = load_core(args)
    name = " ".join(args.name)
    path = resolve_topic(core.index, name)
    if path is None:
        raise UsageError(f"medbot: no topic matches {name!r} (see `medbot topics`)")
    result = core.index.topic_entries(path, page=args.page, per_page=args.limit)
    if args.json:
        print_json({"name": name, "topic": list(path), "total": result.total, "page": result.page, "results": [hit_json(h) for h in result.hits]})
        return 0
    print(f"{' › '.join(path)}: {result.total} {'entry' if result.total == 1 else 'entries'} (page {result.page} of {max(result.pages, 1)})")
    first = (result.page - 1) * result.per_page + 1
    for number, hit in enumerate(result.hits, first):
        print(hit_text(number, hit))
    return 0


def cmd_random(args: argparse.Namespace) -> int:
    from bot.core.commands.browse import resolve_topic

    core = load_core(args)
    topic_path = None
    if args.topic:
        topic_path = resolve_topic(core.index, args.topic)
        if topic_path is None:
            raise UsageError(f"medbot: no topic matches {args.topic!r} (see `medbot topics`)")
    hit = core.index.random(" › ".join(topic_path) if topic_path else None)
    if args.json:
        print_json(hit_json(hit) if hit else None)
    elif hit is None:
        print("No entries are indexed.")
    else:
        print(hit_text(1, hit))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    core = load_core(args)
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
        print_json(rows)
        return 0
    if not logged:
        print(f"No new entries recorded in the last {args.days} days (the watcher records entries added upstream after its first poll).")
        return 0
    for item in logged:
        print(f"{item.first_seen:%Y-%m-%d}  {item.entry.title}\n            {item.entry.url or ''}  [{', '.join(item.sources)}]")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    core = load_core(args)
    hit = core.index.get(args.ref)
    if hit is None:
        raise UsageError(f"medbot: no entry with id or link {args.ref!r}")
    hits = core.index.similar(args.ref, limit=args.limit)
    if args.json:
        print_json({"entry": hit_json(hit), "results": [hit_json(h) for h in hits]})
        return 0
    print(f"Similar to “{hit.entry.title}”:")
    for number, similar_hit in enumerate(hits, 1):
        print(hit_text(number, similar_hit))
    return 0


