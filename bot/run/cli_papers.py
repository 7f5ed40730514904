"""The paper commands of the ``medbot`` CLI: show, export, enrich, linkcheck.

Registered by ``cli._build_parser`` through ``add_paper_commands``; each handler uses the
same core functions as the chat commands, so ``medbot show ID`` and ``/paper ID`` agree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bot.core.i18n import plural

__all__ = ["Deps", "add_paper_commands"]

Add = Callable[..., argparse.ArgumentParser]


@dataclass(frozen=True, slots=True)
class Deps:
    """What the handlers need from ``cli`` (passed in, so neither module imports the other at load)."""

    positive: Callable[[str], int]
    load_core: Callable[[argparse.Namespace], Any]
    settings: Callable[[argparse.Namespace], Any]
    usage_error: type[Exception]


def add_paper_commands(add: Add, deps: Deps) -> None:
    """Add the four subcommands with ``add(name, handler, help, json_flag=...)`` from ``cli``."""
    show = add("show", partial(_cmd_show, deps), "one entry in full: authors, abstract, links and their health, provenance")
    show.add_argument("ref", metavar="ID", help="an entry id, one of its links, an arXiv id, DOI, PMID or PMCID")
    export = add("export", partial(_cmd_export, deps), "entries as a BibTeX, CSV or RIS file", json_flag=False)
    export.add_argument("selection", nargs="+", metavar="WHAT", help="search words, topic:NAME or new:DAYS")
    export.add_argument("--format", choices=("bibtex", "csv", "ris"), default="bibtex")
    export.add_argument("--output", metavar="FILE", help="file to write (default: stdout)")
    enrich = add("enrich", partial(_cmd_enrich, deps), "fetch metadata from arXiv, Crossref, PubMed and GitHub (one round)", json_flag=False)
    enrich.add_argument("--limit", type=deps.positive, help="at most N identifiers per service")
    linkcheck = add("linkcheck", partial(_cmd_linkcheck, deps), "check every entry's links once (HEAD, then GET)", json_flag=False)
    linkcheck.add_argument("--limit", type=deps.positive, help="at most N links")


def _cmd_show(deps: Deps, args: argparse.Namespace) -> int:
    from bot.core.commands.papers import find_entry
    from bot.core.paper_card import paper_reply
    from bot.core.paper_info import gather_infos

    core = deps.load_core(args)
    hit = find_entry(core.index, args.ref)
    if hit is None:
        raise deps.usage_error(f"medbot: no entry with id, link or identifier {args.ref!r}")
    [info] = gather_infos(core.store, [(hit.entry, hit.sources)])
    if args.json:
        data = hit.entry.to_json()
        data.update({
            "sources": list(hit.sources), "authors": list(info.authors), "venue": info.venue, "year": info.year,
            "abstract": info.abstract, "metadata": [meta.to_json() for meta in info.metas],
            "links_checked": {url: {"status": s.status, "dead": s.dead, "moved_to": s.final_url, "checked_at": s.checked_at.isoformat()}
                              for url, s in info.links.items()},
            "provenance": info.provenance.describe() if info.provenance else None,
            "first_seen": info.first_seen.when.isoformat() if info.first_seen else None,
        })
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    reply = paper_reply(info, {source.name: source.url for source in core.settings.sources})
    print(reply.plain_text())
    return 0


def _cmd_export(deps: Deps, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from bot.core.commands.papers import EXPORT_LIMIT, collect_for_export, parse_days
    from bot.core.export import export
    from bot.core.paper_info import gather_infos

    core = deps.load_core(args)
    selection = " ".join(args.selection)
    try:
        days = parse_days(selection)
    except ValueError:
        raise deps.usage_error("medbot: new:DAYS takes a number of days from 1 to 365") from None
    if days is not None:
        logged = core.store.recent_new_entries(datetime.now(UTC) - timedelta(days=days), EXPORT_LIMIT) if core.store else []
        items = [(item.entry, item.sources) for item in logged]
    else:
        items = collect_for_export(core.index, selection, EXPORT_LIMIT)
    data = export(gather_infos(core.store, items, detail=False), args.format)
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"{plural('en', 'entry', len(items))} written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def _cmd_enrich(deps: Deps, args: argparse.Namespace) -> int:
    from bot.watch.enrich import enrich_main

    settings = deps.settings(args)
    if not settings.enrich.enabled:
        print("enrichment is turned off (enrich: false)")
        return 0
    report = asyncio.run(enrich_main(settings, limit=args.limit))
    print(report.line())
    return 0


def _cmd_linkcheck(deps: Deps, args: argparse.Namespace) -> int:
    from bot.watch.linkcheck import linkcheck_main

    settings = deps.settings(args)
    if not settings.linkcheck.enabled:
        print("link checking is turned off (linkcheck: false)")
        return 0
    report = asyncio.run(linkcheck_main(settings, limit=args.limit))
    print(report.line())
    return 0
