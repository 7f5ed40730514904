"""Counts said right: "1 entry", "1 failed poll", "2 failed polls", in English and Chinese.

A lab starts with a list of one entry, and its upstream list fails once, then twice. The
chat and the command line used to say "1 entries", "1 failed polls", "1 results" and
"announcement(s)".
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.bot import MedBot
from bot.core.context import Context
from bot.core.i18n import plural, t
from tests.conftest import medbot_command, medbot_env
from tests.fakes.upstream import FakeUpstream

pytestmark = pytest.mark.slow

ONE = "# One\n\n## Clustering\n\n* [Solo clustering](https://example.org/solo) - the only entry.\n"
TWO = ONE + "* [Duo clustering](https://example.org/duo) - a second entry.\n"
EN = Context(platform="console", chat_id="lab")
ZH = Context(platform="console", chat_id="lab", language="zh")


async def medbot(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *medbot_command(*args), env=medbot_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode is not None
    return process.returncode, out.decode()


def test_plural_forms_in_both_languages() -> None:
    assert [plural("en", "entry", n) for n in (0, 1, 2)] == ["0 entries", "1 entry", "2 entries"]
    assert [plural("en", "failed_poll", n) for n in (1, 2)] == ["1 failed poll", "2 failed polls"]
    assert plural("en", "result", 1) == "1 result" and plural("zh", "entry", 1) == "1 个条目"
    assert t("en", "new_none", days=1).startswith("No new entries recorded in the last day.")
    assert t("zh", "source_failures", n=1) == "连续 1 次轮询失败"


async def test_a_one_entry_list_and_a_failing_upstream_are_counted_right(tmp_path: Path) -> None:
    async with FakeUpstream() as upstream:
        upstream.publish("solo", ONE)
        config = tmp_path / "medbot.yaml"
        config.write_text(f"sources:\n  - name: solo\n    url: {upstream.url('solo')}\n", encoding="utf-8")
        base = ("--config", str(config), "--data-dir", str(tmp_path / "data"))

        code, out = await medbot(*base, "watch", "--once")
        assert code == 0, out
        assert "solo: first version recorded (1 entry; nothing announced)" in out
        assert "announcements sent: 0 messages for 0 entries" in out

        upstream.publish("solo", TWO)
        code, out = await medbot(*base, "watch", "--once", "--force")
        assert "solo: changed: 1 new entry" in out and "1 new entries" not in out

        upstream.fault("solo", "500", times=2)
        code, out = await medbot(*base, "watch", "--once", "--force")
        assert code == 1 and "1 of 1 due poll failed" in out
        core = MedBot.load(config_path=str(config), data_dir=str(tmp_path / "data"))
        try:
            once = (await core.handle("/sources", EN)).plain_text()
            assert "solo: 2 entries" in once and "1 failed poll" in once and "1 failed polls" not in once
        finally:
            core.close()
        code, out = await medbot(*base, "watch", "--once", "--force")
        core = MedBot.load(config_path=str(config), data_dir=str(tmp_path / "data"))
        try:
            twice = (await core.handle("/sources", EN)).plain_text()
            assert "2 failed polls in a row" in twice
            assert "连续 2 次轮询失败" in (await core.handle("/sources", ZH)).plain_text()
            single = await core.handle('/search "Solo clustering"', EN)
            assert single.page is not None and single.page.total >= 1
        finally:
            core.close()

        code, out = await medbot(*base, "search", "Solo clustering", "--limit", "1")
        assert code == 0 and not out.startswith("1 results")


async def test_the_chat_takes_the_same_day_range_as_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "one.md").write_text(ONE, encoding="utf-8")
    (tmp_path / "medbot.yaml").write_text("sources:\n  - name: one\n    path: one.md\n", encoding="utf-8")
    core = MedBot.load(config_path=str(tmp_path / "medbot.yaml"), data_dir=str(tmp_path / "data"))
    try:
        too_far = await core.handle("/new 366", EN)
        assert too_far.is_error and "1 to 365" in too_far.plain_text()
        assert not (await core.handle("/new 365", EN)).is_error
        listed = (await core.handle("/sources", EN)).plain_text()
        assert "one: 1 entry" in listed and "1 entries" not in listed
    finally:
        core.close()
    code, out = await medbot("--config", str(tmp_path / "medbot.yaml"), "--data-dir", str(tmp_path / "data"), "new", "--days", "366")
    assert code == 2 and "1 to 365" in out
    code, out = await medbot("--config", str(tmp_path / "medbot.yaml"), "--data-dir", str(tmp_path / "data"), "check")
    assert "list one: 1 entry in" in out, out
