"""Stories of announcements in a Discord server: threads and forum posts, one role pinged
and nobody else, through the real discord.py against the fake Discord on loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.client import DiscordSender, build_client, run_client
from tests.fakes.discord_api import FakeDiscord, Recorded
from tests.routing_lab import Lab, lab, paper_line

TOKEN = "MTIz.fake-bot-token.SECRETSECRET"
NOW = datetime.now(UTC) + timedelta(minutes=1)


@pytest.fixture
def fake(discord_fake: FakeDiscord) -> FakeDiscord:
    return discord_fake


@asynccontextmanager
async def server(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[tuple[Lab, DiscordSender]]:
    environ = {"DISCORD_BOT_TOKEN": TOKEN, "MEDBOT_DISCORD_GUILD_IDS": str(fake.guild_id)}
    async with lab(tmp_path, environ) as opened:
        client = build_client(opened.core, opened.settings, guild_ready_timeout=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(run_client(opened.core, opened.settings, stop, client=client))
        try:
            await fake.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"))
            await opened.poll(NOW - timedelta(days=1))  # the baseline
            yield opened, DiscordSender(client)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)


async def slash(fake: FakeDiscord, text: str, *, thread: int | None = None) -> str:
    """An admin runs ``/subscribe text`` (in ``thread``); returns what the bot answered."""
    interaction = await fake.slash("subscribe", manage_guild=True, in_thread=thread, filter=text)
    answer = await fake.wait_for(fake.callbacks_for(interaction))
    data = answer.json["data"]
    return str(data.get("content") or "") + " ".join(str(e.get("title", "")) + str(e.get("description", "")) for e in data.get("embeds", []))


def posts_to(fake: FakeDiscord, channel: int) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "POST" and r.path == f"/channels/{channel}/messages"]


def stored(fake: FakeDiscord, channel: int) -> list[dict[str, Any]]:
    return [m for m in fake.messages.values() if m["channel_id"] == str(channel)]


async def test_a_subscription_made_in_a_thread_is_announced_in_it_and_stops_when_it_is_deleted(fake: FakeDiscord, tmp_path: Path) -> None:
    async with server(fake, tmp_path) as (lab_, sender):
        thread = fake.create_thread("zebrafish-papers")
        post = fake.create_thread("Reading group", forum=True)
        assert "Subscribed" in await slash(fake, "zebrafish", thread=thread)
        assert "Subscribed" in await slash(fake, "regrowth", thread=post)  # a forum post is a thread too
        assert {(s.chat, s.thread) for s in lab_.core.store.list_subscriptions("discord")} == {
            (str(fake.channel_id), str(thread)), (str(fake.forum_id), str(post))}

        lab_.add_papers(paper_line("Zebrafish fin atlas"), paper_line("Axolotl limb regrowth"))
        await lab_.poll(NOW)
        report = await lab_.deliver_at(NOW, {"discord": sender})
        assert report.messages == 2
        assert "Zebrafish fin atlas" in str(posts_to(fake, thread)[0].json["embeds"])
        assert "Axolotl limb regrowth" in str(posts_to(fake, post)[0].json["embeds"])
        assert not posts_to(fake, fake.channel_id)  # nothing in the channel itself

        fake.delete_thread(thread)
        lab_.add_papers(paper_line("Zebrafish heart atlas"))
        await lab_.poll(NOW + timedelta(hours=1))
        await lab_.deliver_at(NOW + timedelta(hours=1), {"discord": sender})
        await lab_.deliver_at(NOW + timedelta(hours=1, minutes=1), {"discord": sender})
        await lab_.deliver_at(NOW + timedelta(hours=2), {"discord": sender})
        [notice] = posts_to(fake, fake.channel_id)  # once, in the thread's channel
        assert "is gone" in str(notice.json)
        assert {s.thread for s in lab_.core.store.list_subscriptions("discord")} == {str(post)}  # the forum post still works


async def test_a_role_ping_reaches_exactly_that_role_and_everyone_in_a_title_pings_nobody(fake: FakeDiscord, tmp_path: Path) -> None:
    async with server(fake, tmp_path) as (lab_, sender):
        imaging = fake.add_role("imaging")
        fake.add_role("everyone-else")
        answer = await slash(fake, f"zebrafish ping:<@&{imaging}>")
        assert f"<@&{imaging}>" in answer
        lab_.add_papers(paper_line("Zebrafish imaging @everyone <@&1> @here", "pings <@4242> and @everyone"))
        await lab_.poll(NOW)
        report = await lab_.deliver_at(NOW, {"discord": sender})
        assert report.messages == 1

        [sent] = posts_to(fake, fake.channel_id)
        assert sent.json["content"].startswith(f"<@&{imaging}>")
        assert sent.json["allowed_mentions"]["parse"] == []
        assert [str(role) for role in sent.json["allowed_mentions"]["roles"]] == [str(imaging)]
        assert "users" not in sent.json["allowed_mentions"] or sent.json["allowed_mentions"]["users"] == []
        [message] = [m for m in stored(fake, fake.channel_id) if m["content"] == sent.json["content"]]
        assert message["mention_roles"] == [str(imaging)]
        assert message["mention_everyone"] is False and message["mentions"] == []
        assert "@everyone" in str(sent.json["embeds"])  # shown as text, pinging nobody

        # The same message without the allowed_mentions would have pinged everyone: the check can fail.
        assert FakeDiscord.mentions_of(sent.json["content"] + " @everyone <@4242>", None) == (["4242"], [str(imaging)], True)
