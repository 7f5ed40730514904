"""The composition root's list of platforms, and how they are started for a core.

Adding a platform is one adapter package exposing a ``Platform`` plus one line in
``PLATFORMS``. Everything else here works for any platform.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from adapters import console, discord, telegram, web
from bot.core.config import load_settings
from bot.core.platform import Connection, Platform
from bot.core.redact import SecretRedactor, install_redactor
from bot.core.sending import Sender
from bot.core.settings import Settings

if TYPE_CHECKING:
    from bot.core.bot import MedBot

__all__ = ["PLATFORMS", "chat_platforms", "connect_all", "install_redaction", "load", "senders_of"]

log = logging.getLogger(__name__)

PLATFORMS: tuple[Platform, ...] = (
    telegram.PLATFORM,
    discord.PLATFORM,
    web.PLATFORM,
    console.PLATFORM,
)


def load(config_path: str | os.PathLike[str] | None, data_dir: str | os.PathLike[str] | None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Settings with every registered platform's section checked now."""
    return load_settings(config_path, data_dir, environ, platforms=PLATFORMS)


def chat_platforms(settings: Settings) -> list[Platform]:
    """The platforms ``serve`` runs: those that answer users and whose token is set."""
    return [platform for platform in PLATFORMS if platform.chat and platform.available(settings)]


def install_redaction(settings: Settings) -> SecretRedactor:
    """One redactor for every platform's secrets, on every log handler."""
    return install_redactor(secret for platform in PLATFORMS for secret in platform.secrets(settings))


async def connect_all(core: MedBot, settings: Settings, stack: AsyncExitStack, *, chat: bool) -> dict[str, Connection]:
    """Start every available platform (chat ones answer users when ``chat``); each is closed by ``stack``.

    A platform is registered for closing as soon as it is up, so a later one failing
    (a rejected token) still closes the earlier ones.
    """
    connections: dict[str, Connection] = {}
    for platform in PLATFORMS:
        if not platform.available(settings) or (chat and not platform.chat):
            continue
        connection = await platform.connect(core, settings, chat)
        stack.push_async_callback(_close, platform.name, connection)
        connections[platform.name] = connection
    return connections


async def connect_one(core: MedBot, settings: Settings, stack: AsyncExitStack, platform: Platform, *, chat: bool) -> Connection:
    """Start one platform and register it for closing with ``stack``."""
    connection = await platform.connect(core, settings, chat)
    stack.push_async_callback(_close, platform.name, connection)
    return connection


async def _close(name: str, connection: Connection) -> None:
    try:
        await connection.close()
    except Exception:
        log.warning("closing %s failed", name, exc_info=True)


def senders_of(connections: Mapping[str, Connection]) -> dict[str, Sender]:
    """The send paths for announcements (a platform that only answers has none)."""
    return {name: sender for name, connection in connections.items() if (sender := connection.sender) is not None}
