"""The ``discord:`` config section (env ``MEDBOT_DISCORD_<KEY>``), checked at load."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["TOKEN_ENV", "DiscordSettings"]

TOKEN_ENV = "DISCORD_BOT_TOKEN"


class DiscordSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    guild_ids: tuple[int, ...] = ()
    """Servers to sync the slash commands to at once while developing (else global sync)."""
    shards: Literal["auto"] | Annotated[int, msgspec.Meta(ge=1)] | None = None
    """``auto`` (Discord's recommended count) or N: an ``AutoShardedClient``; unset: one connection."""
    shard_ids: tuple[Annotated[int, msgspec.Meta(ge=0)], ...] = ()
    """The shards this worker runs (the others run the rest); needs ``shards: N``."""

    def __post_init__(self) -> None:
        if self.shard_ids and not isinstance(self.shards, int):
            raise ValueError("shard_ids: needs shards: N (how many shards there are in all)")
        beyond = [shard for shard in self.shard_ids if isinstance(self.shards, int) and shard >= self.shards]
        if beyond:
            raise ValueError(f"shard_ids: {beyond[0]} is not below shards ({self.shards})")
