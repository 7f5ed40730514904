"""The UI strings of the core in English and Chinese (entries always stay as written).

Only what the bot itself says is translated; a missing Chinese string falls back to
English so a new message never breaks a Chinese-speaking chat.
"""

from __future__ import annotations

from bot.core.i18n_routing import ROUTING_STRINGS

__all__ = ["plural", "t"]

_STRINGS: dict[str, dict[str, str]] = {
    "welcome": {
        "en": "Hi! I recommend research resources (papers, code, datasets) from curated awesome lists. "
        "Try /search lesion detection, /topic to browse sections, or /random for a surprise.",
        "zh": "你好！我从精选的 awesome 列表中推荐科研资源（论文、代码、数据集）。"
        "试试 /search lesion detection，用 /topic 浏览分类，或用 /random 随机推荐。",
    },
    "help_title": {"en": "Commands", "zh": "命令"},
    "help_footer": {"en": "Type /help <command> for details, e.g. /help search.", "zh": "输入 /help <命令> 查看详情，例如 /help search。"},
    "usage": {"en": "Usage: {usage}", "zh": "用法：{usage}"},
    "example": {"en": "Example: {example}", "zh": "例如：{example}"},
    "unknown_command": {"en": "I don't know /{name}.", "zh": "没有 /{name} 这个命令。"},
    "did_you_mean_command": {"en": "Did you mean /{name}?", "zh": "您是想用 /{name} 吗？"},
    "see_help": {"en": "Type /help to see what I can do.", "zh": "输入 /help 查看全部命令。"},
    "results_title": {"en": "Results for “{query}” — {first}–{last} of {total}", "zh": "“{query}”的结果：第 {first}–{last} 条，共 {total} 条"},
    "no_results": {"en": "Nothing found for “{query}”.", "zh": "没有找到与“{query}”相关的结果。"},
    "no_results_hint": {
        "en": "Try fewer or different words, an abbreviation (GNN, NER), or browse with /topic.",
        "zh": "试试更少或不同的关键词、缩写（如 GNN、NER），或用 /topic 浏览分类。",
    },
    "relaxed_note": {
        "en": "Nothing the filters let through has those words, so here is everything they match.",
        "zh": "筛选范围内没有条目包含这些词，以下是筛选到的全部条目。",
    },
    "suggestion": {"en": "Did you mean “{suggestion}”?", "zh": "您是不是要找“{suggestion}”？"},
    "fuzzy_note": {"en": "No exact matches; showing close spellings.", "zh": "没有完全匹配的结果，以下为相近拼写的结果。"},
    "query_trimmed": {"en": "Your query was long; I searched its first {n} characters.", "zh": "查询太长，只搜索了前 {n} 个字符。"},
    "prev": {"en": "‹ Previous", "zh": "‹ 上一页"},
    "next": {"en": "Next ›", "zh": "下一页 ›"},
    "another": {"en": "Another one", "zh": "再来一个"},
    "search_suggestion_button": {"en": "Search “{suggestion}”", "zh": "搜索“{suggestion}”"},
    "stale_button": {
        "en": "That button has expired. Please run the command again.",
        "zh": "这个按钮已过期，请重新输入命令。",
    },
    "lists_title": {"en": "Topics: {lists}, {sections}", "zh": "分类：{lists}，{sections}"},
    "lists_hint": {
        "en": "Open a list with its button or /topic <list>, e.g. /topic {example}; or go straight to a section: /topic <name>.",
        "zh": "点按钮或用 /topic <列表名> 打开一个列表，例如 /topic {example}；也可直接 /topic <分类名>。",
    },
    "list_sections_title": {"en": "{name}: {sections}, {entries}", "zh": "{name}：{sections}，{entries}"},
    "list_sections_hint": {
        "en": "Open a section with its button or /topic <name>, e.g. /topic {example}.",
        "zh": "点按钮或用 /topic <名称> 打开一个分类，例如 /topic {example}。",
    },
    "all_lists": {"en": "« All lists", "zh": "« 全部列表"},
    "back_to_list": {"en": "« {name}", "zh": "« {name}"},
    "topic_title": {"en": "{path} — {first}–{last} of {total}", "zh": "{path}：第 {first}–{last} 条，共 {total} 条"},
    "no_topic": {"en": "No topic matches “{name}”.", "zh": "没有与“{name}”匹配的分类。"},
    "empty_topic": {"en": "The topic {path} has no entries.", "zh": "分类 {path} 中没有条目。"},
    "random_title": {"en": "A random pick", "zh": "随机推荐"},
    "random_title_topic": {"en": "A random pick from {path}", "zh": "来自 {path} 的随机推荐"},
    "nothing_indexed": {"en": "No entries are indexed yet.", "zh": "还没有任何已索引的条目。"},
    "new_title": {"en": "New in the last {days} days", "en_one": "New in the last day", "zh": "最近 {days} 天新增"},
    "new_none": {
        "en": "No new entries recorded in the last {days} days. The watcher records entries added upstream after its first poll.",
        "en_one": "No new entries recorded in the last day. The watcher records entries added upstream after its first poll.",
        "zh": "最近 {days} 天没有记录到新条目。监视器在首次轮询之后才会记录上游新增的条目。",
    },
    "new_no_store": {
        "en": "No new entries recorded yet: the watcher has not run here.",
        "zh": "还没有记录新条目：监视器尚未运行。",
    },
    "bad_days": {"en": "Days must be a whole number from 1 to 365, e.g. /new 7.", "zh": "天数须为 1 到 365 的整数，例如 /new 7。"},
    "similar_title": {"en": "Similar to “{title}”", "zh": "与“{title}”相似"},
    "similar_none": {"en": "I found nothing similar to “{title}”.", "zh": "没有找到与“{title}”相似的条目。"},
    "no_entry": {
        "en": "No entry with id or link “{ref}”. Ids are shown under each result.",
        "zh": "没有 id 或链接为“{ref}”的条目。每条结果下方都显示了 id。",
    },
    "sources_title": {"en": "Lists I serve", "zh": "收录的列表"},
    "sources_title_page": {"en": "Lists I serve: {first}–{last} of {total}", "zh": "收录的列表：第 {first}–{last} 个，共 {total} 个"},
    "source_line": {"en": "{name}: {count} entries", "en_one": "{name}: 1 entry", "zh": "{name}：{count} 条"},
    "source_polled": {"en": "last poll {when}", "zh": "上次轮询 {when}"},
    "source_changed": {"en": "last change {when}", "zh": "上次更新 {when}"},
    "source_dead": {"en": "{n} dead links", "en_one": "1 dead link", "zh": "{n} 个失效链接"},
    "source_failures": {"en": "{n} failed polls in a row", "en_one": "1 failed poll", "zh": "连续 {n} 次轮询失败"},
    "source_failure": {"en": "1 failed poll", "zh": "1 次轮询失败"},
    "source_never": {"en": "not polled yet", "zh": "尚未轮询"},
    "admin_only": {
        "en": "Sorry, only the chat's administrators can use /{name} here. Ask one of them, or type /subscriptions to see what this chat receives.",
        "zh": "抱歉，在群组中只有管理员可以使用 /{name}。请联系管理员，或输入 /subscriptions 查看这里的订阅。",
    },
    "apology": {
        "en": "Sorry, something went wrong on my side. Please try again in a moment.",
        "zh": "抱歉，我这边出了点问题，请稍后再试。",
    },
    "since": {"en": "since", "zh": "始于"},
    "no_paper": {"en": "No entry with id, link or identifier “{ref}”. Try /search.",
    "zh": "没有编号、链接或标识符为“{ref}”的条目，试试 /search。"},
    "nothing_to_export": {"en": "Nothing to export for “{what}”.", "zh": "“{what}”没有可导出的条目。"},
    "exported": {"en": "{count} entries from “{what}” as {fmt}.", "en_one": "1 entry from “{what}” as {fmt}.", "zh": "已导出“{what}”的 {count} 个条目（{fmt}）。"},
    "capped": {"en": "Only the first {n} are included.", "zh": "只包含前 {n} 个。"},
    "export_bad_days": {"en": "new:DAYS takes a number of days from 1 to 365, e.g. new:30.",
    "zh": "new: 后面请写 1 到 365 的天数，例如 new:30。"},
    "export_no_store": {"en": "The watcher's log is not available here.", "zh": "这里没有监视器的记录。"},
    "slow_down": {
        "en": "You're sending commands faster than I can answer everyone here; I'll skip the rest for a few seconds.",
        "zh": "您发送命令太快了，为了照顾群里的其他人，接下来几秒内的命令将被忽略。",
    },
    "only_invisible": {
        "en": "I can only see invisible characters after that command; please type the words you mean.",
        "zh": "命令后面只有不可见字符，请输入您想要的文字。",
    },
    "filter_too_long": {"en": "That filter is too long (at most {n} characters).", "zh": "过滤条件太长（最多 {n} 个字符）。"},
    "filter_empty": {"en": "Give a topic or a few words, e.g. /subscribe single-cell", "zh": "请给出主题或关键词，例如 /subscribe 单细胞"},
    "too_many_subscriptions": {
        "en": "This chat already has {n} subscriptions; remove one with /unsubscribe ID.",
        "zh": "这里已有 {n} 个订阅，请先用 /unsubscribe ID 删除一个。",
    },
    "subscribed_title": {"en": "Subscribed (#{id})", "zh": "已订阅（#{id}）"},
    "subscribed": {
        "en": "New entries matching {what} will be announced here as the watched lists change. Stop with /unsubscribe {id}.",
        "zh": "观察的列表出现与 {what} 匹配的新条目时会在这里通知。取消：/unsubscribe {id}",
    },
    "subscribe_matches": {"en": "It matches {n} entries already in the lists, for example:", "zh": "列表中已有 {n} 个条目符合，例如："},
    "subscribe_matches_one": {"en": "It matches 1 entry already in the lists:", "zh": "列表中已有 1 个条目符合："},
    "subscribe_matches_nothing": {
        "en": "Careful: it matches nothing in the lists yet; check the words, or try /search first.",
        "zh": "注意：目前列表中没有任何条目符合；请检查关键词，或先用 /search 试试。",
    },
    "no_subscriptions_here": {"en": "This chat has no subscriptions.", "zh": "这里没有订阅。"},
    "which_one": {"en": "Which one?", "zh": "取消哪一个？"},
    "which_one_hint": {"en": "Type /unsubscribe ID, or /unsubscribe all.", "zh": "输入 /unsubscribe ID，或 /unsubscribe all。"},
    "no_such_subscription": {
        "en": "No subscription “{ref}” in this chat; /subscriptions lists them.",
        "zh": "这里没有订阅 “{ref}”；/subscriptions 可查看。",
    },
    "unsubscribed": {"en": "Unsubscribed {ids}.", "zh": "已取消订阅 {ids}。"},
    "no_subscriptions_yet": {
        "en": "No subscriptions here yet. /subscribe [topic or keywords] starts one.",
        "zh": "这里还没有订阅。输入 /subscribe [主题或关键词] 开始订阅。",
    },
    "subscriptions_title": {"en": "Subscriptions in this chat", "zh": "这里的订阅"},
    "from_sources": {"en": "from {sources}", "zh": "来自 {sources}"},
}

