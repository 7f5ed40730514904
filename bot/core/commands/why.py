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


def _from_outbox(row: DeliveryRow, lang: str) -> str:
    place = t(lang, "why_place", thread=row.thread) if row.thread else ""
    sub = row.subscription_id
    if row.state is Delivery.SENT:
        return t(lang, "why_sent", place=place, at=_at(row.sent_at), sub=sub)
    if row.state is Delivery.SENDING:
        return t(lang, "why_sending", place=place, sub=sub)
    if row.state is Delivery.QUEUED and row.due is not None and row.attempts == 0:
        return t(lang, "why_digest", sub=sub, at=_at(row.due))
    if row.state is Delivery.QUEUED and row.attempts:
        error = t(lang, "why_error", error=row.last_error) if row.last_error else ""
        return t(lang, "why_retry", sub=sub, n=row.attempts, at=_at(row.next_try), error=error)
    if row.state is Delivery.QUEUED:
        return t(lang, "why_queued", sub=sub, at=_at(row.next_try))
    if row.state is Delivery.CANCELLED:
        return t(lang, "why_cancelled", sub=sub)
    reason = row.last_error or t(lang, "why_refused")
    if "permanent failure" in reason or "thread gone" in reason:
        return t(lang, "why_disabled", reason=reason)
    return t(lang, "why_dead", reason=reason)


def _synonyms(core: MedBot) -> SynonymMap:
    try:
        return load_synonyms(core.settings.synonyms_path)
    except SynonymsError:
        return SynonymMap([])


def _from_subscriptions(core: MedBot, ctx: Context, logged: LoggedEntry) -> list[str]:
    lang = ctx.lang
    subs = core.store.chat_subscriptions(ctx.platform, ctx.chat_id)
    if not subs:
        return [t(lang, "why_no_subs")]
    synonyms = _synonyms(core)
    lines = []
    for sub_id, filter_text, active, reason, created in subs:
        shown = t(lang, "why_sub", id=sub_id, filter=filter_text) if filter_text else t(lang, "why_sub_all", id=sub_id)
        if not active:
            if reason and reason != "unsubscribed":
                lines.append(t(lang, "why_sub_disabled", sub=shown, reason=reason))
            continue
        if created is not None and created > logged.first_seen:
            lines.append(t(lang, "why_sub_later", sub=shown, made=_at(created), at=_at(logged.first_seen)))
            continue
        verdict = explain(filter_text, logged.entry, synonyms)
        if verdict.matched:
            lines.append(t(lang, "why_sub_takes", sub=shown))
        elif verdict.excluded_by:
            lines.append(t(lang, "why_sub_excluded", sub=shown, reason=verdict.reason(lang), part=verdict.excluded_by))
        else:
            lines.append(t(lang, "why_sub_no", sub=shown, reason=verdict.reason(lang)))
    return lines or [t(lang, "why_no_active")]


def _held(core: MedBot, entry_id: str, lang: str) -> str | None:
    """A version held as a mass change (or a suspected truncation) that has this entry."""
    for name, state in core.store.source_states().items():
        if not state.pending_hash:
            continue
        text = core.store.pending_snapshot(name)
        if text and any(entry.id == entry_id for entry in parse(text, name).entries):
            why = state.pending_reason or t(lang, "why_mass")
            return t(lang, "why_held", name=name, at=_at(state.pending_since), why=why)
    return None


def _answer(core: MedBot, entry_id: str, ctx: Context) -> Reply:
    found = core.store.logged_by_id(entry_id)
    if not found:
        held = _held(core, entry_id, ctx.lang)
        if held is None:
            raise UserError(t(ctx.lang, "why_unknown", id=entry_id))
        return Reply(title=t(ctx.lang, "why_title", title=entry_id), text=(held,), language=ctx.lang)
    key, logged = found[0]
    lines = [t(ctx.lang, "why_found", at=_at(logged.first_seen), lists=", ".join(logged.sources))]
    rows = core.store.deliveries(platform=ctx.platform, chat=ctx.chat_id, entry_key=key, limit=5)
    if rows:
        lines.extend(_from_outbox(row, ctx.lang) for row in rows)
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
