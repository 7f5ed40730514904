"""Fair shares of the bot: a per-member and a per-chat command budget.

Without one, a member who sends a hundred commands in two seconds queues a hundred
replies behind the platform's flood limits, and everyone else in the group waits minutes.
With one, they get one polite "slow down" and the rest of their burst is dropped unanswered,
so the replies others are owed go out at once. Buckets refill continuously (aiolimiter's
leaky bucket); idle buckets are forgotten.
"""

from __future__ import annotations

from enum import Enum

from aiolimiter import AsyncLimiter
from cachetools import TTLCache

from bot.core.context import Context

__all__ = ["CommandBudget", "Verdict"]


class Verdict(Enum):
    ANSWER = "answer"
    WARN = "warn"  # over budget: say so once
    DROP = "drop"  # still over budget: say nothing


class CommandBudget:
    def __init__(
        self,
        *,
        per_member: tuple[float, float] = (20, 30.0),
        per_member_in_group: tuple[float, float] = (8, 30.0),
        per_chat: tuple[float, float] = (60, 60.0),
    ) -> None:
        # In a group every reply spends the group's flood budget on the platform (Telegram:
        # 20 messages a minute), so one member may spend only a small share of it.
        self._per_member = per_member
        self._per_member_in_group = per_member_in_group
        self._per_chat = per_chat
        self._members: TTLCache[tuple[str, ...], AsyncLimiter] = TTLCache(maxsize=50_000, ttl=600)
        self._chats: TTLCache[tuple[str, ...], AsyncLimiter] = TTLCache(maxsize=20_000, ttl=600)
        self._warned: TTLCache[tuple[str, ...], bool] = TTLCache(maxsize=50_000, ttl=max(per_member[1], per_member_in_group[1]))

    async def check(self, ctx: Context) -> Verdict:
        """Spend one command of ``ctx``'s member and chat, if both have one left (never waits)."""
        member_key = (ctx.platform, ctx.chat_id, ctx.user_id or ctx.chat_id)
        member = self._limiter(self._members, member_key, self._per_member_in_group if ctx.in_group else self._per_member)
        chat = self._limiter(self._chats, member_key[:2], self._per_chat)
        if member.has_capacity() and chat.has_capacity():
            await member.acquire()  # returns at once: the capacity was just checked
            await chat.acquire()
            self._warned.pop(member_key, None)
            return Verdict.ANSWER
        if member_key in self._warned:
            return Verdict.DROP
        self._warned[member_key] = True
        return Verdict.WARN

    @staticmethod
    def _limiter(cache: TTLCache[tuple[str, ...], AsyncLimiter], key: tuple[str, ...], rate: tuple[float, float]) -> AsyncLimiter:
        limiter = cache.get(key)
        if limiter is None:
            limiter = cache[key] = AsyncLimiter(*rate)
        return limiter
