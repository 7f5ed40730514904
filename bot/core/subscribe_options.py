"""What ``/subscribe`` was told besides its filter: where, who to ping, and when.

``/subscribe segmentation -review thread:42 ping:<@&123> daily 08:30`` is the filter
``segmentation -review``, announced into topic/thread 42, mentioning role 123, as a
daily digest at 08:30 in the chat's time zone. Pure: the handler does the I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.i18n import t
from bot.core.replies import UserError
from bot.store.schedules import Schedule, ScheduleError, find_schedule

__all__ = ["SubscribeRequest", "read_subscribe"]

_THREAD = re.compile(r"(?<!\S)thread:(\S*)", re.I)
_PING = re.compile(r"(?<!\S)ping:(\S*)", re.I)
_ROLE = re.compile(r"^(?:<@&(\d{1,20})>|(\d{1,20}))$")


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    filter: str
    thread: str = ""
    role: str = ""
    schedule: Schedule = Schedule()


def _take(pattern: re.Pattern[str], text: str) -> tuple[str | None, str]:
    match = pattern.search(text)
    if match is None:
        return None, text
    return match.group(1), " ".join((text[: match.start()] + " " + text[match.end() :]).split())


def read_subscribe(args: str, lang: str = "en") -> SubscribeRequest:
    """Split ``/subscribe``'s words into the filter and its options; bad options are a ``UserError``."""
    text = " ".join(args.split())
    thread, text = _take(_THREAD, text)
    if thread is not None and not (thread.isdecimal() and len(thread) <= 20):
        raise UserError(t(lang, "bad_thread"))
    role_text, text = _take(_PING, text)
    role = ""
    if role_text is not None:
        match = _ROLE.match(role_text)
        if match is None:
            raise UserError(t(lang, "bad_role"))
        role = match.group(1) or match.group(2)
    try:
        schedule, text = find_schedule(text)
    except ScheduleError as exc:
        raise UserError(t(lang, "bad_schedule", error=str(exc))) from None
    return SubscribeRequest(text, thread or "", role, schedule or Schedule())
