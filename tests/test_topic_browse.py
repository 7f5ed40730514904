"""A lab with nine lists browses ``/topic``: the lists first, then one list's sections, paged.

With many lists, one merged tree of every section said nothing of where a section came
from and was cut off ("Topics (4508 sections)" …). Now ``/topic`` lists the lists (one
line each, with its counts and a button), a list's button shows its own sections, and a
section opened from there, or typed while looking at that list, shows that list's
entries even when another list has a section of the same name ("Books"). Told through
the real python-telegram-bot and discord.py against the loopback fakes, and the console.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.console.chat import run_console
from adapters.discord.client import build_client, run_client
from adapters.telegram.bot import build_application, start_application, stop_application
from bot.core.bot import MedBot
from bot.core.config import load_settings
from bot.core.context import Context
from tests.conftest import REPO_ROOT, shared_dir
from tests.fakes import ApiCall, FakeTelegramAPI, parse_telegram_html
from tests.fakes.discord_api import FakeDiscord

SHARED = shared_dir()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(SHARED is None, reason="needs the shared corpus (../shared)")]

CORPUS = {  # small corpus lists; "ai" and "latex" both have a "Books" section
    "ai": "owainlewis__awesome-artificial-intelligence",
    "bioinformatics": "danielecook__Awesome-Bioinformatics",
    "unity": "RyanNielson__awesome-unity",
    "mysql": "shlomi-noach__awesome-mysql",
    "react": "enaqx__awesome-react",
    "latex": "egeerardyn__awesome-LaTeX",
    "frontend": "dypsilon__frontend-dev-bookmarks",
}
ADA = FakeTelegramAPI.user(1001, "Ada")
BOB = FakeTelegramAPI.user(1003, "Bob")
DISCORD_TOKEN = "MTIz.topic-token.SECRETSECRET"


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config with the two bundled seed lists and seven corpus lists: nine lists, two pages of them."""
    assert SHARED is not None
    root = tmp_path_factory.mktemp("nine-lists")
    lines = [f"  - name: {path.stem}\n    path: {path}\n" for path in sorted((REPO_ROOT / "data" / "lists").glob("*.md"))]
    lines += [f"  - name: {name}\n    path: {SHARED / 'corpus' / 'lists' / (file + '.md')}\n" for name, file in CORPUS.items()]
    (root / "medbot.yaml").write_text("sources:\n" + "".join(lines), encoding="utf-8")
    MedBot.load(config_path=str(root / "medbot.yaml"), data_dir=str(root / "data")).close()  # build the index once
    return root


@pytest.fixture
def core(lab_dir: Path) -> Iterator[MedBot]:
    lab = MedBot.load(config_path=str(lab_dir / "medbot.yaml"), data_dir=str(lab_dir / "data"))
    yield lab
    lab.close()


def visible(call: ApiCall) -> str:
    return parse_telegram_html(call.params["text"])[0]


def keyboard(call: ApiCall) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row}


async def test_core_topic_with_no_name_pages_the_lists_and_counts_each(core: MedBot) -> None:
    ctx = Context(platform="console", chat_id="lab")
    first = await core.handle("/topic", ctx)
    assert first.page is not None and (first.page.number, first.page.pages, first.page.total) == (1, 2, 9)
    lines = first.plain_text().splitlines()
    assert "9 lists" in first.title and "sections" in first.title
    assert sum(1 for line in lines if " — " in line and "sections" in line and "entries" in line) == 8  # one line a list
    assert len(first.plain_text()) < 2000  # no longer every section of every list
    second = await core.press(next(b.payload for b in first.buttons if "Next" in b.label), ctx)
    assert second.page is not None and second.page.number == 2 and second.page.first == 9
    assert "9. " in second.plain_text()


