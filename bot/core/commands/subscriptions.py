"""Which chats hear about which new entries: ``/subscribe``, ``/unsubscribe``, ``/subscriptions``.

In groups only administrators may change subscriptions: the specs say ``admin_only``
and the core's one admin check (``MedBot._run``) refuses others before these run.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.core.filters import describe_filter, filter_words
from bot.core.i18n import t
from bot.core.registry import ArgSpec, command
from bot.core.replies import EntryView, Reply, UserError
from bot.core.saved_search import SubscriptionFilter, read_filter, saved_search
from bot.core.subscribe_options import read_subscribe
from bot.core.views import entry_view, view_of
from bot.store.records import utcnow

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context
    from bot.store.records import LoggedEntry, Subscription

__all__ = ["MAX_FILTER_CHARS", "MAX_PER_CHAT", "subscribe", "subscriptions", "unsubscribe"]

MAX_FILTER_CHARS = 200
MAX_PER_CHAT = 20


def _listing(subs: list[Subscription], ctx: Context) -> str:
    lines = []
    for sub in subs:
        since = sub.created_at.strftime("%Y-%m-%d")
        extras = "".join((f"  thread:{sub.thread}" if sub.thread else "", f"  <@&{sub.role}>" if sub.role else "",
                          f"  {sub.schedule}" if sub.schedule != "now" else ""))
        lines.append(f"#{sub.id}  {describe_filter(sub.filter, ctx.lang)}{extras}  ({t(ctx.lang, 'since')} {since})")
    return "\n".join(lines)


@command(
    "subscribe",
    zh="订阅新条目通知（可按主题或关键词过滤）",
    usage="/subscribe [topic or keywords]",
    example="/subscribe single-cell",
    arg=ArgSpec("filter", "a topic or keywords; empty for every new entry", autocomplete="topic"),
    admin_only=True,
)
async def subscribe(core: MedBot, args: str, ctx: Context) -> Reply:
    """Announce new papers in this chat, optionally only those matching a topic or keywords."""
    request = read_subscribe(args, ctx.lang)
    filter_text = request.filter
    if len(filter_text) > MAX_FILTER_CHARS:
        raise UserError(t(ctx.lang, "filter_too_long", n=MAX_FILTER_CHARS))
    if filter_text and not filter_words(filter_text):
        raise UserError(t(ctx.lang, "filter_empty"))
    store = core.store
    thread = request.thread or ctx.thread_id
    existing = await asyncio.to_thread(store.list_subscriptions, ctx.platform, ctx.chat_id)
    if len(existing) >= MAX_PER_CHAT and all(sub.filter != filter_text or sub.thread != thread for sub in existing):
        raise UserError(t(ctx.lang, "too_many_subscriptions", n=MAX_PER_CHAT))
    sub = await asyncio.to_thread(store.add_subscription, ctx.platform, ctx.chat_id, filter_text, ctx.user_id or ctx.user_name,
                                  thread=thread, role=request.role, schedule=request.schedule.text())
    what = describe_filter(filter_text, ctx.lang)
    text = [t(ctx.lang, "subscribed", what=what, id=sub.id)]
    if thread:
        text.append(t(ctx.lang, "sub_where_thread", thread=thread))
    if not request.schedule.immediate:
        own = await asyncio.to_thread(store.chat_settings, ctx.platform, ctx.chat_id)
        text.append(t(ctx.lang, "sub_when_digest", schedule=request.schedule.text(), tz=own.timezone or core.settings.watch.timezone))
    if request.role:
        text.append(t(ctx.lang, "sub_ping", role=request.role))
    examples: tuple[EntryView, ...] = ()
    wanted = read_filter(filter_text)
    if wanted.search.strip():  # the saved search, run now: what it would have caught so far
        if wanted == SubscriptionFilter(wanted.search):
            found = await core.run_index(lambda: core.index.search(filter_text, page=1, per_page=2))
            total, hits = (found.total, list(found.hits)) if not found.fuzzy else (0, [])
        else:  # exclusions and author:/venue: are not search syntax: search the rest, then apply them
            found = await core.run_index(lambda: core.index.search(wanted.search, page=1, per_page=100))
            match = saved_search(core.settings.synonyms_path)
            hits = [hit for hit in found.hits if not found.fuzzy and match(filter_text, hit.entry)]
            total = len(hits)
        if total:
            text.append(t(ctx.lang, "subscribe_matches_one" if total == 1 else "subscribe_matches", n=total))
            examples = tuple(entry_view(hit) for hit in hits[:2])
        else:
            text.append(t(ctx.lang, "subscribe_matches_nothing"))
    recent, total = await asyncio.to_thread(_last_90_days, core, filter_text)
    if total:
        text.append(t(ctx.lang, "sub_last_90", n=len(recent), total=total))
        if not examples:
            examples = tuple(view_of(logged.entry, logged.sources) for logged in recent[:2])
    return Reply(
        title=t(ctx.lang, "subscribed_title", id=sub.id),
        text=tuple(text),
        entries=examples,
        language=ctx.lang,
    )


def _last_90_days(core: MedBot, filter_text: str) -> tuple[list[LoggedEntry], int]:
    """What the watcher found in the last 90 days that this filter takes, and how much it found."""
    logged = core.store.logged_since(utcnow() - timedelta(days=90))
    match = saved_search(core.settings.synonyms_path)
    return [item for item in logged if match(filter_text, item.entry)], len(logged)


@command(
    "unsubscribe",
    zh="取消订阅",
    usage="/unsubscribe [id|all]",
    example="/unsubscribe 3",
    arg=ArgSpec("id", "the subscription number from /subscriptions, or 'all'"),
    admin_only=True,
)
async def unsubscribe(core: MedBot, args: str, ctx: Context) -> Reply:
    """Stop announcements in this chat (one subscription by its number, or all)."""
    store = core.store
    subs = await asyncio.to_thread(store.list_subscriptions, ctx.platform, ctx.chat_id)
    wanted = args.strip().lstrip("#").lower()
    if not subs:
        return Reply(text=(t(ctx.lang, "no_subscriptions_here"),), language=ctx.lang)
    if not wanted and len(subs) > 1:
        return Reply(
            title=t(ctx.lang, "which_one"),
            text=(_listing(subs, ctx), t(ctx.lang, "which_one_hint")),
            language=ctx.lang,
        )
    if wanted in {"", "all", "全部"}:
        targets = subs
    elif wanted.isdecimal() and len(wanted) <= 18 and any(sub.id == int(wanted) for sub in subs):
        targets = [sub for sub in subs if sub.id == int(wanted)]
    else:
        raise UserError(t(ctx.lang, "no_such_subscription", ref=args.strip()[:60]))
    for sub in targets:
        await asyncio.to_thread(store.remove_subscription, sub.id, ctx.platform, ctx.chat_id)
    removed = ", ".join(f"#{sub.id}" for sub in targets)
    return Reply(text=(t(ctx.lang, "unsubscribed", ids=removed),), language=ctx.lang)


@command("subscriptions", zh="查看这里的订阅", usage="/subscriptions", example="/subscriptions")
async def subscriptions(core: MedBot, args: str, ctx: Context) -> Reply:
    """List what this chat is subscribed to."""
    subs = await asyncio.to_thread(core.store.list_subscriptions, ctx.platform, ctx.chat_id)
    if not subs:
        return Reply(text=(t(ctx.lang, "no_subscriptions_yet"),), language=ctx.lang)
    return Reply(title=t(ctx.lang, "subscriptions_title"), text=(_listing(subs, ctx),), language=ctx.lang)
