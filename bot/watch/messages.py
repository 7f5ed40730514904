"""What announcements say: one message per new entry, or a digest in parts.

A digest is split into parts of ``DIGEST_PART`` entries, and each part is its own
message with its own outbox rows, so a crash in the middle of a digest re-sends at most
the part that was in flight. Past ``DIGEST_PARTS`` parts the rest is summed up in the
last part's footer ("…and 40 more: /new").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.core.i18n import plural
from bot.core.replies import EntryView, Reply, ReplyKind
from bot.core.views import view_of
from bot.store.records import LoggedEntry, OutboxItem

__all__ = ["DIGEST_PART", "DIGEST_PARTS", "SCHEDULED_PARTS", "ChatOptions", "Message", "announcement", "digest_part", "entry_view", "plan_messages"]

DIGEST_PART = 8
"""Entries in one digest message: well inside one Telegram message and Discord's 10 embeds."""
DIGEST_PARTS = 4
"""A digest has at most this many parts; the last one points to /new for the rest."""
SCHEDULED_PARTS = 12
"""A scheduled digest is what the chat asked for instead of single messages: more parts."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message to one chat, and the outbox rows it delivers."""

    platform: str
    chat: str
    rows: tuple[OutboxItem, ...]
    reply: Reply
    thread: str = ""


def entry_view(logged: LoggedEntry) -> EntryView:
    """A logged entry shown the way search results show entries, naming every list it joined."""
    return view_of(logged.entry, logged.sources)


def _lists(sources: Sequence[str]) -> str:
    names = list(dict.fromkeys(sources))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def announcement(logged: LoggedEntry, notes: tuple[str, ...] = ()) -> Reply:
    """One new entry: title, section, the list(s) it was added to, its links (and ``notes``:
    authors, the abstract's first sentence, provenance, when known)."""
    return Reply(title=f"New in {_lists(logged.sources)}", text=notes, entries=(entry_view(logged),), kind=ReplyKind.ANNOUNCEMENT)


def digest_part(items: Sequence[LoggedEntry], total: int, part: int, parts: int, *, more: int = 0, mass_change: bool = False,
                scheduled: bool = False) -> Reply:
    """Part ``part`` of ``parts`` of a digest of ``total`` new entries."""
    sources = [source for logged in items for source in logged.sources]
    heading = ("Digest: " if scheduled else "") + f"{plural('en', 'new_entry', total)} in {_lists(sources)}" + (f" ({part}/{parts})" if parts > 1 else "")
    text: tuple[str, ...] = ()
    if mass_change and part == 1:
        text = ("The list changed a lot at once; here is what it added.",)
    footer = f"…and {more} more: type /new to see them." if more else ""
    shown = tuple(entry_view(logged) for logged in items)
    return Reply(title=heading, text=text, entries=shown, footer=footer, silent=True, kind=ReplyKind.DIGEST)


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """What a chat's ``/settings`` change about its announcements."""

    digest_after: int
    preview: bool = False


def plan_messages(
    items: Sequence[OutboxItem],
    digest_after: int,
    notes: Mapping[str, tuple[str, ...]] | None = None,
    options: Callable[[str, str], ChatOptions] | None = None,
) -> list[Message]:
    """Group due rows by chat, topic, role and poll; more than ``digest_after`` become a digest in parts.

    Rows waiting for a scheduled digest (``due``) are one digest per chat and topic,
    whatever polls found them: everything since the last one.
    """
    groups: OrderedDict[tuple[str, str, str, str, int | None], list[OutboxItem]] = OrderedDict()
    for item in items:
        groups.setdefault((item.platform, item.chat, item.thread, item.role, None if item.due else item.poll_id), []).append(item)
    messages: list[Message] = []
    for (platform, chat, thread, role, poll), rows in groups.items():
        chat_options = options(platform, chat) if options else ChatOptions(digest_after)
        scheduled = poll is None
        forced = any(row.digest for row in rows)
        if not forced and not scheduled and len(rows) <= chat_options.digest_after:
            messages.extend(
                Message(platform, chat, (row,), _routed(announcement(row.logged, (notes or {}).get(row.logged.entry.key, ())),
                                                        role, chat_options), thread)
                for row in rows
            )
            continue
        chunks = [rows[start : start + DIGEST_PART] for start in range(0, len(rows), DIGEST_PART)]
        cap = SCHEDULED_PARTS if scheduled else DIGEST_PARTS
        shown, rest = chunks[:cap], chunks[cap:]
        hidden = [row for chunk in rest for row in chunk]
        for number, chunk in enumerate(shown, 1):
            last = number == len(shown)
            reply = digest_part([row.logged for row in chunk], len(rows), number, len(shown),
                                more=len(hidden) if last else 0, mass_change=forced, scheduled=scheduled)
            messages.append(Message(platform, chat, tuple(chunk) + (tuple(hidden) if last else ()),
                                    _routed(reply, role if number == 1 else "", chat_options), thread))
    return messages


def _routed(reply: Reply, role: str, options: ChatOptions) -> Reply:
    return replace(reply, ping_role=role, preview=options.preview) if role or options.preview else reply
