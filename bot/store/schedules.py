"""When a subscription's announcements go out: at once, or as a daily or weekly digest.

A schedule is text the user typed (``now``, ``daily 08:30``, ``weekly mon 08:30``) and is
stored as typed, normalised. ``next_due`` turns it into the next moment after a given
instant in the chat's time zone; the store gives each matched entry that moment as its
due time, so every entry found between two digests waits for the same digest. Pure
functions: the clock is always passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DAYS", "Schedule", "ScheduleError", "find_schedule", "next_due", "parse_schedule", "zone"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_FIND = re.compile(r"(?:^|\s)(daily\s+\S+|weekly\s+\S+\s+\S+|now)(?=\s|$)", re.IGNORECASE)


class ScheduleError(ValueError):
    """The text is not a schedule medbot knows (the message says what is)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """``every`` is now | daily | weekly; ``day`` 0 = Monday (weekly only)."""

    every: str = "now"
    at: time = time(0, 0)
    day: int = 0

    @property
    def immediate(self) -> bool:
        return self.every == "now"

    def text(self) -> str:
        """The stored, normalised form (``parse_schedule(s.text()) == s``)."""
        if self.immediate:
            return "now"
        clock = f"{self.at.hour:02d}:{self.at.minute:02d}"
        return f"daily {clock}" if self.every == "daily" else f"weekly {DAYS[self.day]} {clock}"


def _clock(text: str) -> time:
    match = _CLOCK.match(text)
    if match is None:
        raise ScheduleError(f"“{text}” is not a time of day like 08:30")
    return time(int(match.group(1)), int(match.group(2)))


def parse_schedule(text: str) -> Schedule:
    words = text.lower().split()
    if not words or words == ["now"]:
        return Schedule()
    if words[0] == "daily" and len(words) == 2:
        return Schedule("daily", _clock(words[1]))
    if words[0] == "weekly" and len(words) == 3:
        day = words[1][:3]
        if day not in DAYS:
            raise ScheduleError(f"“{words[1]}” is not a day of the week (mon … sun)")
        return Schedule("weekly", _clock(words[2]), DAYS.index(day))
    raise ScheduleError("a schedule is now, daily HH:MM or weekly DAY HH:MM")


def find_schedule(text: str) -> tuple[Schedule | None, str]:
    """A schedule inside ``/subscribe``'s words, and the words without it.

    ``daily``/``weekly`` only count when a time follows, so a filter may still say
    "daily" as a keyword; a malformed time after them is an error, not a keyword.
    """
    match = _FIND.search(text)
    if match is None:
        return None, text
    phrase = match.group(1)
    words = phrase.split()
    if words[0].lower() != "now" and not _CLOCK.match(words[-1]):
        if any(ch.isdigit() for ch in words[-1]):  # meant as a time, but not one
            raise ScheduleError(f"“{words[-1]}” is not a time of day like 08:30")
        return None, text
    rest = " ".join((text[: match.start()] + " " + text[match.end() :]).split())
    return parse_schedule(phrase), rest


def zone(name: str | None) -> tzinfo:
    """The chat's time zone; an unknown or empty name is UTC (checked when it is set)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def next_due(schedule: Schedule, after: datetime, tz_name: str | None = None) -> datetime | None:
    """The first digest time strictly after ``after`` (UTC), or None for ``now``.

    Computed on the wall clock of the chat's zone, so "daily 08:00" stays 08:00 across
    daylight-saving changes.
    """
    if schedule.immediate:
        return None
    tz = zone(tz_name)
    local = after.astimezone(tz)
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        if schedule.every == "weekly" and day.weekday() != schedule.day:
            continue
        candidate = datetime.combine(day, schedule.at, tzinfo=tz)
        if candidate > local:
            return candidate.astimezone(UTC)
    raise AssertionError("a weekly schedule always has a day within 8")  # pragma: no cover
