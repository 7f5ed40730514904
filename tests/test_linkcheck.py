"""Stories of dead links: a paper page that vanished shows as dead in /paper and is counted
in /sources; one that moved (301) is shown at its new address. Checking never announces."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from msgspec import structs

from bot.app import Context
from bot.core.bot import MedBot
from bot.core.link_health import all_entries
from bot.watch.linkcheck import LinkChecker, LinkReport, check_link
from tests.fakes.scholarly import FakeScholarly

LAB = Context(platform="console", chat_id="lab")


@pytest.fixture
async def web() -> AsyncIterator[FakeScholarly]:
    async with FakeScholarly() as fake:
        fake.links["/links/gone"] = (404, None)
        fake.links["/links/old"] = (301, "/links/new")
        fake.links["/links/detour"] = (302, "/links/new")
        fake.links["/links/no-head"] = (405, None)
        yield fake


@pytest.fixture
def core(tmp_path: Path, web: FakeScholarly) -> Iterator[MedBot]:
    (tmp_path / "lab.md").write_text(
        "# Lab list\n\n## Imaging\n\n"
        f"* [Vanished paper]({web.base}/links/gone) - its page is gone [`code`]({web.base}/links/no-head)\n"
        f"* [Moved paper]({web.base}/links/old) - its page moved\n"
        f"* [Fine paper]({web.base}/links/fine) - still there\n",
        encoding="utf-8",
    )
    (tmp_path / "medbot.yaml").write_text("sources:\n  - name: lab\n    path: lab.md\nlinkcheck: {per_host_per_minute: 6000}\n",
                                          encoding="utf-8")
    bot = MedBot.load(tmp_path / "medbot.yaml", tmp_path / "data")
    yield bot
    bot.close()


async def check_all(core: MedBot) -> LinkReport:
    assert core.store is not None
    async with httpx.AsyncClient() as client:
        return await LinkChecker(core.settings, core.store, client).run_round(all_entries(core.settings, core.store))


async def test_a_dead_and_a_moved_link_show_in_paper_and_sources(core: MedBot, web: FakeScholarly) -> None:
    report = await check_all(core)
    assert (report.checked, report.dead, report.moved) == (4, 1, 1)

    vanished = await core.handle(f"/paper {web.base}/links/gone", LAB)
    assert vanished is not None and "⚠️ dead 404" in vanished.plain_text()
    assert f"code — {web.base}/links/no-head\n" in vanished.plain_text() + "\n"  # HEAD refused, GET fine: alive
    moved = await core.handle(f"/paper {web.base}/links/old", LAB)
    assert moved is not None and f"— {web.base}/links/new (moved to; was {web.base}/links/old)" in moved.plain_text()
    sources = await core.handle("/sources", LAB)
    assert sources is not None and "1 dead link" in sources.plain_text()

    # identity is untouched and nothing was queued for announcement
    assert (await core.handle(f"/paper {web.base}/links/old", LAB)).title.startswith("Moved paper")  # type: ignore[union-attr]
    assert core.store is not None and core.store.outbox_counts() == {}


async def test_a_temporary_redirect_is_not_a_move_and_heads_come_first(web: FakeScholarly) -> None:
    async with httpx.AsyncClient() as client:
        detour = await check_link(client, f"{web.base}/links/detour")
        fine = await check_link(client, f"{web.base}/links/fine")
    assert not detour.moved and not detour.dead and detour.last_ok is not None
    assert fine.status == 200 and [seen.method for seen in web.requests_to("links")][-1] == "HEAD"


async def test_the_second_pass_only_checks_what_is_due(core: MedBot, web: FakeScholarly) -> None:
    await check_all(core)
    asked = len(web.seen)
    report = await check_all(core)
    assert report.checked == 0 and len(web.seen) == asked


async def test_one_host_gets_at_most_n_requests_a_minute(core: MedBot, web: FakeScholarly) -> None:
    assert core.store is not None
    settings = replace(core.settings, linkcheck=structs.replace(core.settings.linkcheck, per_host_per_minute=120))  # one every 0.5 s
    async with httpx.AsyncClient() as client:
        await LinkChecker(settings, core.store, client).run_round(all_entries(settings, core.store))
    times = [seen.at for seen in web.requests_to("links")]
    assert times[-1] - times[0] >= 1.4  # four links, three gaps of half a second


async def test_operators_get_a_weekly_summary_of_dead_links_once_a_week(core: MedBot, web: FakeScholarly) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.core.config import AnnounceTarget
    from bot.watch.linkcheck import weekly_summary

    assert core.store is not None
    await check_all(core)
    settings = replace(core.settings, watch=structs.replace(core.settings.watch, operator_chats=(AnnounceTarget("telegram", "-100"),)))
    now = datetime.now(UTC)
    text = weekly_summary(settings, core.store, now)
    assert text is not None and "1 dead link, 1 moved" in text and "Vanished paper" in text and "lab: 1 dead" in text
    assert weekly_summary(settings, core.store, now + timedelta(days=3)) is None  # not again within the week
    assert weekly_summary(settings, core.store, now + timedelta(days=8)) is not None
    [alert, _] = core.store.due_alerts(now + timedelta(days=9))
    assert (alert.platform, alert.chat) == ("telegram", "-100")
    assert weekly_summary(core.settings, core.store, now + timedelta(days=30)) is None  # no operator chats: nothing
