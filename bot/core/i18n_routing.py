"""The strings of routing, schedules, ``/why`` and ``/settings`` (merged into ``i18n.t``).

Kept apart so the main table stays readable; the keys must not collide with it
(``i18n`` checks when it merges them).
"""

from __future__ import annotations

__all__ = ["ROUTING_STRINGS"]

ROUTING_STRINGS: dict[str, dict[str, str]] = {
    "sub_where_thread": {"en": "Announcements go into topic/thread {thread}.", "zh": "通知会发到话题/子区 {thread}。"},
    "sub_when_digest": {
        "en": "They come as one digest, {schedule} ({tz} time); nothing is sent when there is nothing new.",
        "zh": "通知以摘要形式发送：{schedule}（{tz} 时间）；没有新条目时不发送。",
    },
    "sub_ping": {"en": "Each announcement mentions <@&{role}> (and no one else).", "zh": "每条通知会提及 <@&{role}>（不会提及其他人）。"},
    "sub_last_90": {
        "en": "In the last 90 days it would have announced {n} of the {total} new entries.",
        "zh": "过去 90 天里它会通知 {total} 个新条目中的 {n} 个。",
    },
    "bad_schedule": {"en": "{error}. Example: /subscribe segmentation daily 08:30", "zh": "{error}。例如：/subscribe segmentation daily 08:30"},
    "bad_thread": {"en": "thread: takes the topic or thread id, e.g. thread:42", "zh": "thread: 后面是话题或子区的 ID，例如 thread:42"},
    "bad_role": {
        "en": "ping: takes one role: pick it from Discord's @ list (it arrives as <@&id>) or give its id.",
        "zh": "ping: 后面是一个身份组：请从 Discord 的 @ 列表中选择，或给出其 ID。",
    },
    "why_usage": {"en": "Which entry? Type /why ID with the id shown under a result.", "zh": "哪个条目？输入 /why ID（结果下方显示的 ID）。"},
    "why_unknown": {
        "en": "No entry {id} has arrived since the watcher started; /new lists recent ones.",
        "zh": "观察器启动以来没有新条目 {id}；/new 可查看最近的条目。",
    },
    "why_title": {"en": "Why: {title}", "zh": "原因：{title}"},
    "settings_title": {"en": "Settings of this chat", "zh": "本聊天的设置"},
    "settings_usage": {
        "en": "Change one with /settings NAME VALUE (admins): language en|zh|default, tz Europe/Berlin, digest 5, preview on|off.",
        "zh": "修改：/settings 名称 值（管理员）：language en|zh|default，tz Europe/Berlin，digest 5，preview on|off。",
    },
    "settings_admin": {"en": "Only the chat's administrators can change settings here.", "zh": "在群组中只有管理员可以修改设置。"},
    "settings_bad": {"en": "I can't set that: {error}.", "zh": "无法设置：{error}。"},
    "settings_changed": {"en": "{name} is now {value}.", "zh": "{name} 已设为 {value}。"},
}
