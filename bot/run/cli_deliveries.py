"""``medbot deliveries``: the outbox as an operator reads it, with states and last errors.

Reads the state file directly (no index is opened), so it answers at once even while
``serve`` runs. ``--since`` takes a date (2026-03-01), a moment in ISO form, or a span
back from now (``12h``, ``7d``); ``--chat`` a chat id, optionally ``platform:chat``.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

from bot.run.cli_support import UsageError, iso, print_json, settings

__all__ = ["add_deliveries_command", "cmd_deliveries", "read_since"]

_SPAN = re.compile(r"^(\d{1,5})\s*([hd])$", re.I)


def read_since(text: str, now: datetime) -> datetime:
    """``12h`` / ``7d`` back from ``now``, or an ISO date or moment (UTC when it names no zone)."""
    span = _SPAN.match(text.strip())
    if span:
        amount = int(span.group(1))
        return now - (timedelta(hours=amount) if span.group(2).lower() == "h" else timedelta(days=amount))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"medbot deliveries: --since takes 12h, 7d or a date like 2026-03-01, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_deliveries(args: argparse.Namespace) -> int:
    from bot.store.sqlite import Store

    platform, chat = None, args.chat
    if chat and ":" in chat and not chat.startswith("-"):
        platform, chat = chat.split(":", 1)
    since = read_since(args.since, datetime.now(UTC)) if args.since else None
    path = settings(args).state_path
    if not path.exists():
        print("no state file yet: the watcher has not run here")
        return 0
    with Store(path) as store:
        rows = store.deliveries(platform=platform, chat=chat, since=since, limit=args.limit)
    if args.json:
        print_json([
            {"id": row.id, "platform": row.platform, "chat": row.chat, "thread": row.thread or None, "entry": row.entry_id,
             "title": row.title, "subscription": row.subscription_id, "state": row.state.value, "attempts": row.attempts,
             "next_try": iso(row.next_try), "due": iso(row.due), "sent_at": iso(row.sent_at), "last_error": row.last_error}
            for row in rows
        ])
        return 0
    if not rows:
        print("no deliveries match")
    for row in rows:
        where = f"{row.platform}:{row.chat}" + (f" thread {row.thread}" if row.thread else "")
        when = iso(row.sent_at) if row.sent_at else (f"due {iso(row.due)}" if row.due else f"next try {iso(row.next_try)}")
        print(f"#{row.id} {row.state.value:9} {where}  {row.entry_id} {row.title[:60]!s}  (sub #{row.subscription_id}, "
              f"{row.attempts} attempt{'s' if row.attempts != 1 else ''}, {when})")
        if row.last_error:
            print(f"    last error: {row.last_error}")
    return 0


def add_deliveries_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Registered by ``cli.build_parser``."""
    command = sub.add_parser("deliveries", help="the outbox: each announcement's state and last error",
                             description="the outbox: each announcement's state and last error")
    command.set_defaults(handler=cmd_deliveries)
    command.add_argument("--json", action="store_true", help="print JSON")
    command.add_argument("--chat", metavar="CHAT", help="only this chat (id, or platform:id)")
    command.add_argument("--since", metavar="WHEN", help="only entries found since: 12h, 7d or a date")
    command.add_argument("--limit", type=int, default=200, help="at most this many rows, newest first (default 200)")
