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
    "why_found": {"en": "Found {at} in {lists}.", "zh": "{at} 在 {lists} 中发现。"},
    "why_place": {"en": " in topic/thread {thread}", "zh": "（话题/子区 {thread}）"},
    "why_sent": {"en": "Announced here{place} at {at}, for subscription #{sub}.", "zh": "已在此处{place}通知，时间 {at}，订阅 #{sub}。"},
    "why_sending": {"en": "Being sent right now{place}, for subscription #{sub}.", "zh": "正在发送{place}，订阅 #{sub}。"},
    "why_digest": {
        "en": "Still queued for subscription #{sub}: it waits for the scheduled digest at {at}.",
        "zh": "仍在队列中（订阅 #{sub}）：等待 {at} 的定时摘要。",
    },
    "why_retry": {
        "en": "Still queued for subscription #{sub}: sending failed {n}×, retry at {at}{error}.",
        "zh": "仍在队列中（订阅 #{sub}）：发送失败 {n} 次，将于 {at} 重试{error}。",
    },
    "why_error": {"en": " (last error: {error})", "zh": "（最近的错误：{error}）"},
    "why_queued": {
        "en": "Still queued for subscription #{sub}: it goes out with the next delivery ({at}).",
        "zh": "仍在队列中（订阅 #{sub}）：随下一轮发送（{at}）。",
    },
    "why_cancelled": {
        "en": "It was queued for subscription #{sub}, which was removed before it went out.",
        "zh": "曾为订阅 #{sub} 排队，但该订阅在发送前已删除。",
    },
    "why_disabled": {"en": "Not delivered: announcements here were disabled ({reason}).", "zh": "未送达：此处的通知已停用（{reason}）。"},
    "why_dead": {"en": "Not delivered: {reason}.", "zh": "未送达：{reason}。"},
    "why_refused": {"en": "the platform refused it", "zh": "平台拒绝了它"},
    "why_no_subs": {"en": "This chat has no subscriptions, so nothing is announced here.", "zh": "本聊天没有订阅，所以这里不会有通知。"},
    "why_no_active": {"en": "This chat has no active subscriptions.", "zh": "本聊天没有生效的订阅。"},
    "why_sub": {"en": "#{id} “{filter}”", "zh": "#{id}“{filter}”"},
    "why_sub_all": {"en": "#{id} (every new entry)", "zh": "#{id}（所有新条目）"},
    "why_sub_disabled": {"en": "{sub} is disabled: {reason}.", "zh": "{sub} 已停用：{reason}。"},
    "why_sub_later": {
        "en": "{sub} was made at {made}, after the entry arrived ({at}).",
        "zh": "{sub} 创建于 {made}，晚于条目到达的时间（{at}）。",
    },
    "why_sub_takes": {
        "en": "{sub} takes it, but it was not queued here (another chat's row, or the subscription changed since).",
        "zh": "{sub} 符合，但没有在这里排队（可能属于其他聊天，或订阅之后有变动）。",
    },
    "why_sub_excluded": {"en": "{sub} did not take it: {reason} (the exclusion {part}).", "zh": "{sub} 没有选中它：{reason}（排除条件 {part}）。"},
    "why_sub_no": {"en": "{sub} did not take it: {reason}.", "zh": "{sub} 没有选中它：{reason}。"},
    "why_held": {
        "en": "It is in a version of {name} held since {at} ({why}); it is announced in one digest once the list shows that version again.",
        "zh": "它在 {name} 的一个版本中，该版本自 {at} 起被暂缓（{why}）；列表再次出现该版本时会以一条摘要通知。",
    },
    "why_mass": {"en": "a mass change", "zh": "大批量变动"},
    "verdict_topic": {"en": "its topic is excluded by {part}", "zh": "它的主题被 {part} 排除"},
    "verdict_tag": {"en": "its tag is excluded by {part}", "zh": "它的标签被 {part} 排除"},
    "verdict_source": {"en": "its list is excluded by {part}", "zh": "它所在的列表被 {part} 排除"},
    "verdict_word": {"en": "it mentions “{word}”, excluded by {part}", "zh": "它提到了“{word}”，被 {part} 排除"},
    "verdict_person": {"en": "it names “{name}”, excluded by {part}", "zh": "它提到了“{name}”，被 {part} 排除"},
    "verdict_no_author": {"en": "the entry does not name author “{name}”", "zh": "条目没有提到作者“{name}”"},
    "verdict_no_venue": {"en": "the entry does not name venue “{name}”", "zh": "条目没有提到会议或期刊“{name}”"},
    "verdict_filters": {
        "en": "its topic, tag, list or year is not the one the filter asks for",
        "zh": "它的主题、标签、列表或年份不符合筛选条件",
    },
    "verdict_missing": {"en": "it does not mention “{word}”", "zh": "它没有提到“{word}”"},
    "settings_title": {"en": "Settings of this chat", "zh": "本聊天的设置"},
    "settings_usage": {
        "en": "Change one with /settings NAME VALUE (admins): language en|zh|default, tz Europe/Berlin, digest 5, preview on|off.",
        "zh": "修改：/settings 名称 值（管理员）：language en|zh|default，tz Europe/Berlin，digest 5，preview on|off。",
    },
    "settings_admin": {"en": "Only the chat's administrators can change settings here.", "zh": "在群组中只有管理员可以修改设置。"},
    "settings_bad": {"en": "I can't set that: {error}.", "zh": "无法设置：{error}。"},
    "settings_changed": {"en": "{name} is now {value}.", "zh": "{name} 已设为 {value}。"},
}
