"""Stories told through ``core.handle``: what a lab member types, what medbot answers."""

from __future__ import annotations

import pytest

from bot.app import Context
from bot.core.replies import Reply

pytestmark = pytest.mark.asyncio

GROUP = Context(platform="telegram", chat_id="-100", user_id="7", chat_type="group", bot_username="medbot")
PRIVATE = Context(platform="console", chat_id="c1", user_id="u1", is_admin=True)
CHINESE = Context(platform="telegram", chat_id="9", user_id="9", language="zh-hans")


async def ask(core, text: str, ctx: Context = PRIVATE) -> Reply:
    reply = await core.handle(text, ctx)
    assert reply is not None, f"{text!r} got no reply"
    return reply


def titles(reply: Reply) -> list[str]:
    return [entry.title for entry in reply.entries]


async def test_a_lab_member_searches_lesion_in_a_group(bundled_core) -> None:
    reply = await ask(bundled_core, "/search@medbot lesion", GROUP)
    assert not reply.is_error
    found = titles(reply)
    assert any(title.startswith("DeepLesion") for title in found), found
    deep_lesion = next(entry for entry in reply.entries if entry.title.startswith("DeepLesion"))
    assert deep_lesion.code_url == "https://github.com/rsummers11/CADLab/tree/master/lesion_detector_3DCE"
    assert deep_lesion.section == ("Lesion Detection",)
    assert "JMI 2018" in deep_lesion.tags
    assert "lesion" in reply.title.lower()


async def test_the_command_is_read_in_any_case_and_another_bots_command_is_ignored(bundled_core) -> None:
    upper = await ask(bundled_core, "/SEARCH@MedBot lesion", GROUP)
    assert upper.entries
    assert await bundled_core.handle("/search@otherbot lesion", GROUP) is None


async def test_paging_through_results_with_the_next_and_previous_buttons(bundled_core) -> None:
    first = await ask(bundled_core, "/search learning")
    assert len(first.entries) == 5
    labels = [button.label for button in first.buttons]
    assert any("Next" in label for label in labels) and not any("Previous" in label for label in labels)
    next_button = next(b for b in first.buttons if "Next" in b.label)
    assert len(next_button.payload.encode()) <= 64
    second = await bundled_core.press(next_button.payload, PRIVATE)
    assert second.entries and set(titles(second)).isdisjoint(titles(first))
    assert "6–10" in second.title
    back = next(b for b in second.buttons if "Previous" in b.label)
    again = await bundled_core.press(back.payload, PRIVATE)
    assert titles(again) == titles(first)


async def test_a_long_query_still_pages_through_a_token(bundled_core) -> None:
    query = "deep learning " * 8
    first = await ask(bundled_core, "/search " + query)
    next_button = next(b for b in first.buttons if "Next" in b.label)
    assert len(next_button.payload.encode()) <= 64
    second = await bundled_core.press(next_button.payload, PRIVATE)
    assert second.entries and "6–" in second.title


async def test_a_stale_or_forged_button_is_answered_politely(bundled_core) -> None:
    for payload in ("S|2|nosuchtoken", "garbage", "t|1|ffffffffff", "", "s|x|y", "s|²|lesion", "s|" + "9" * 5000 + "|lesion"):
        reply = await bundled_core.press(payload, PRIVATE)
        assert reply.is_error and "expired" in reply.plain_text()


async def test_search_with_nothing_to_search_shows_usage_and_an_example(bundled_core) -> None:
    reply = await ask(bundled_core, "/search")
    assert reply.is_error
    assert "Usage: /search <words>" in reply.plain_text()
    assert "Example: /search lesion detection" in reply.plain_text()


async def test_an_unknown_command_suggests_the_close_one(bundled_core) -> None:
    reply = await ask(bundled_core, "/serch lesion")
    text = reply.plain_text()
    assert reply.is_error and "/serch" in text and "/search" in text and "/help" in text


