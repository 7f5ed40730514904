"""The state machine of an outbox (or alert) row, one function per transition.

```
QUEUED ──claim──▶ SENDING        (postpone: QUEUED stays QUEUED, later) ──sent──▶ SENT
  ▲  │               │ ├──retry (flood wait, network)──▶ QUEUED (next_try later)
  │  cancel          │ └──dead (refused for good)──────▶ DEAD
  │  ▼               │
CANCELLED   recover (after a crash) ──▶ QUEUED
```

A transition is a ``Move``: the target state, what to record, and the states it may
start from. The store applies it with one fixed statement, so no SQL is assembled and a
row never jumps from a state the machine does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["Delivery", "Move", "attempt", "cancel", "claim", "dead", "postpone", "recover", "release", "retry", "sent"]


class Delivery(StrEnum):
    QUEUED = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Move:
    to: Delivery
    sources: tuple[Delivery, ...]
    error: str | None = None
    next_try: datetime | None = None
    attempt: bool = False
    sent_at: datetime | None = None
    tried_at: datetime | None = None


def claim() -> Move:
    """About to send: one attempt more."""
    return Move(Delivery.SENDING, (Delivery.QUEUED,), attempt=True)


def sent(now: datetime) -> Move:
    """The platform accepted the message (only then)."""
    return Move(Delivery.SENT, (Delivery.SENDING,), sent_at=now)


def retry(error: str, next_try: datetime | None = None) -> Move:
    """Try again, now or at ``next_try``."""
    return Move(Delivery.QUEUED, (Delivery.SENDING,), error=error[:500], next_try=next_try)


def dead(error: str) -> Move:
    """Never deliverable (too many attempts, the platform refused this message)."""
    return Move(Delivery.DEAD, (Delivery.QUEUED, Delivery.SENDING), error=error[:500])


def attempt(now: datetime | None = None) -> Move:
    """A claimed row is about to go out once more (counted before the send, not after).

    ``now`` is recorded as the try's moment: a worker killed after sending leaves it,
    so whoever resends keeps the chat's flood limit from that moment.
    """
    return Move(Delivery.SENDING, (Delivery.SENDING,), attempt=True, tried_at=now)


def release(next_try: datetime) -> Move:
    """A claimed row this process will not send now: queued again for ``next_try``."""
    return Move(Delivery.QUEUED, (Delivery.SENDING,), next_try=next_try)


def postpone(next_try: datetime) -> Move:
    """Not yet: an earlier message to the same chat must wait, so this one waits with it."""
    return Move(Delivery.QUEUED, (Delivery.QUEUED,), next_try=next_try)


def cancel() -> Move:
    """Nobody wants it any more (unsubscribed before it went out)."""
    return Move(Delivery.CANCELLED, (Delivery.QUEUED,))


def recover() -> Move:
    """After a crash: a row caught in flight is queued again (one duplicate at most)."""
    return Move(Delivery.QUEUED, (Delivery.SENDING,))
