"""The ``discord:`` config section (env ``MEDBOT_DISCORD_<KEY>``), checked at load."""

from __future__ import annotations

import msgspec

__all__ = ["TOKEN_ENV", "DiscordSettings"]

TOKEN_ENV = "DISCORD_BOT_TOKEN"


class DiscordSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    guild_ids: tuple[int, ...] = ()
    """Servers to sync the slash commands to at once while developing (else global sync)."""