async def test_topics_are_listed_by_list_and_a_chinese_heading_opens(bundled_core) -> None:
    overview = await ask(bundled_core, "/topic")
    assert "2 lists" in overview.title and "awesome-medical-research — " in overview.plain_text()
    research = await bundled_core.press(next(b.payload for b in overview.buttons if b.label.endswith("awesome-medical-research")), PRIVATE)
    assert "Lesion Detection" in research.plain_text()
    learning = await bundled_core.press(next(b.payload for b in overview.buttons if "machine" in b.label), PRIVATE)
    sections = [learning]
    while (more := next((b.payload for b in sections[-1].buttons if "Next" in b.label), None)) is not None:
        sections.append(await bundled_core.press(more, PRIVATE))
    assert any("单细胞" in page.plain_text() for page in sections)
    single_cell = await ask(bundled_core, "/topic 单细胞")
    assert single_cell.entries
    assert all(any("单细胞" in part for part in entry.section) for entry in single_cell.entries)
    assert "单细胞" in single_cell.title


async def test_topic_pages_follow_their_buttons(bundled_core) -> None:
    reply = await ask(bundled_core, "/topic Pan-cancer analysis")
    assert reply.page is not None and reply.page.pages > 1 and reply.page.first == 1
    second = await bundled_core.press(next(b for b in reply.buttons if "Next" in b.label).payload, PRIVATE)
    assert second.entries and set(titles(second)).isdisjoint(titles(reply))
    assert second.page is not None and second.page.number == 2 and second.page.first == 6
    assert second.title.split(" — ")[0] == reply.title.split(" — ")[0]  # the same section


async def test_an_unknown_topic_lists_what_exists(bundled_core) -> None:
    reply = await ask(bundled_core, "/topic astrophysics of black holes")
    assert reply.is_error and "astrophysics" in reply.plain_text() and "awesome-medical-research" in reply.plain_text()
    assert any(b.label.endswith("awesome-medical-research") for b in reply.buttons)  # a way on: open a list


async def test_random_within_a_topic_stays_in_that_topic(bundled_core) -> None:
    for _ in range(5):
        reply = await ask(bundled_core, "/random lesion detection")
        assert len(reply.entries) == 1
        assert reply.entries[0].section == ("Lesion Detection",)
    another = await bundled_core.press(reply.buttons[0].payload, PRIVATE)
    assert another.entries[0].section == ("Lesion Detection",)


async def test_similar_to_a_shown_entry(bundled_core) -> None:
    search = await ask(bundled_core, "/search DeepLesion")
    deep_lesion = search.entries[0]
    reply = await ask(bundled_core, f"/similar {deep_lesion.id}")
    assert reply.entries and deep_lesion.id not in [entry.id for entry in reply.entries]
    by_link = await ask(bundled_core, f"/similar {deep_lesion.url}")
    assert titles(by_link) == titles(reply)
    missing = await ask(bundled_core, "/similar 0000000000")
    assert missing.is_error and "0000000000" in missing.plain_text()


async def test_help_lists_every_command_and_explains_one(bundled_core) -> None:
    reply = await ask(bundled_core, "/help")
    for spec in bundled_core.commands:
        assert f"/{spec.name}" in reply.plain_text()
    detail = await ask(bundled_core, "/help topic")
    assert "/topic [name]" in detail.plain_text()


async def test_new_says_plainly_when_nothing_was_recorded_yet(bundled_core) -> None:
    reply = await ask(bundled_core, "/new")
    assert not reply.entries
    assert "No new entries" in reply.plain_text()
    bad = await ask(bundled_core, "/new lots")
    assert bad.is_error and "/new 7" in bad.plain_text()


async def test_sources_lists_both_bundled_lists_with_counts(bundled_core) -> None:
    reply = await ask(bundled_core, "/sources")
    text = reply.plain_text()
    assert "awesome-medical-research" in text and "awesome-medical-machine-learning" in text
    assert "0 entries" not in text


