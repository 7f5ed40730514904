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


def _transient(exc: BaseException) -> bool:
    """Discord or the network down (no connection, a timeout, a 5xx, no gateway) passes;
    a rejected token (``LoginFailure``) or a refused request does not."""
    import aiohttp
    import discord

    return isinstance(exc, (aiohttp.ClientConnectionError, TimeoutError, discord.DiscordServerError, discord.GatewayNotFound))


def _secrets(settings: Settings) -> list[str]:
    token = settings.secret(TOKEN_ENV)
    return [token] if token else []


PLATFORM = Platform(name="discord", settings_type=DiscordSettings, connect=_connect, token_env=TOKEN_ENV, secrets=_secrets,
                    transient=_transient)
