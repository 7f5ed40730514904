"""A lab serving a thousand lists: ``/sources`` in the group is one message with a Next
button (it used to be 21 messages in everybody's timeline); in a private chat the
operator still gets the whole list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import ChatKind, Context, MedBot
from tests.fakes import FakeTelegramAPI
from tests.test_telegram import ADA, GROUP, api, running, to, visible  # noqa: F401 - api is a fixture

LISTS = 1000


@pytest.fixture
def thousand_lists(tmp_path: Path) -> Iterator[MedBot]:
    """A core whose config names 1,000 watched lists (none fetched yet: nothing goes online)."""
    config = tmp_path / "medbot.yaml"
    config.write_text(
        "sources:\n" + "".join(f"  - name: list-{n:04d}\n    url: http://127.0.0.1:9/list-{n:04d}.md\n" for n in range(LISTS)),
        encoding="utf-8",
    )
    core = MedBot.load(config_path=str(config), data_dir=str(tmp_path / "data"))
    yield core
    core.close()


async def test_sources_in_a_group_is_one_page_and_a_private_chat_gets_them_all(thousand_lists: MedBot) -> None:
    group = Context(platform="telegram", chat_id="-100", user_id="ada", chat_type=ChatKind.GROUP)
    first = await thousand_lists.handle("/sources", group)
    assert first is not None and first.page is not None
    assert (first.page.number, first.page.pages, first.page.total) == (1, 50, LISTS)
    assert "1–20 of 1000" in first.title and first.plain_text().count("• list-") == 20
    [next_button] = first.buttons
    second = await thousand_lists.press(next_button.payload, group)
    assert second is not None and "list-0020" in second.plain_text() and "list-0019" not in second.plain_text()
    assert {button.label for button in second.buttons} == {"‹ Previous", "Next ›"}

    private = await thousand_lists.handle("/sources", Context(platform="telegram", chat_id="7", user_id="ada"))
    assert private is not None and private.plain_text().count("• list-") == LISTS and not private.buttons


async def test_a_lab_member_asks_for_sources_in_a_telegram_group(api: FakeTelegramAPI, thousand_lists: MedBot,  # noqa: F811
                                                                 tmp_path: Path) -> None:
    async with running(api, thousand_lists, tmp_path):
        api.send_text("/sources", user=ADA, chat=GROUP)
        [answer] = await api.wait_for("sendMessage", where=to(GROUP))
        [[next_button]] = answer.params["reply_markup"]["inline_keyboard"]
        assert "Next" in next_button["text"] and len(next_button["callback_data"].encode()) <= 64
        shown = visible(answer)
        assert shown.count("list-") == 20 and "list-0000" in shown and len(answer.params["text"]) < 4096
        api.press(api.message_from_call(answer), next_button["callback_data"], user=ADA)
        [edit] = await api.wait_for("editMessageText")
        assert "list-0020" in visible(edit) and "list-0000" not in visible(edit)
        await api.wait_for("answerCallbackQuery")
    assert len([call for call in api.calls_to("sendMessage") if to(GROUP)(call)]) == 1
