"""``medbot check``: is the setup usable? Config, lists and synonyms, without starting anything.

An operator edits ``medbot.yaml`` or ``synonyms.yaml`` and wants to know before a restart
whether the bot will come up: this reads every part ``serve`` would read (the config with
each platform's section, each local list, the synonyms file) and prints one line per
problem, each naming the file. Nothing is fetched, indexed or written.
"""

from __future__ import annotations

import argparse
import sys

from bot.core.i18n import plural
from bot.run.cli_support import UsageError, print_json, settings

__all__ = ["cmd_check"]


def cmd_check(args: argparse.Namespace) -> int:
    """0 when config, lists and synonyms are fine; 2 with one line per problem otherwise."""
    from bot.core.synonyms import check_synonyms
    from index.parser import parse_file

    try:
        loaded = settings(args)
    except UsageError as exc:
        problems, report = [str(exc).removeprefix("medbot: ")], []
    else:
        problems, report = [], [f"config: {loaded.config_path or 'built-in defaults'}"]
        for source in loaded.sources:
            if source.path is None:
                report.append(f"list {source.name}: {source.url} (fetched by the watcher)")
                continue
            try:
                document = parse_file(source.path, source.name)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                problems.append(f"{source.path}: cannot read the list {source.name}: {exc}")
                continue
            report.append(f"list {source.name}: {plural('en', 'entry', len(document.entries))} in {source.path}")
            if not document.entries:
                problems.append(f"{source.path}: the list {source.name} has no entries")
        synonyms_problem = check_synonyms(loaded.synonyms_path)
        if synonyms_problem:
            problems.append(synonyms_problem)
        else:
            report.append(f"synonyms: {loaded.synonyms_path}")
    if args.json:
        print_json({"ok": not problems, "checked": report, "problems": problems})
    else:
        for line in report:
            print(line)
        for line in problems:
            print(f"medbot check: {line}", file=sys.stderr)
        print("ok" if not problems else f"{len(problems)} problem{'s' if len(problems) != 1 else ''}")
    return 0 if not problems else 2
