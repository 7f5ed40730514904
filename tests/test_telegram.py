"""Stories of medbot on Telegram: the real python-telegram-bot against a fake Bot API server.

Every test runs the real ``Application`` (handlers, rate limiter, error handler) with
long polling against ``tests.fakes.FakeTelegramAPI`` on 127.0.0.1, injects what a user
would do, and reads the Bot API calls the bot made.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from adapters.telegram_bot import TelegramSender, build_application, start_application, stop_application
from adapters.telegram_render import render_reply
from bot.app import Context
from bot.commands import ArgSpec, CommandSpec, parse_command
from bot.config import Settings, load_settings
from bot.delivery import PermanentFailure, RetryLater
from bot.replies import Button, EntryView, Reply
from tests.fakes import ApiCall, FakeTelegramAPI, parse_telegram_html

GROUP = FakeTelegramAPI.group_chat()
ADA = FakeTelegramAPI.user(1001, "Ada")
LI = FakeTelegramAPI.user(1002, "Li", language_code="zh-hans")


# --- a stand-in core (until the real MedBot can load an index) -------------------------

def _entry(number: int, title: str, section: tuple[str, ...] = ("Lesion Detection",)) -> EntryView:
    return EntryView(id=f"e{number}", title=title, url=f"https://arxiv.org/abs/17{number:02d}.0001",
                     section=section, tags=("JMI 2018",), code_url=f"https://github.com/lab/e{number}")


class StandInCore:
    def __init__(self, entries: list[EntryView]) -> None:
        self.entries = entries

    async def _noop(self, core: Any, args: str, ctx: Context) -> Reply:
        return Reply()

    @property
    def commands(self) -> list[CommandSpec]:
        return [CommandSpec("start", self._noop, "Say hello", "开始", "/start", ""),
                CommandSpec("search", self._noop, "Search", "搜索", "/search <words>", "", ArgSpec("query", "words")),
                CommandSpec("subscribe", self._noop, "Subscribe", "订阅", "/subscribe", "", admin_only=True)]

    async def handle(self, text: str, ctx: Context) -> Reply | None:
        parsed = parse_command(text)
        if parsed is None:
            return await self._search(text, 1, ctx)
        if parsed.addressee and parsed.addressee.lower() != (ctx.bot_username or "").lower():
            return None
        if parsed.name == "start":
            return Reply(text=("Hi! I recommend research resources.",))
        if parsed.name == "search":
            return await self._search(parsed.args, 1, ctx)
        if parsed.name == "subscribe":
            return Reply(text=("Subscribed.",) if ctx.is_admin else ("Only admins can do that.",), is_error=not ctx.is_admin)
        return Reply(text=(f"I don't know /{parsed.name}.",), is_error=True)

    async def _search(self, query: str, page: int, ctx: Context) -> Reply:
        hits = [e for e in self.entries if query.lower() in e.title.lower()]
        shown = hits[(page - 1) * 5: page * 5]
        buttons = (Button("Next ›", f"s|{page + 1}|{query}"),) if len(hits) > page * 5 else ()
        return Reply(title=f"Results for “{query}”", entries=tuple(shown), buttons=buttons)

    async def press(self, payload: str, ctx: Context) -> Reply:
        parts = payload.split("|")
        if len(parts) != 3 or parts[0] != "s":
            return Reply(text=("That button has expired. Please run the command again.",), is_error=True)
        return await self._search(parts[2], int(parts[1]), ctx)

    async def inline_search(self, query: str, ctx: Context, limit: int = 10) -> list[EntryView]:
        return [e for e in self.entries if query.lower() in e.title.lower()][:limit]


BUNDLED = [_entry(1, "DeepLesion: automated mining of large-scale lesion annotations and universal lesion detection with deep learning"),
           *[_entry(n, f"Lesion study number {n}") for n in range(2, 9)],
           _entry(20, "Weird <b>&_*[ title", ("Odd", "Section & <more>"))]


@pytest.fixture
def core() -> StandInCore:
    return StandInCore(BUNDLED)


# --- fixtures --------------------------------------------------------------------------

@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


def settings_for(api: FakeTelegramAPI, data_dir: Path, **env: str) -> Settings:
    environ = {"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url, **env}
    return load_settings(None, data_dir, environ=environ)


@pytest.fixture
async def bot(api: FakeTelegramAPI, core: Any, tmp_path: Path) -> AsyncIterator[Any]:
    settings = settings_for(api, tmp_path)
    application = build_application(core, settings)
    await start_application(application, settings, poll_timeout=1)
    try:
        yield application
    finally:
        await stop_application(application)


def to(chat: dict[str, Any]) -> Any:
    return lambda call: str(call.params.get("chat_id")) == str(chat["id"])


def visible(call: ApiCall) -> str:
    """The text a user sees, after Telegram parses the HTML (fails like Telegram on bad HTML)."""
    assert call.params.get("parse_mode") == "HTML"
    return parse_telegram_html(call.params["text"])[0]


# --- stories ---------------------------------------------------------------------------

async def test_a_new_user_says_start_in_a_private_chat(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/start", user=ADA)
    [answer] = await api.wait_for("sendMessage", where=to(ADA))
    assert "research resources" in visible(answer)
    assert "reply_parameters" not in answer.params  # no threading needed in a private chat
    assert answer.params["link_preview_options"] == {"is_disabled": True}
    # the command menu was published in English and in Chinese at start-up
    assert {c["command"] for c in api.commands[""]} >= {"start", "search"}
    assert {c["command"] for c in api.commands["zh"]} == {c["command"] for c in api.commands[""]}
    assert api.commands["zh"] != api.commands[""]


async def test_a_lab_member_searches_lesion_in_a_group(api: FakeTelegramAPI, bot: Any) -> None:
    asked = api.send_text("/search@medbot lesion", user=ADA, chat=GROUP)
    [answer] = await api.wait_for("sendMessage", where=to(GROUP))
    assert answer.params["reply_parameters"]["message_id"] == asked["message_id"]
    text, links = parse_telegram_html(answer.params["text"])
    assert "DeepLesion" in text and "Lesion Detection" in text and "JMI 2018" in text
    hrefs = dict((label, href) for href, label in links)
    assert any(label.startswith("DeepLesion") for label in hrefs)
    assert "code" in hrefs
    assert answer.params["link_preview_options"] == {"is_disabled": True}


async def test_a_title_full_of_markup_characters_renders_literally(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/search weird", user=ADA)
    [answer] = await api.wait_for("sendMessage", where=to(ADA))
    text = visible(answer)
    assert "Weird <b>&_*[ title" in text
    assert "Section & <more>" in text
    assert api.message_from_call(answer)["text"] == text  # Telegram accepted and stored it as such


async def test_pressing_next_page_edits_the_results_in_place(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/search lesion", user=ADA)
    [first] = await api.wait_for("sendMessage", where=to(ADA))
    [[next_button]] = first.params["reply_markup"]["inline_keyboard"]
    assert len(next_button["callback_data"].encode()) <= 64
    query_id = api.press(api.message_from_call(first), next_button["callback_data"], user=ADA)
    [edit] = await api.wait_for("editMessageText")
    assert edit.params["message_id"] == str(first.result["message_id"])
    assert visible(edit) != visible(first)
    await api.wait_for("answerCallbackQuery", where=lambda c: c.params["callback_query_id"] == query_id)


async def test_a_stale_button_is_answered_politely(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/search lesion", user=ADA)
    [first] = await api.wait_for("sendMessage", where=to(ADA))
    query_id = api.press(api.message_from_call(first), "S|2|expiredtoken", user=ADA)
    [answer] = await api.wait_for("answerCallbackQuery", where=lambda c: c.params["callback_query_id"] == query_id)
    assert "expired" in answer.params["text"]
    assert not api.calls_to("editMessageText")


async def test_an_inline_query_offers_articles(api: FakeTelegramAPI, bot: Any) -> None:
    query_id = api.inline_query("lesion", user=ADA)
    [answer] = await api.wait_for("answerInlineQuery")
    assert answer.params["inline_query_id"] == query_id
    assert 0 < int(answer.params["cache_time"]) <= 300
    results = answer.params["results"]
    assert results and all(r["type"] == "article" for r in results)
    assert any(r["title"].startswith("DeepLesion") for r in results)
    content = results[0]["input_message_content"]
    assert content["parse_mode"] == "HTML"
    parse_telegram_html(content["message_text"])


async def test_flood_control_429_is_waited_out_and_the_answer_arrives(api: FakeTelegramAPI, bot: Any) -> None:
    api.fail("sendMessage", 429, retry_after=1)
    api.send_text("/start", user=ADA)
    await api.wait_for("sendMessage", where=to(ADA))
    assert [c.status for c in api.calls_to("sendMessage")] == [429, 200]


async def test_a_500_on_one_call_does_not_stop_the_bot(api: FakeTelegramAPI, bot: Any) -> None:
    api.fail("sendMessage", 500)
    api.send_text("/search lesion", user=ADA)
    [apology] = await api.wait_for("sendMessage", where=to(ADA))
    assert "sorry" in visible_or_plain(apology).lower()
    api.send_text("/start", user=ADA)
    answers = await api.wait_for("sendMessage", 2, where=to(ADA))
    assert "research resources" in visible(answers[-1])


def visible_or_plain(call: ApiCall) -> str:
    return visible(call) if call.params.get("parse_mode") else str(call.params["text"])


async def test_a_command_for_another_bot_is_ignored(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/search@otherbot lesion", user=ADA, chat=GROUP)
    api.send_text("/start@medbot", user=ADA, chat=GROUP)
    answers = await api.wait_for("sendMessage", where=to(GROUP))
    assert len(answers) == 1 and "research resources" in visible(answers[0])


async def test_the_token_never_reaches_the_logs(api: FakeTelegramAPI, core: Any, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stream = io.StringIO()
    root_handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(root_handler)
    try:
        settings = settings_for(api, tmp_path)
        application = build_application(core, settings)
        await start_application(application, settings, poll_timeout=1)
        try:
            # the API echoes the request URL (with the token) in an error: it gets logged
            api.fail("sendMessage", 500, description=f"Internal error at {api.base_url}{api.token}/sendMessage")
            api.send_text("/start", user=ADA)
            await api.wait_for("sendMessage", where=to(ADA))
            logging.getLogger("medbot.test").warning("token in a plain message: %s", api.token)
        finally:
            await stop_application(application)
    finally:
        logging.getLogger().removeHandler(root_handler)
    captured = caplog.text + stream.getvalue()
    assert "<redacted-token>" in captured  # the error (and our probe) were logged, redacted
    assert api.token not in captured
    assert api.token.split(":")[1] not in captured
    assert all(api.token not in record.getMessage() for record in caplog.records)


async def test_only_group_admins_may_use_admin_commands(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/subscribe", user=ADA, chat=GROUP)
    [refused] = await api.wait_for("sendMessage", where=to(GROUP))
    api.set_member_status(GROUP["id"], ADA["id"], "administrator")
    api.send_text("/subscribe", user=ADA, chat=GROUP)
    answers = await api.wait_for("sendMessage", 2, where=to(GROUP))
    assert visible(refused) != visible(answers[-1])
    assert len(api.calls_to("getChatMember")) == 2


async def test_webhook_mode_receives_updates_pushed_by_telegram(api: FakeTelegramAPI, core: Any, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings_for(api, tmp_path, MEDBOT_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/hook",
                            MEDBOT_TELEGRAM_WEBHOOK_PORT=str(port))
    application = build_application(core, settings)
    await start_application(application, settings)
    try:
        [registered] = await api.wait_for("setWebhook")
        assert registered.params["url"].endswith("/telegram/hook") and registered.params["secret_token"]
        api.send_text("/start", user=ADA)
        await api.wait_for("sendMessage", where=to(ADA))
        assert not api.calls_to("getUpdates")
    finally:
        await stop_application(application)


# --- the announcement send path -----------------------------------------------------------

async def test_announcements_are_sent_silently_with_the_same_rendering(api: FakeTelegramAPI, bot: Any) -> None:
    sender = TelegramSender(bot.bot)
    reply = Reply(title="New in awesome-medical-research", entries=(BUNDLED[0], BUNDLED[-1]))
    await sender.send_reply(str(GROUP["id"]), reply, silent=True)
    [sent] = await api.wait_for("sendMessage", where=to(GROUP))
    assert sent.params["disable_notification"] == "true"
    assert "Weird <b>&_*[ title" in visible(sent)


@pytest.mark.parametrize(("status", "description", "outcome"), [
    (403, None, PermanentFailure),
    (400, "Bad Request: chat not found", PermanentFailure),
    (500, None, RetryLater),
    (429, None, RetryLater),
])
async def test_a_failed_announcement_says_whether_to_retry(api: FakeTelegramAPI, status: int, description: str | None,
                                                           outcome: type[Exception]) -> None:
    from telegram import Bot

    async with Bot(api.token, base_url=api.base_url) as plain_bot:  # no rate limiter: see the raw outcome
        api.fail("sendMessage", status, description=description, retry_after=7 if status == 429 else None)
        with pytest.raises(outcome) as raised:
            await TelegramSender(plain_bot).send_reply("-100999", Reply(text=("hello",)))
    if status == 429:
        assert raised.value.seconds == 7  # type: ignore[attr-defined]


# --- rendering ------------------------------------------------------------------------------

def test_a_long_reply_is_split_below_the_limit_at_entry_boundaries() -> None:
    entries = tuple(EntryView(id=f"id{n}", title=f"Paper {n} " + "x" * 250, url=f"https://e.org/{n}",
                              description="d & <" * 60, section=("A", "B"), tags=("t",)) for n in range(40))
    reply = Reply(title="Many", entries=entries, buttons=(Button("Next ›", "s|2|x"),))
    chunks = render_reply(reply)
    assert len(chunks) > 1
    seen = []
    for chunk in chunks:
        assert len(chunk.encode("utf-16-le")) // 2 < 4096
        text, _ = parse_telegram_html(chunk)
        seen.extend(n for n in range(40) if f"Paper {n} " in text)
    assert seen == list(range(40))  # every entry whole, once, in order


MARKUP_PIECES = st.sampled_from(["<b>", "</i>", "<a href='x'>", "&amp;", "&lt;", "&", "<", ">", "_", "*", "[", "`", '"', "'"])
MARKUP_HEAVY = st.lists(st.one_of(MARKUP_PIECES, st.text(max_size=8)), max_size=12).map("".join)


@hypothesis_settings(max_examples=60, deadline=None)
@given(title=MARKUP_HEAVY.filter(lambda s: s.strip()), tag=MARKUP_HEAVY)
def test_any_title_and_tag_survive_rendering_literally(title: str, tag: str) -> None:
    entry = EntryView(id="x", title=title, url="https://example.org/?a=1&b=<2>", tags=(tag,) if tag.strip() else ())
    [chunk] = render_reply(Reply(entries=(entry,)))
    text, links = parse_telegram_html(chunk)
    assert " ".join(title.split()) in text
    if tag.strip():
        assert " ".join(tag.split()) in text
    assert links[0][0] == "https://example.org/?a=1&b=<2>"
