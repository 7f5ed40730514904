"""The port a chat platform plugs into: what an adapter package registers.

An adapter package exposes one ``Platform``: its name (what ``Context.platform`` and
subscriptions store), the environment variable holding its token, the type of its
config section, and ``connect``, which starts it for a core. The composition root
(``bot/run/platforms.py``) lists the platforms; nothing in the core names one.
``connect`` must import the platform's library lazily, so that listing a platform costs
nothing until it is used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.sending import Sender

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.settings import Settings

__all__ = ["Connection", "Platform"]


class Connection(Protocol):
    """A started platform: its send path, and a way to wait for it and to stop it."""

    @property
    def sender(self) -> Sender | None:
        """Its send path for announcements; None for a platform that only answers (the web page)."""

    async def wait_closed(self) -> None:
        """Return (or raise) when the platform stops on its own; normally it never does."""

    async def close(self) -> None: ...


Connect = Callable[["MedBot", "Settings", bool], Awaitable[Connection]]
"""``await connect(core, settings, chat)``: start the platform; ``chat`` also answers users."""


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    settings_type: type[Any]
    connect: Connect
    token_env: str | None = None
    chat: bool = True
    """Whether it answers users (``medbot serve`` runs it); False: it only delivers."""
    secrets: Callable[[Settings], list[str]] = field(default=lambda settings: [])
    """Every secret derived from the settings (token, webhook secret), for log redaction."""
    enabled: Callable[[Settings], bool] = field(default=lambda settings: True)
    """Whether the settings ask for it at all (the web page runs only with a port)."""
    single_receiver: Callable[[Settings], bool] = field(default=lambda settings: False)
    """Whether only one process may receive its updates (Telegram long polling: a second
    poller gets 409). Workers sharing a state then receive only while elected watcher."""
    transient: Callable[[BaseException], bool] = field(default=lambda exc: False)
    """Whether one exception (not its causes) is a failure that passes: the API unreachable,
    a timeout, a server error. Each adapter judges it with its library's exception types."""

    def retryable(self, exc: BaseException) -> bool:
        """Whether starting failed for a reason worth retrying (an unreachable API, not a rejected token).

        The exception and its causes are asked, since libraries wrap the network error
        (python-telegram-bot's ``NetworkError`` from httpx's ``ConnectError``).
        """
        seen: BaseException | None = exc
        for _ in range(8):
            if seen is None:
                return False
            if self.transient(seen):
                return True
            seen = seen.__cause__ or seen.__context__
        return False

    def token(self, settings: Settings) -> str | None:
        return settings.secret(self.token_env) if self.token_env else None

    def available(self, settings: Settings) -> bool:
        """Configured to run here: asked for, and it needs no token or its token is set."""
        return self.enabled(settings) and (self.token_env is None or self.token(settings) is not None)
