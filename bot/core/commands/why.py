"""``/why ID``: was this entry announced here, and if not, why not.

The answer comes from the records themselves, in the order a lab member would ask:
the outbox row for this chat (sent when and by which subscription; queued for a digest;
retrying at T with the last error; dead), else the log (which subscription's filter said
no, naming the exclusion), else a held mass change that has not been adopted yet.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.i18n import t
from bot.core.registry import ArgSpec, command
from bot.core.replies import Reply, UserError
from bot.core.saved_search import explain
from bot.store.outbox_states import Delivery
from index.parser import parse
from index.search_synonyms import SynonymMap, SynonymsError, load_synonyms

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context
    from bot.store.records import LoggedEntry
    from bot.store.sqlite_chats import DeliveryRow

__all__ = ["why"]


def _at(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "?"


def _place(row: DeliveryRow) -> str:
    return f" in topic/thread {row.thread}" if row.thread else ""


def _from_outbox(row: DeliveryRow) -> str:
    sub = f"subscription #{row.subscription_id}"
    if row.state is Delivery.SENT:
        return f"Announced here{_place(row)} at {_at(row.sent_at)}, for {sub}."
    if row.state is Delivery.SENDING:
        return f"Being sent right now{_place(row)}, for {sub}."
    if row.state is Delivery.QUEUED and row.due is not None and row.attempts == 0:
        return f"Still queued for {sub}: it waits for the scheduled digest at {_at(row.due)}."
    if row.state is Delivery.QUEUED and row.attempts:
        error = f" (last error: {row.last_error})" if row.last_error else ""
        return f"Still queued for {sub}: sending failed {row.attempts}×, retry at {_at(row.next_try)}{error}."
    if row.state is Delivery.QUEUED:
        return f"Still queued for {sub}: it goes out with the next delivery ({_at(row.next_try)})."
    if row.state is Delivery.CANCELLED:
        return f"It was queued for {sub}, which was removed before it went out."
    reason = row.last_error or "the platform refused it"
    if "permanent failure" in reason or "thread gone" in reason:
        return f"Not delivered: announcements here were disabled ({reason})."
    return f"Not delivered: {reason}."


def _synonyms(core: MedBot) -> SynonymMap:
    try:
        return load_synonyms(core.settings.synonyms_path)
    except SynonymsError:
        return SynonymMap([])


def _from_subscriptions(core: MedBot, ctx: Context, logged: LoggedEntry) -> list[str]:
    subs = core.store.chat_subscriptions(ctx.platform, ctx.chat_id)
    if not subs:
        return ["This chat has no subscriptions, so nothing is announced here."]
    synonyms = _synonyms(core)
    lines = []
    for sub_id, filter_text, active, reason, created in subs:
        shown = f"#{sub_id} “{filter_text}”" if filter_text else f"#{sub_id} (every new entry)"
        if not active:
            if reason and reason != "unsubscribed":
                lines.append(f"{shown} is disabled: {reason}.")
            continue
        if created is not None and created > logged.first_seen:
            lines.append(f"{shown} was made at {_at(created)}, after the entry arrived ({_at(logged.first_seen)}).")
            continue
        verdict = explain(filter_text, logged.entry, synonyms)
        if verdict.matched:
            lines.append(f"{shown} takes it, but it was not queued here (another chat's row, or the subscription changed since).")
        elif verdict.excluded_by:
            lines.append(f"{shown} did not take it: {verdict.reason} (the exclusion {verdict.excluded_by}).")
        else:
            lines.append(f"{shown} did not take it: {verdict.reason}.")
    return lines or ["This chat has no active subscriptions."]


def _held(core: MedBot, entry_id: str) -> str | None:
    """A version held as a mass change (or a suspected truncation) that has this entry."""
    for name, state in core.store.source_states().items():
        if not state.pending_hash:
            continue
        text = core.store.pending_snapshot(name)
        if text and any(entry.id == entry_id for entry in parse(text, name).entries):
            why = state.pending_reason or "a mass change"
            return (f"It is in a version of {name} held since {_at(state.pending_since)} ({why}); it is announced in one "
                    "digest once the list shows that version again.")
    return None


def _answer(core: MedBot, entry_id: str, ctx: Context) -> Reply:
    found = core.store.logged_by_id(entry_id)
    if not found:
        held = _held(core, entry_id)
        if held is None:
            raise UserError(t(ctx.lang, "why_unknown", id=entry_id))
        return Reply(title=t(ctx.lang, "why_title", title=entry_id), text=(held,), language=ctx.lang)
    key, logged = found[0]
    lines = [f"Found {_at(logged.first_seen)} in {', '.join(logged.sources)}."]
    rows = core.store.deliveries(platform=ctx.platform, chat=ctx.chat_id, entry_key=key, limit=5)
    if rows:
        lines.extend(_from_outbox(row) for row in rows)
    else:
        lines.extend(_from_subscriptions(core, ctx, logged))
    return Reply(title=t(ctx.lang, "why_title", title=logged.entry.title[:120] or entry_id), text=tuple(lines), language=ctx.lang)


@command(
    "why",
    zh="这个条目为什么（没有）在这里通知",
    usage="/why <id>",
    example="/why 3f9a2c1d07",
    arg=ArgSpec("entry", "The id shown under an entry", required=True, autocomplete="entry"),
)
async def why(core: MedBot, args: str, ctx: Context) -> Reply:
    """Say whether an entry was announced here, when and for which subscription, or why not."""
    entry_id = args.strip().split()[0][:64] if args.strip() else ""
    if not entry_id:
        raise UserError(t(ctx.lang, "why_usage"))
    return await asyncio.to_thread(_answer, core, entry_id, ctx)
