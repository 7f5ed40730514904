"""``medbot migrate``: bring the state's schema up to date, or copy a whole state elsewhere.

Plain ``medbot migrate`` applies the migrations the configured state (``state.url`` or
the data dir's SQLite file) lacks; every start does the same, so this is for an
operator who upgrades workers one by one (migrate first, then restart them). With
``--from`` and ``--to`` it copies a lab's SQLite state into an empty PostgreSQL
database (or any state into any empty one).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.run.cli_support import UsageError, print_json, settings

if TYPE_CHECKING:
    from bot.store.database import Database

__all__ = ["add_state_commands", "cmd_migrate"]


def add_state_commands(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--from", dest="source", metavar="URL", help="copy this state (sqlite:///path or postgresql://…)")
    sub.add_argument("--to", dest="target", metavar="URL", help="into this empty state (with --from)")


def cmd_migrate(args: argparse.Namespace) -> int:
    from bot.store.copy import CopyError, copy_state

    if bool(args.source) != bool(args.target):
        raise UsageError("medbot migrate: --from and --to go together")
    if not args.source:
        with _open(settings(args).state_url) as store:
            applied = store.migrate()  # opening already migrated; this reports the version
            version = store.schema_version
            where = store.engine.describe()
        if args.json:
            print_json({"state": where, "schema_version": version, "applied": applied})
        else:
            print(f"{where}: schema version {version}" + (f" (applied {', '.join(map(str, applied))})" if applied else " (up to date)"))
        return 0
    with _open(args.source) as source, _open(args.target) as target:
        try:
            copied = copy_state(source, target)
        except CopyError as exc:
            raise UsageError(f"medbot migrate: {exc}") from None
        where = f"{source.engine.describe()} -> {target.engine.describe()}"
    if args.json:
        print_json({"copied": copied})
    else:
        print(f"copied {where}")
        for table, count in copied.items():
            print(f"  {table}: {count} row{'s' if count != 1 else ''}")
    return 0


def _open(target: str) -> Database:
    from bot.store.database import StoreVersionError
    from bot.store.engine import StateUnavailable
    from bot.store.sqlite import Store

    try:
        return Store(target)
    except StoreVersionError as exc:
        raise UsageError(f"medbot: {exc}") from None
    except StateUnavailable as exc:
        raise UsageError(f"medbot: {exc}") from None
    except Exception as exc:  # an unreachable server, a refused password: one line, never the URL's secret
        raise UsageError(f"medbot: cannot open the state: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
