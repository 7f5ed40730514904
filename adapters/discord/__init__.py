"""Discord, through discord.py 2: the ``discord`` platform (slash commands, embeds, buttons).

Importing this package is cheap; ``connect`` imports discord.py when the platform starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.discord.settings import TOKEN_ENV, DiscordSettings
from bot.core.platform import Connection, Platform

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.settings import Settings

__all__ = ["PLATFORM", "DiscordSettings"]


async def _connect(core: MedBot, settings: Settings, chat: bool) -> Connection:
    from adapters.discord.client import connect

    return await connect(core, settings, chat)


def _secrets(settings: Settings) -> list[str]:
    token = settings.secret(TOKEN_ENV)
    return [token] if token else []


PLATFORM = Platform(name="discord", settings_type=DiscordSettings, connect=_connect, token_env=TOKEN_ENV, secrets=_secrets)