async def test_telegram_lists_then_a_lists_sections_then_its_books(core: MedBot, tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api:
        settings = load_settings(None, tmp_path, environ={"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url})
        application = build_application(core, settings)
        await start_application(application, settings, poll_timeout=1)
        try:
            api.send_text("/topic", user=ADA)
            [lists] = await api.wait_for("sendMessage")
            text = visible(lists)
            assert "9 lists" in text.splitlines()[0]
            assert "1. awesome-medical-machine-learning — " in text and "sections" in text
            buttons = keyboard(lists)
            assert "Next ›" in buttons and all(len(data.encode()) <= 64 for data in buttons.values())

            api.press(api.message_from_call(lists), buttons["Next ›"], user=ADA)
            [page_two] = await api.wait_for("editMessageText")
            assert "9. frontend — " in visible(page_two) and "« All lists" not in keyboard(page_two)

            api.press(api.message_from_call(lists), keyboard(page_two)["‹ Previous"], user=ADA)
            [_, back] = await api.wait_for("editMessageText", count=2)
            ai_button = next(label for label in keyboard(back) if label.endswith(". ai"))
            api.press(api.message_from_call(lists), keyboard(back)[ai_button], user=ADA)
            [*_, sections] = await api.wait_for("editMessageText", count=3)
            assert visible(sections).startswith("ai: ") and "Books" in visible(sections)
            assert "« All lists" in keyboard(sections)

            # typed while looking at the "ai" list: its Books, not LaTeX's
            api.send_text("/topic Books", user=ADA)
            [*_, books] = await api.wait_for("sendMessage", count=2)
            heading = visible(books).splitlines()[0]
            assert heading.startswith("ai: ") and "Books" in heading
            assert "« ai" in keyboard(books)
        finally:
            await stop_application(application)
    ada_books = await core.handle("/topic Books", Context(platform="telegram", chat_id=str(ADA["id"])))
    assert ada_books.entries and all(entry.sources == ("ai",) for entry in ada_books.entries)
    everyone = await core.handle("/topic Books", Context(platform="telegram", chat_id=str(BOB["id"])))
    assert everyone.entries and not all(entry.sources == ("ai",) for entry in everyone.entries)  # not browsing: another list's


async def test_discord_buttons_go_from_the_lists_to_latex_books(core: MedBot, discord_fake: FakeDiscord, tmp_path: Path) -> None:
    environ = {"DISCORD_BOT_TOKEN": DISCORD_TOKEN, "MEDBOT_DISCORD_GUILD_IDS": str(discord_fake.guild_id)}
    settings = load_settings(data_dir=tmp_path, environ=environ)
    client = build_client(core, settings, guild_ready_timeout=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(run_client(core, settings, stop, client=client))
    try:
        await discord_fake.wait_for(lambda r: r.method == "PUT" and r.path.endswith("/commands"))
        await asyncio.wait_for(discord_fake.identified.wait(), 15)
        asking = await discord_fake.slash("topic", guild_command=True)
        answer = await discord_fake.wait_for(discord_fake.callbacks_for(asking))
        message_id = int(discord_fake.originals[asking["token"]])
        rows = answer.json["data"]["components"]
        labels = [button["label"] for row in rows for button in row["components"]]
        assert "Next ›" in labels and all(len(row["components"]) <= 5 for row in rows)

        async def click(label: str) -> dict[str, Any]:
            clicked = await discord_fake.click(message_id, label)
            await discord_fake.wait_for(discord_fake.callbacks_for(clicked))
            return discord_fake.messages[message_id]

        latex_label = next(label for label in labels if label.endswith(". latex"))
        shown = await click(latex_label)
        assert "latex: " in str(shown)

        def shown_labels(message: dict[str, Any]) -> list[str]:
            return [b["label"] for row in message["components"] for b in row["components"]]

        for _ in range(10):  # page through LaTeX's sections to its Books
            if any(label.endswith(". Books") for label in shown_labels(shown)):
                break
            shown = await click("Next ›")
        books_label = next(label for label in shown_labels(shown) if label.endswith(". Books"))
        shown = await click(books_label)
        assert "latex: Books" in str(shown)
        assert "« latex" in shown_labels(shown)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def test_console_topic_shows_the_lists_and_opens_one_by_name_or_button(core: MedBot) -> None:
    out = io.StringIO()
    run_console(core, io.StringIO("/topic\n:n\n/topic mysql\n"), out)
    text = out.getvalue()
    assert "1. awesome-medical-machine-learning — " in text and "9. frontend — " in text  # both pages of lists
    assert "mysql: 22 sections" in text and "2. Backup (5)" in text  # a list by name: its sections
