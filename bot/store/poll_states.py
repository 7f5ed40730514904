"""The state machine of a watched source, one pure function per transition.

```
NEW ──adopted──▶ GOOD ──held──▶ HELD ──adopted (second sighting)──▶ GOOD
                  │  ▲            └──unchanged (back to the good version)──▶ GOOD
           failed │  │ unchanged / adopted
                  ▼  │
               FAILING ──alert_sent──▶ ALERTED ──unchanged / adopted──▶ GOOD
```

The state is derived from the record (``state_of``), so it can never disagree with the
columns; each transition returns the whole new record and the store writes whole
records, so no method resets "its" columns and forgets another's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import StrEnum

from bot.store.records import SourceState, Version

__all__ = ["PollState", "adopted", "alert_sent", "failed", "held", "state_of", "unchanged"]


class PollState(StrEnum):
    NEW = "new"
    GOOD = "good"
    HELD = "held"
    FAILING = "failing"
    ALERTED = "alerted"


def state_of(source: SourceState) -> PollState:
    if source.failures:
        return PollState.ALERTED if source.alerted else PollState.FAILING
    if source.pending_hash:
        return PollState.HELD
    return PollState.GOOD if source.content_hash else PollState.NEW


def _succeeded(source: SourceState, now: datetime) -> SourceState:
    return replace(source, last_poll=now, failures=0, last_error=None, next_poll=None)


def _no_hold(source: SourceState) -> SourceState:
    return replace(source, pending_hash=None, pending_etag=None, pending_last_modified=None, pending_since=None, pending_reason=None)


def unchanged(
    source: SourceState, now: datetime, *, etag: str | None = None, last_modified: str | None = None,
    mtime: float | None = None, release_hold: bool = False,
) -> SourceState:
    """A poll that found the good version again: failures reset, validators refreshed.

    ``release_hold``: the held version is gone upstream (it was a blip), so forget it.
    """
    after = _succeeded(source, now)
    after = replace(after, etag=etag or after.etag, last_modified=last_modified or after.last_modified, mtime=mtime or after.mtime)
    return _no_hold(after) if release_hold else after


def failed(source: SourceState, now: datetime, error: str, next_poll: datetime) -> SourceState:
    """A failed poll: nothing of the good version is touched, only the failure count."""
    return replace(source, last_poll=now, failures=source.failures + 1, last_error=error[:500], next_poll=next_poll)


def alert_sent(source: SourceState, alerted: bool) -> SourceState:
    """Operators were told the source is failing (True) or reachable again (False)."""
    return replace(source, alerted=alerted)


def held(
    source: SourceState, now: datetime, *, content_hash: str, reason: str, etag: str | None, last_modified: str | None
) -> SourceState:
    """A suspicious version (mass change, suspected truncation) waits for a second sighting."""
    return replace(
        _succeeded(source, now), pending_hash=content_hash, pending_etag=etag, pending_last_modified=last_modified,
        pending_since=now, pending_reason=reason,
    )


def adopted(source: SourceState, version: Version, now: datetime) -> SourceState:
    """A version becomes the good snapshot (a baseline, a change, or a confirmed hold)."""
    after = _no_hold(_succeeded(source, now))
    return replace(
        after, content_hash=version.content_hash, entries=len(version.entries), etag=version.etag,
        last_modified=version.last_modified, mtime=version.mtime, last_change=now,
    )
