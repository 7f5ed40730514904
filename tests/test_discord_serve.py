"""``medbot serve`` with only DISCORD_BOT_TOKEN: the Discord client runs beside the watcher,
and a paper added upstream is announced in the channel that subscribed to its topic.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.bot import MedBot
from bot.core.config import load_settings
from bot.run.service import run_service
from tests.fakes.discord_api import FakeDiscord

pytestmark = pytest.mark.slow

TOKEN = "MTIz.serve-token.SECRETSECRET"
FIRST = "# Lab list\n\n## Zebrafish\n\n* [Zebrafish lesion atlas](https://example.org/zf-atlas)\n"
ADDED = "* [Zebrafish heart regeneration @everyone](https://example.org/zf-heart) [`code`](https://github.com/lab/zf-heart)\n"


@pytest.fixture
def fake(discord_fake: FakeDiscord) -> FakeDiscord:
    return discord_fake


async def _until(condition: object, what: str) -> None:
    """Wait (without a timed assertion) until ``condition()`` holds; fail after a generous limit."""
    for _ in range(600):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_a_subscribed_channel_gets_the_new_paper_from_serve(fake: FakeDiscord, tmp_path: Path) -> None:
    lab_list = tmp_path / "lab.md"
    lab_list.write_text(FIRST, encoding="utf-8")
    config = tmp_path / "medbot.yaml"
    config.write_text("sources:\n  - name: lab-list\n    path: lab.md\nwatch: {interval: 0.2, jitter: 0}\n", encoding="utf-8")
    settings = load_settings(config, tmp_path / "data", environ={"DISCORD_BOT_TOKEN": TOKEN})
    core = MedBot.load(settings=settings)
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(core, settings, stop))
    try:
        await fake.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"), timeout=60)
        subscribing = await fake.slash("subscribe", manage_guild=True, filter="zebrafish")
        answer = await fake.wait_for(fake.callbacks_for(subscribing))
        data = answer.json["data"]
        assert "Subscribed" in (data.get("content") or "") + (data["embeds"][0].get("title") or "")  # with matching entries
        await _until(lambda: core.store.source_state("lab-list") is not None, "the watcher's first poll")

        lab_list.write_text(FIRST + ADDED, encoding="utf-8")
        posted = await fake.wait_for(lambda r: r.method == "POST" and r.path == f"/channels/{fake.channel_id}/messages", timeout=60)
    finally:
        stop.set()
        exit_code = await asyncio.wait_for(service, 60)

    assert exit_code == 0
    assert posted.authorization == f"Bot {TOKEN}"
    assert posted.json["allowed_mentions"] == {"parse": []}
    [embed] = posted.json["embeds"]
    assert embed["title"] == "Zebrafish heart regeneration @everyone"  # shown, but pings nobody
    assert embed["url"] == "https://example.org/zf-heart"
    assert {"name": "Code", "value": "[code](https://github.com/lab/zf-heart)", "inline": True} in embed["fields"]


async def test_watch_once_announces_to_a_subscribed_discord_channel(fake: FakeDiscord, tmp_path: Path) -> None:
    """A lab runs ``medbot watch --once`` from cron with only a Discord token."""
    from bot.run.watching import watch_main
    from bot.store.sqlite import Store

    lab_list = tmp_path / "lab.md"
    lab_list.write_text(FIRST, encoding="utf-8")
    config = tmp_path / "medbot.yaml"
    config.write_text("sources:\n  - name: lab-list\n    path: lab.md\n", encoding="utf-8")
    settings = load_settings(config, tmp_path / "data", environ={"DISCORD_BOT_TOKEN": TOKEN})
    assert await watch_main(settings, once=True) == 0  # the baseline: nothing to announce
    with Store(settings.state_path) as store:
        store.add_subscription("discord", str(fake.channel_id), "zebrafish", created_by="42")
    lab_list.write_text(FIRST + ADDED, encoding="utf-8")

    assert await watch_main(settings, once=True) == 0

    posts = [r for r in fake.requests if r.method == "POST" and r.path == f"/channels/{fake.channel_id}/messages"]
    assert len(posts) == 1
    assert posts[0].json["allowed_mentions"] == {"parse": []}
    assert posts[0].json["embeds"][0]["title"] == "Zebrafish heart regeneration @everyone"
    with Store(settings.state_path) as store:
        assert store.outbox_counts().get("sent") == 1 and not store.outbox_counts().get("pending")
