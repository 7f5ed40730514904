"""A community bot in many servers: ``discord.shards`` and ``discord.shard_ids`` split the gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord
import pytest

from bot.core.bot import MedBot
from bot.core.config import load_settings
from bot.core.settings import ConfigError
from bot.run.platforms import load
from bot.run.service import run_service
from tests.fakes.discord_api import FakeDiscord

pytestmark = pytest.mark.slow

TOKEN = "MTIz.shard-token.SECRETSECRET"


@pytest.fixture
def fake(discord_fake: FakeDiscord) -> FakeDiscord:
    return discord_fake


async def test_a_worker_owning_shards_1_and_3_of_4_identifies_as_exactly_those(fake: FakeDiscord, tmp_path: Path) -> None:
    (tmp_path / "lab.md").write_text("# Lab\n\n## Zebrafish\n\n* [Zebrafish atlas](https://example.org/zf)\n", encoding="utf-8")
    config = tmp_path / "medbot.yaml"
    config.write_text("sources:\n  - name: lab\n    path: lab.md\ndiscord:\n  shards: 4\n  shard_ids: [1, 3]\n", encoding="utf-8")
    settings = load_settings(config, tmp_path / "data", environ={"DISCORD_BOT_TOKEN": TOKEN})
    core = MedBot.load(settings=settings)
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(core, settings, stop))
    try:
        for _ in range(400):
            if len(fake.identities) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        exit_code = await asyncio.wait_for(service, 60)
    assert exit_code == 0
    assert sorted(map(tuple, filter(None, fake.identities))) == [(1, 4), (3, 4)]  # the other worker runs 0 and 2


def test_shards_auto_asks_discord_for_the_count_and_shard_ids_need_a_count(tmp_path: Path) -> None:
    from adapters.discord.client import build_client

    config = tmp_path / "medbot.yaml"
    config.write_text("discord:\n  shards: auto\n", encoding="utf-8")
    settings = load(config, tmp_path / "data", {"DISCORD_BOT_TOKEN": TOKEN})
    client = build_client(object(), settings)  # type: ignore[arg-type]
    assert isinstance(client, discord.AutoShardedClient) and client.shard_count is None  # asked at login
    plain = build_client(object(), load(None, tmp_path / "data", {"DISCORD_BOT_TOKEN": TOKEN}))  # type: ignore[arg-type]
    assert not isinstance(plain, discord.AutoShardedClient)
    config.write_text("discord:\n  shard_ids: [1]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="shard_ids: needs shards"):
        load(config, tmp_path / "data", {"DISCORD_BOT_TOKEN": TOKEN})
