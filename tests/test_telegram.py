"""Stories of medbot on Telegram: the real python-telegram-bot against a fake Bot API server.

Every test runs the real ``Application`` (handlers, rate limiter, error handler) with
long polling against ``tests.fakes.FakeTelegramAPI`` on 127.0.0.1, injects what a user
would do, and reads the Bot API calls the bot made.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from adapters.telegram.bot import TelegramSender, build_application, start_application, stop_application
from adapters.telegram.render import render_reply
from bot.app import Context
from bot.core.bot import MedBot
from bot.core.config import Settings, load_settings
from bot.core.redact import remove_redactor
from bot.core.replies import Button, EntryView, Reply
from bot.core.sending import PermanentFailure, RetryLater
from bot.run.platforms import install_redaction
from tests.fakes import ApiCall, FakeTelegramAPI, parse_telegram_html
from tests.fakes.spy_core import SpyCore

GROUP = FakeTelegramAPI.group_chat()
ADA = FakeTelegramAPI.user(1001, "Ada")
LI = FakeTelegramAPI.user(1002, "Li", language_code="zh-hans")


ODD_TITLE = "Weird <b>&_*[ title"
ODD_LIST = """# Odd lab list

## Odd & \\<more>

* [Weird \\<b>&\\_\\*\\[ title](https://example.org/weird?a=1&b=2) - a paper whose title looks like markup [`code`](https://github.com/lab/weird)
* [Plain neighbour](https://example.org/plain) - another paper
"""


@pytest.fixture
def core(bundled_core: MedBot) -> MedBot:
    """The real core over the bundled lists (DeepLesion and friends)."""
    return bundled_core


@pytest.fixture
def odd_core(tmp_path: Path) -> Iterator[MedBot]:
    """The real core over a tiny list whose title is full of markup characters."""
    (tmp_path / "odd.md").write_text(ODD_LIST, encoding="utf-8")
    (tmp_path / "medbot.yaml").write_text("sources:\n  - path: odd.md\n", encoding="utf-8")
    odd = MedBot.load(config_path=str(tmp_path / "medbot.yaml"), data_dir=str(tmp_path / "odd-data"))
    yield odd
    odd.close()


# --- fixtures --------------------------------------------------------------------------

@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


def settings_for(api: FakeTelegramAPI, data_dir: Path, **env: str) -> Settings:
    environ = {"TELEGRAM_BOT_TOKEN": api.token, "MEDBOT_TELEGRAM_BASE_URL": api.root_url, **env}
    return load_settings(None, data_dir, environ=environ)


@asynccontextmanager
async def running(api: FakeTelegramAPI, core: MedBot, data_dir: Path, **env: str) -> AsyncIterator[Any]:
    """The real PTB application for ``core``, started by hand, long polling the fake."""
    settings = settings_for(api, data_dir, **env)
    application = build_application(core, settings)
    await start_application(application, settings, poll_timeout=1)
    try:
        yield application
    finally:
        await stop_application(application)


@pytest.fixture
async def bot(api: FakeTelegramAPI, core: MedBot, tmp_path: Path) -> AsyncIterator[Any]:
    async with running(api, core, tmp_path) as application:
        yield application


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


async def test_a_chinese_speaking_user_gets_chinese_replies(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/start", user=LI)
    [answer] = await api.wait_for("sendMessage", where=to(LI))
    assert "你好" in visible(answer)


async def test_in_a_private_chat_plain_words_are_a_search(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("lesion detection", user=ADA)
    [answer] = await api.wait_for("sendMessage", where=to(ADA))
    assert "DeepLesion" in visible(answer)


async def test_a_lab_member_searches_lesion_in_a_group(api: FakeTelegramAPI, bot: Any) -> None:
    asked = api.send_text("/search@medbot lesion", user=ADA, chat=GROUP)
    [answer] = await api.wait_for("sendMessage", where=to(GROUP))
    assert answer.params["reply_parameters"]["message_id"] == asked["message_id"]
    text, links = parse_telegram_html(answer.params["text"])  # Telegram would accept it
    assert "lesion" in text.splitlines()[0].lower()  # the heading names the query
    assert "DeepLesion: automated mining" in text
    assert "Lesion Detection" in text and "JMI 2018" in text  # section and tags shown
    assert ("https://arxiv.org/pdf/1710.01766.pdf", "DeepLesion: automated mining of large-scale lesion annotations "
            "and universal lesion detection with deep learning") in links  # the title is the link
    assert ("https://github.com/rsummers11/CADLab/tree/master/lesion_detector_3DCE", "code") in links
    assert answer.params["link_preview_options"] == {"is_disabled": True}


async def test_a_title_full_of_markup_characters_renders_literally(api: FakeTelegramAPI, odd_core: MedBot,
                                                                   tmp_path: Path) -> None:
    async with running(api, odd_core, tmp_path):
        api.send_text("/search weird", user=ADA)
        [answer] = await api.wait_for("sendMessage", where=to(ADA))
    text, links = parse_telegram_html(answer.params["text"])
    assert ODD_TITLE in text and "Odd & <more>" in text
    assert ("https://example.org/weird?a=1&b=2", ODD_TITLE) in links
    assert api.message_from_call(answer)["text"] == text  # Telegram accepted and stored it as such


async def test_pressing_next_page_edits_the_results_in_place(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/search learning", user=ADA)
    [first] = await api.wait_for("sendMessage", where=to(ADA))
    paging_row, details_row = first.params["reply_markup"]["inline_keyboard"]
    [next_button] = paging_row
    assert [b["text"] for b in details_row] == ["ℹ️ 1", "ℹ️ 2", "ℹ️ 3", "ℹ️ 4", "ℹ️ 5"]
    assert "Next" in next_button["text"] and len(next_button["callback_data"].encode()) <= 64
    query_id = api.press(api.message_from_call(first), next_button["callback_data"], user=ADA)
    [edit] = await api.wait_for("editMessageText")
    await api.wait_for("answerCallbackQuery", where=lambda c: c.params["callback_query_id"] == query_id)
    assert edit.params["message_id"] == str(first.result["message_id"])
    page_one, page_two = visible(first), visible(edit)
    assert "1–5" in page_one.splitlines()[0] and "6–10" in page_two.splitlines()[0]
    assert set(page_two.splitlines()[1:]).isdisjoint(line for line in page_one.splitlines()[1:] if line.startswith("id:"))
    labels = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]
    assert any("Previous" in label for label in labels)


async def test_a_stale_button_is_answered_politely(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/search lesion", user=ADA)
    [first] = await api.wait_for("sendMessage", where=to(ADA))
    query_id = api.press(api.message_from_call(first), "S|2|a-token-from-before-a-restart", user=ADA)
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
    assert len({r["id"] for r in results}) == len(results)
    content = results[0]["input_message_content"]
    assert content["parse_mode"] == "HTML" and content["link_preview_options"] == {"is_disabled": True}
    parse_telegram_html(content["message_text"])
    api.inline_query("", user=ADA)  # the user has typed only "@medbot" so far
    answers = await api.wait_for("answerInlineQuery", 2)
    assert answers[-1].params["results"] == []


async def test_an_inline_query_the_core_fails_on_is_still_answered(api: FakeTelegramAPI, core: MedBot,
                                                                   tmp_path: Path) -> None:
    spy = SpyCore(core)
    spy.fail_on.add("boom")
    async with running(api, spy, tmp_path):  # type: ignore[arg-type]
        failed_id = api.inline_query("boom", user=ADA)
        [failed] = await api.wait_for("answerInlineQuery")
        api.inline_query("lesion", user=ADA)
        answers = await api.wait_for("answerInlineQuery", 2)
    assert failed.params["inline_query_id"] == failed_id
    assert failed.params["results"] == [] and int(failed.params["cache_time"]) == 0  # not cached: retry works
    assert any(r["title"].startswith("DeepLesion") for r in answers[-1].params["results"])


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


async def test_a_group_that_removed_the_bot_gets_no_apology_and_others_still_get_answers(
        api: FakeTelegramAPI, bot: Any) -> None:
    api.fail("sendMessage", 403)
    api.send_text("/start@medbot", user=ADA, chat=GROUP)
    await api.wait_for("sendMessage", where=to(GROUP), failed_too=True)
    api.send_text("/start", user=LI)
    await api.wait_for("sendMessage", where=to(LI))
    assert [c.status for c in api.calls_to("sendMessage") if to(GROUP)(c)] == [403]  # no apology attempted


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
    settings = settings_for(api, tmp_path)
    redactor = install_redaction(settings)  # as `medbot serve` and `medbot watch` do at start-up
    try:
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
        remove_redactor(redactor)
        logging.getLogger().removeHandler(root_handler)
    captured = caplog.text + stream.getvalue()
    assert "<redacted>" in captured  # the error (and our probe) were logged, redacted
    assert api.token not in captured
    assert api.token.split(":")[1] not in captured
    assert all(api.token not in record.getMessage() for record in caplog.records)


async def test_only_group_admins_may_use_admin_commands(api: FakeTelegramAPI, core: MedBot, bot: Any) -> None:
    assert any(spec.name == "subscribe" and spec.admin_only for spec in core.commands)
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
    odd = EntryView(id="odd1", title=ODD_TITLE, url="https://example.org/weird", section=("Odd & <more>",))
    reply = Reply(title="New in awesome-medical-research", entries=(odd,))
    await sender.send_reply(str(GROUP["id"]), reply, silent=True)
    [sent] = await api.wait_for("sendMessage", where=to(GROUP))
    assert sent.params["disable_notification"] == "true"
    assert ODD_TITLE in visible(sent) and "reply_parameters" not in sent.params


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


async def test_help_search_shows_the_filter_syntax_in_both_languages(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/help search", user=ADA)
    [english] = await api.wait_for("sendMessage", where=to(ADA))
    shown = visible(english)
    for example in ("year:2019", "year:2018..2020", "topic:", "source:", "tag:", '"lesion detection"'):
        assert example in shown, example
    api.send_text("/help search", user=LI)
    [chinese] = await api.wait_for("sendMessage", where=to(LI))
    assert "年份范围" in visible(chinese) and "year:2018..2020" in visible(chinese)


async def test_a_private_chinese_chat_is_not_called_a_group(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("/subscriptions", user=LI)
    [answer] = await api.wait_for("sendMessage", where=to(LI))
    assert "本群" not in visible(answer)  # "this group", in a private chat
    api.send_text("/unsubscribe", user=LI)
    [_, again] = await api.wait_for("sendMessage", 2, where=to(LI))
    assert "本群" not in visible(again)


async def test_new_pages_through_a_big_digest_with_next(api: FakeTelegramAPI, bundled_data_dir: Path, tmp_path: Path) -> None:
    import shutil
    from datetime import UTC, datetime

    from bot.store.sqlite import Version
    from index.model import Entry, Link, entry_id, identity_key

    shutil.copytree(bundled_data_dir, tmp_path / "data")
    lab = MedBot.load(data_dir=tmp_path / "data")
    papers = [
        Entry(id=entry_id(identity_key(f"https://arxiv.org/abs/2601.{n:05d}", f"Paper {n}")), title=f"Paper {n}",
              url=f"https://arxiv.org/abs/2601.{n:05d}", links=(Link("paper", f"https://arxiv.org/abs/2601.{n:05d}"),),
              section=("Lesion Detection",), source="list-a")
        for n in range(12)
    ]
    now = datetime.now(UTC)
    lab.store.accept_version("list-a", Version(text="0", content_hash="h0", entries=()), now=now, poll_id=lab.store.begin_poll(now))
    lab.store.accept_version("list-a", Version(text="1", content_hash="h1", entries=tuple(papers)), now=now,
                             poll_id=lab.store.begin_poll(now), candidates=tuple(papers))
    try:
        async with running(api, lab, tmp_path):
            api.send_text("/new 7", user=ADA)
            [first] = await api.wait_for("sendMessage", where=to(ADA))
            [[next_button]] = first.params["reply_markup"]["inline_keyboard"]
            assert "Next" in next_button["text"]
            assert visible(first).count("Paper ") == 5
            api.press(api.message_from_call(first), next_button["callback_data"], user=ADA)
            [edit] = await api.wait_for("editMessageText")
    finally:
        lab.close()
    second = visible(edit)
    assert second.count("Paper ") == 5 and "6." in second
    assert set(line for line in second.splitlines() if "Paper " in line).isdisjoint(visible(first).splitlines())


LINKED_LIST = """# Lab list

## Clustering

- [X](https://github.com/a/x) - desc. [Paper](https://arxiv.org/abs/2601.01234)
"""


@pytest.fixture
def linked_core(tmp_path: Path) -> Iterator[MedBot]:
    """A core over one entry whose description links its paper."""
    (tmp_path / "lab.md").write_text(LINKED_LIST, encoding="utf-8")
    (tmp_path / "medbot.yaml").write_text("sources:\n  - path: lab.md\n", encoding="utf-8")
    lab = MedBot.load(config_path=str(tmp_path / "medbot.yaml"), data_dir=str(tmp_path / "lab-data"))
    yield lab
    lab.close()


async def test_a_link_inside_a_description_stays_a_link(api: FakeTelegramAPI, linked_core: MedBot, tmp_path: Path) -> None:
    async with running(api, linked_core, tmp_path) as application:
        api.send_text("/search desc", user=ADA)
        [answer] = await api.wait_for("sendMessage", where=to(ADA))
        [hit] = (await linked_core.handle("/search desc", Context(platform="console", chat_id="c", user_id="u"))).entries
        await TelegramSender(application.bot).send_reply(str(GROUP["id"]), Reply(title="New", entries=(hit,)), silent=True)
        [announced] = await api.wait_for("sendMessage", where=to(GROUP))
    for call in (answer, announced):
        text, links = parse_telegram_html(call.params["text"])
        assert ("https://arxiv.org/abs/2601.01234", "Paper") in links, links
        assert ("https://github.com/a/x", "X") in links and "desc." in text and "Clustering" in text



async def test_a_running_bot_keeps_its_synonyms_through_a_broken_edit(api: FakeTelegramAPI, tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    import os

    from bot.core.synonyms import SynonymsFollower

    (tmp_path / "lab.md").write_text(LINKED_LIST, encoding="utf-8")
    synonyms = tmp_path / "synonyms.yaml"
    synonyms.write_text("groups:\n  - [zzquux, desc]\n", encoding="utf-8")
    (tmp_path / "medbot.yaml").write_text("synonyms: synonyms.yaml\nsources:\n  - path: lab.md\n", encoding="utf-8")
    lab = MedBot.load(config_path=str(tmp_path / "medbot.yaml"), data_dir=str(tmp_path / "lab-data"))
    follower = SynonymsFollower(lab.index, synonyms)

    def edit(text: str, bump: int) -> None:
        synonyms.write_text(text, encoding="utf-8")
        stamp = synonyms.stat().st_mtime_ns + bump * 1_000_000_000
        os.utime(synonyms, ns=(stamp, stamp))

    try:
        async with running(api, lab, tmp_path):
            edit("groups:\n  - [zzquux, desc\n", 1)
            with caplog.at_level(logging.WARNING):
                assert not follower.check() and not follower.check()
            [warning] = [r for r in caplog.records if "synonyms" in r.getMessage()]
            assert "synonyms.yaml:" in warning.getMessage() and not warning.exc_info
            api.send_text("/search zzquux", user=ADA)
            [kept] = await api.wait_for("sendMessage", where=to(ADA))
            edit("groups:\n  - [yyplugh, desc]\n", 2)
            assert follower.check()
            api.send_text("/search yyplugh", user=ADA)
            [_, reloaded] = await api.wait_for("sendMessage", 2, where=to(ADA))
    finally:
        lab.close()
    assert "desc." in visible(kept) and "desc." in visible(reloaded)


async def test_a_mention_or_a_reply_to_medbot_in_a_group_is_a_search(api: FakeTelegramAPI, bot: Any) -> None:
    api.send_text("lesion detection, anyone?", user=ADA, chat=GROUP)  # group chatter: not for the bot
    api.send_text("@someone_else lesion detection", user=ADA, chat=GROUP)
    asked = api.send_text("@medbot lesion detection", user=ADA, chat=GROUP)
    [answer] = await api.wait_for("sendMessage", where=to(GROUP))
    assert "DeepLesion" in visible(answer)
    assert answer.params["reply_parameters"]["message_id"] == asked["message_id"]
    api.send_text("and segmentation?", user=ADA, chat=GROUP, reply_to=api.message_from_call(answer))
    [_, follow_up] = await api.wait_for("sendMessage", 2, where=to(GROUP))
    assert "segmentation" in visible(follow_up).splitlines()[0].lower()
    assert len(api.calls_to("sendMessage")) == 2


async def test_inline_mode_scrolls_and_an_empty_query_shows_recent_additions(api: FakeTelegramAPI, bundled_data_dir: Path,
                                                                           tmp_path: Path) -> None:
    import shutil
    from datetime import UTC, datetime

    from bot.store.sqlite import Version
    from index.model import Entry, Link, entry_id, identity_key

    shutil.copytree(bundled_data_dir, tmp_path / "data")
    lab = MedBot.load(data_dir=tmp_path / "data")
    url = "https://arxiv.org/abs/2601.77777"
    fresh = Entry(id=entry_id(identity_key(url, "Fresh lesion atlas")), title="Fresh lesion atlas", url=url,
                  links=(Link("paper", url),), section=("Lesion Detection",), source="list-a")
    now = datetime.now(UTC)
    lab.store.accept_version("list-a", Version(text="0", content_hash="h0", entries=()), now=now, poll_id=lab.store.begin_poll(now))
    lab.store.accept_version("list-a", Version(text="1", content_hash="h1", entries=(fresh,)), now=now,
                             poll_id=lab.store.begin_poll(now), candidates=(fresh,))
    try:
        async with running(api, lab, tmp_path):
            api.inline_query("learning", user=ADA)
            [first] = await api.wait_for("answerInlineQuery")
            assert first.params["next_offset"] == "10" and len(first.params["results"]) == 10
            scrolled_id = api.inline_query("learning", user=ADA, offset=first.params["next_offset"])
            empty_id = api.inline_query("", user=ADA)
            answers = {call.params["inline_query_id"]: call for call in await api.wait_for("answerInlineQuery", 3)}
            scrolled, empty = answers[scrolled_id], answers[empty_id]  # updates run concurrently: match by id
    finally:
        lab.close()
    titles_first = {r["title"] for r in first.params["results"]}
    assert scrolled.params["results"] and titles_first.isdisjoint(r["title"] for r in scrolled.params["results"])
    assert [r["title"] for r in empty.params["results"]] == ["Fresh lesion atlas"]