assert not set(_STRINGS) & set(ROUTING_STRINGS), "a routing string reuses a key"
_STRINGS.update(ROUTING_STRINGS)


_NOUNS: dict[str, tuple[str, str, str]] = {
    # English singular, English plural, Chinese (with its measure word; Chinese has no plural)
    "entry": ("entry", "entries", "个条目"),
    "result": ("result", "results", "条结果"),
    "section": ("section", "sections", "个分类"),
    "list": ("list", "lists", "个列表"),
    "failed_poll": ("failed poll", "failed polls", "次拉取失败"),
    "new_entry": ("new entry", "new entries", "个新条目"),
    "announcement": ("announcement", "announcements", "条通知"),
    "message": ("message", "messages", "条消息"),
    "dead_link": ("dead link", "dead links", "个失效链接"),
}


def plural(lang: str, noun: str, count: int) -> str:
    """``count`` and the noun, right in both languages: "1 entry", "2 entries", "2 个条目"."""
    one, many, chinese = _NOUNS[noun]
    if lang == "zh":
        return f"{count} {chinese}"
    return f"{count} {one if count == 1 else many}"


_COUNTS = ("n", "count", "days")
"""The values that count something: when one of them is 1, a ``<lang>_one`` form is used."""


def t(lang: str, key: str, **values: object) -> str:
    """The UI string ``key`` in ``lang`` (en/zh), formatted with ``values``.

    A count of 1 (``n``, ``count`` or ``days``) picks the singular form where the string
    has one ("1 failed poll", not "1 failed polls"); Chinese needs none.
    """
    table = _STRINGS[key]
    one = any(values.get(name) == 1 for name in _COUNTS)
    template = (table.get(f"{lang}_one") if one else None) or table.get(lang) or (table.get("en_one") if one else None) or table["en"]
    return template.format(**values) if values else template
