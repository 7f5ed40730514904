"""Which chats hear about which new entries: ``/subscribe``, ``/unsubscribe``, ``/subscriptions``.

A filter is what the user typed after ``/subscribe``: a topic path ("Genomics › Single-Cell")
or a few keywords. It is kept as typed and matched as plain words — every word must be
found in the entry's title, description, section path or tags, ignoring case and
punctuation — so there is no user regex to go wrong and the rule is easy to explain.
In groups only administrators may change subscriptions (the adapter decides
``ctx.is_admin``); in a private chat the user always may.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from bot.core.registry import ArgSpec, command
from bot.core.replies import Reply, UserError
from index.model import Entry, normalise_title

if TYPE_CHECKING:
    from bot.app import Context
    from bot.store.sqlite import Store, Subscription

__all__ = ["MAX_FILTER_CHARS", "MAX_PER_CHAT", "describe_filter", "filter_matches", "filter_words"]

MAX_FILTER_CHARS = 200
MAX_PER_CHAT = 20
_SEPARATORS = re.compile(r"[›»>/|]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def filter_words(filter_text: str) -> tuple[str, ...]:
    """The words a filter asks for: case, accents, punctuation and path separators folded."""
    return tuple(normalise_title(_SEPARATORS.sub(" ", filter_text)).split())


def filter_matches(filter_text: str, entry: Entry) -> bool:
    """True when every word of the filter occurs in the entry (an empty filter takes all).

    Latin words match the start of a word ("segment" finds "segmentation"); Chinese has
    no spaces, so a Chinese word matches anywhere in the text.
    """
    words = filter_words(filter_text)
    if not words:
        return True
    text = normalise_title(" ".join((entry.title, entry.description, *entry.section, *entry.tags)))
    text_words = text.split()
    squeezed = text.replace(" ", "")
    for word in words:
        if _CJK.search(word):
            if word not in squeezed:
                return False
        elif not any(candidate.startswith(word) for candidate in text_words):
            return False
    return True


def describe_filter(filter_text: str, lang: str = "en") -> str:
    if not filter_text:
        return "所有新条目" if lang == "zh" else "every new entry"
    return f"“{filter_text}”"


def _t(ctx: Context, en: str, zh: str) -> str:
    return zh if ctx.lang == "zh" else en


def _refusal(ctx: Context, what: str) -> Reply | None:
    """In a group only admins change subscriptions; say so kindly instead of failing."""
    if ctx.in_group and not ctx.is_admin:
        return Reply(
            text=(
                _t(
                    ctx,
                    f"Sorry, only the chat's administrators can {what} here. "
                    "Ask one of them, or type /subscriptions to see what this chat receives.",
                    "抱歉，只有群管理员可以更改本群的订阅。请联系管理员，或输入 /subscriptions 查看本群的订阅。",
                ),
            ),
            ephemeral=True,
            language=ctx.lang,
        )
    return None


def _store(core: Any) -> Store:
    return core.store  # type: ignore[no-any-return]


def _listing(subs: list[Subscription], ctx: Context) -> str:
    lines = []
    for sub in subs:
        since = sub.created_at.strftime("%Y-%m-%d")
        lines.append(f"#{sub.id}  {describe_filter(sub.filter, ctx.lang)}  ({_t(ctx, 'since', '始于')} {since})")
    return "\n".join(lines)


@command(
    "subscribe",
    zh="订阅新条目通知（可按主题或关键词过滤）",
    usage="/subscribe [topic or keywords]",
    example="/subscribe single-cell",
    arg=ArgSpec("filter", "a topic or keywords; empty for every new entry", autocomplete="topic"),
    admin_only=True,
)
async def subscribe(core: Any, args: str, ctx: Context) -> Reply:
    """Announce new papers in this chat, optionally only those matching a topic or keywords."""
    refused = _refusal(ctx, "subscribe this chat")
    if refused:
        return refused
    filter_text = " ".join(args.split())
    if len(filter_text) > MAX_FILTER_CHARS:
        raise UserError(_t(ctx, f"That filter is too long (at most {MAX_FILTER_CHARS} characters).", f"过滤条件太长（最多 {MAX_FILTER_CHARS} 个字符）。"))
    if filter_text and not filter_words(filter_text):
        raise UserError(_t(ctx, "Give a topic or a few words, e.g. /subscribe single-cell", "请给出主题或关键词，例如 /subscribe 单细胞"))
    store = _store(core)
    existing = await asyncio.to_thread(store.list_subscriptions, ctx.platform, ctx.chat_id)
    if len(existing) >= MAX_PER_CHAT and all(sub.filter != filter_text for sub in existing):
        raise UserError(_t(ctx, f"This chat already has {MAX_PER_CHAT} subscriptions; remove one with /unsubscribe ID.", f"本群已有 {MAX_PER_CHAT} 个订阅，请先用 /unsubscribe ID 删除一个。"))
    sub = await asyncio.to_thread(store.add_subscription, ctx.platform, ctx.chat_id, filter_text, ctx.user_id or ctx.user_name)
    what = describe_filter(filter_text, ctx.lang)
    return Reply(
        title=_t(ctx, f"Subscribed (#{sub.id})", f"已订阅（#{sub.id}）"),
        text=(
            _t(
                ctx,
                f"New entries matching {what} will be announced here as the watched lists change. "
                f"Stop with /unsubscribe {sub.id}.",
                f"观察的列表出现与 {what} 匹配的新条目时会在这里通知。取消：/unsubscribe {sub.id}",
            ),
        ),
        language=ctx.lang,
    )


@command(
    "unsubscribe",
    zh="取消订阅",
    usage="/unsubscribe [id|all]",
    example="/unsubscribe 3",
    arg=ArgSpec("id", "the subscription number from /subscriptions, or 'all'"),
    admin_only=True,
)
async def unsubscribe(core: Any, args: str, ctx: Context) -> Reply:
    """Stop announcements in this chat (one subscription by its number, or all)."""
    refused = _refusal(ctx, "unsubscribe this chat")
    if refused:
        return refused
    store = _store(core)
    subs = await asyncio.to_thread(store.list_subscriptions, ctx.platform, ctx.chat_id)
    wanted = args.strip().lstrip("#").lower()
    if not subs:
        return Reply(text=(_t(ctx, "This chat has no subscriptions.", "本群没有订阅。"),), language=ctx.lang)
    if not wanted and len(subs) > 1:
        return Reply(
            title=_t(ctx, "Which one?", "取消哪一个？"),
            text=(_listing(subs, ctx), _t(ctx, "Type /unsubscribe ID, or /unsubscribe all.", "输入 /unsubscribe ID，或 /unsubscribe all。")),
            language=ctx.lang,
        )
    if wanted in {"", "all", "全部"}:
        targets = subs
    elif wanted.isdecimal() and len(wanted) <= 18 and any(sub.id == int(wanted) for sub in subs):
        targets = [sub for sub in subs if sub.id == int(wanted)]
    else:
        raise UserError(_t(ctx, f"No subscription “{args.strip()}” in this chat; /subscriptions lists them.", f"本群没有订阅 “{args.strip()}”；/subscriptions 可查看。"))
    for sub in targets:
        await asyncio.to_thread(store.remove_subscription, sub.id, ctx.platform, ctx.chat_id)
    removed = ", ".join(f"#{sub.id}" for sub in targets)
    return Reply(text=(_t(ctx, f"Unsubscribed {removed}.", f"已取消订阅 {removed}。"),), language=ctx.lang)


@command("subscriptions", zh="查看本群的订阅", usage="/subscriptions", example="/subscriptions")
async def subscriptions(core: Any, args: str, ctx: Context) -> Reply:
    """List what this chat is subscribed to."""
    subs = await asyncio.to_thread(_store(core).list_subscriptions, ctx.platform, ctx.chat_id)
    if not subs:
        return Reply(
            text=(_t(ctx, "No subscriptions here yet. /subscribe [topic or keywords] starts one.", "这里还没有订阅。输入 /subscribe [主题或关键词] 开始订阅。"),),
            language=ctx.lang,
        )
    return Reply(title=_t(ctx, "Subscriptions in this chat", "本群的订阅"), text=(_listing(subs, ctx),), language=ctx.lang)
