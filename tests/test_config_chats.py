"""A chat the operator's config lists for announcements: the group's admin types
/unsubscribe, and the next cron ``medbot watch --once`` (which syncs the config again)
must not bring the announcements back. /subscribe there ends the silence, once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.app import ChatKind, Context, MedBot
from tests.fakes import FakeTelegramAPI
from tests.fakes.upstream import FakeUpstream
from tests.test_delivery_stories import RESEARCH, with_papers
from tests.test_watch_crash import run_watch

pytestmark = pytest.mark.slow

SILENCED, LISTENING = "-1001", "-1002"


def arrivals(api: FakeTelegramAPI, title: str) -> Counter[str]:
    return Counter(str(c.params["chat_id"]) for c in api.calls_to("sendMessage") if c.status == 200 and title in str(c.params.get("text")))


async def admin_says(config: Path, data_dir: Path, text: str) -> str:
    core = MedBot.load(config_path=str(config), data_dir=str(data_dir), sync=False)
    try:
        admin = Context(platform="telegram", chat_id=SILENCED, user_id="42", is_admin=True, chat_type=ChatKind.GROUP)
        reply = await core.handle(text, admin)
        assert reply is not None and not reply.is_error, reply
        return reply.plain_text()
    finally:
        core.close()


async def test_an_admin_silences_a_config_listed_chat_and_it_stays_silent(tmp_path: Path) -> None:
    async with FakeUpstream() as upstream, FakeTelegramAPI() as api:
        upstream.publish("research", RESEARCH)
        config = tmp_path / "medbot.yaml"
        config.write_text(
            f"sources:\n  - name: research\n    url: {upstream.url('research')}\n"
            "watch: {timeout: 10, announce: ["
            f"{{platform: telegram, chat: '{SILENCED}'}}, {{platform: telegram, chat: '{LISTENING}'}}]}}\n"
            f"telegram: {{base_url: '{api.root_url}'}}\n",
            encoding="utf-8",
        )
        data_dir = tmp_path / "data"
        await run_watch(config, data_dir, api, kill_after=None)  # baseline; the config's chats are subscribed

        upstream.publish("research", with_papers(RESEARCH, ["Before the silence"]))
        await run_watch(config, data_dir, api, kill_after=None)
        assert arrivals(api, "Before the silence") == {SILENCED: 1, LISTENING: 1}

        assert "#" in await admin_says(config, data_dir, "/unsubscribe")
        upstream.publish("research", with_papers(RESEARCH, ["Before the silence", "During the silence"]))
        await run_watch(config, data_dir, api, kill_after=None)  # syncs the config again
        await run_watch(config, data_dir, api, kill_after=None)  # and again, a restart later
        assert arrivals(api, "During the silence") == {LISTENING: 1}

        await admin_says(config, data_dir, "/subscribe")
        upstream.publish("research", with_papers(RESEARCH, ["Before the silence", "During the silence", "After the silence"]))
        await run_watch(config, data_dir, api, kill_after=None)
        await run_watch(config, data_dir, api, kill_after=None)
        assert arrivals(api, "After the silence") == {SILENCED: 1, LISTENING: 1}  # back, and not twice