async def test_a_chinese_speaking_user_gets_chinese_ui_and_the_entries_as_written(bundled_core) -> None:
    reply = await ask(bundled_core, "/search lesion", CHINESE)
    assert "结果" in reply.title
    assert any(entry.title.startswith("DeepLesion") for entry in reply.entries)
    usage = await ask(bundled_core, "/search", CHINESE)
    assert "用法" in usage.plain_text()


async def test_plain_text_in_a_private_chat_is_a_search(bundled_core) -> None:
    reply = await ask(bundled_core, "lesion detection")
    assert any("Lesion" in title for title in titles(reply))


@pytest.mark.parametrize(
    "hostile",
    [
        "/search (lesion",
        '/search "unbalanced quote',
        "/search lesion AND",
        "/search OR NOT AND",
        "/search title:",
        "/search year:abc",
        "/search *",
        "/search \\",
        "/search " + "lesion " * 900,
        "/search 🧬🧪 detection",
        "/search \u202eesion\u202c",
        "/search lesion\x00detection",
        "/search <script>alert(1)</script>",
        "/search ((((((((((",
        "/search [[]]{}^~",
        "/topic \\ ( *",
        "/random (((",
        "/similar ' OR 1=1 --",
        "/new -5",
        "/new ²",
        "/new " + "9" * 4500,
        "/help nosuchcommand",
        "/" + "x" * 300,
        "\x00\x01\x02",
    ],
)
async def test_hostile_input_gets_a_reply_not_a_traceback(bundled_core, hostile: str, caplog) -> None:
    reply = await bundled_core.handle(hostile, PRIVATE)
    assert reply is not None
    text = reply.plain_text()
    assert text
    assert "something went wrong" not in text, text
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


async def test_a_topic_picked_from_autocomplete_opens_that_exact_section(bundled_core) -> None:
    options = await bundled_core.complete_topic("单细")
    assert options and all("单细胞" in label for label, _ in options)
    for label, value in options[:3]:
        reply = await ask(bundled_core, f"/topic {value}")
        assert not reply.is_error, label
        assert reply.title.split(" — ")[0] == label.replace(" / ", " › ")


async def test_a_section_with_a_very_long_path_is_offered_by_a_short_exact_value(tmp_path) -> None:
    from bot.core.bot import MedBot

    long_heading = "Deep learning for " + "very " * 30 + "long section names"
    (tmp_path / "lab.md").write_text(
        f"# Lab\n\n## {long_heading}\n- [Zebrafish atlas](https://example.org/zf)\n\n"
        "## Deep learning\n- [Other paper](https://example.org/other)\n",
        encoding="utf-8",
    )
    (tmp_path / "medbot.yaml").write_text("sources:\n  - path: lab.md\n", encoding="utf-8")
    core = MedBot.load(tmp_path / "medbot.yaml", tmp_path / "data")
    try:
        [(label, value)] = [option for option in await core.complete_topic("very very") if "very" in option[0]]
        assert label.startswith("Deep learning for very") and value.startswith("#") and len(value) <= 100
        reply = await ask(core, f"/topic {value}")
        assert [entry.title for entry in reply.entries] == ["Zebrafish atlas"]
    finally:
        core.close()


async def test_words_that_nothing_in_a_chosen_topic_has_still_show_that_topic(bundled_core) -> None:
    """A lab member narrows to a section and describes it in their own words."""
    reply = await ask(bundled_core, '/search topic:"paper connect" conversational models', GROUP)
    assert titles(reply) == ["NeuralDialogPapers"]
    assert any("everything they match" in line for line in reply.text)
    chinese = await ask(bundled_core, '/search topic:"paper connect" 对话模型', CHINESE)
    assert titles(chinese) == ["NeuralDialogPapers"]
    assert any("筛选" in line for line in chinese.text)
    # with no filter there is nothing to fall back to: an honest "nothing found"
    nothing = await ask(bundled_core, "/search xyzzyplugh", GROUP)
    assert not nothing.entries
