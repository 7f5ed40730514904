"""Telegram, through python-telegram-bot 22: the ``telegram`` platform.

Importing this package is cheap; ``connect`` imports python-telegram-bot when the
platform is started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.telegram.settings import TOKEN_ENV, TelegramSettings, webhook_secret
from bot.core.platform import Connection, Platform

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.settings import Settings

__all__ = ["PLATFORM", "TelegramSettings", "webhook_secret"]


async def _connect(core: MedBot, settings: Settings, chat: bool) -> Connection:
    from adapters.telegram.bot import connect

    return await connect(core, settings, chat)


def _transient(exc: BaseException) -> bool:
    """A network fault or a flood wait passes; a rejected token or a bad request does not."""
    from telegram.error import BadRequest, NetworkError, RetryAfter

    return isinstance(exc, (NetworkError, RetryAfter)) and not isinstance(exc, BadRequest)


def _secrets(settings: Settings) -> list[str]:
    token = settings.secret(TOKEN_ENV)
    return [token, webhook_secret(token)] if token else []


def _polls(settings: Settings) -> bool:
    """Long polling (no webhook): Telegram answers a second poller with 409, so one worker polls."""
    return not settings.platform("telegram", TelegramSettings).webhook_url


PLATFORM = Platform(name="telegram", settings_type=TelegramSettings, connect=_connect, token_env=TOKEN_ENV, secrets=_secrets,
                    single_receiver=_polls, transient=_transient)
