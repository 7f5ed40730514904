"""Whatever the lists contain, a reply rendered for Discord fits every Discord limit."""

from __future__ import annotations

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.render import LIMITS, clip, render, safe_url
from bot.core.replies import Button, EntryView, Reply

texts = st.text(max_size=3000)
urls = st.one_of(st.none(), st.just("https://arxiv.org/abs/1710.01766"), st.text(max_size=50))
entries = st.builds(
    EntryView,
    id=st.text(min_size=1, max_size=20),
    title=texts,
    url=urls,
    section=st.lists(st.text(max_size=800), max_size=4).map(tuple),
    tags=st.lists(st.text(max_size=60), max_size=40).map(tuple),
    code_url=urls,
    description=texts,
    year=st.one_of(st.none(), st.integers(1900, 2100)),
    sources=st.lists(st.text(max_size=80), max_size=3).map(tuple),
)
replies = st.builds(
    Reply,
    title=st.text(max_size=400),
    text=st.lists(st.text(max_size=5000), max_size=4).map(tuple),
    entries=st.lists(entries, max_size=12).map(tuple),
    footer=st.text(max_size=300),
    is_error=st.booleans(),
    language=st.sampled_from(["en", "zh"]),
)


def assert_within_limits(embeds: list[discord.Embed], content: str) -> None:
    assert len(content) <= LIMITS.content
    assert len(embeds) <= LIMITS.embeds
    assert sum(len(embed) for embed in embeds) <= LIMITS.total
    for embed in embeds:
        assert len(embed.title or "") <= LIMITS.title
        assert len(embed.description or "") <= LIMITS.description
        assert len(embed.fields) <= LIMITS.fields
        for embed_field in embed.fields:
            assert 0 < len(embed_field.name or "") <= LIMITS.field_name
            assert len(embed_field.value or "") <= LIMITS.field_value
        assert len(embed.footer.text or "") <= LIMITS.footer
        assert embed.url is None or embed.url.startswith(("http://", "https://"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies)
def test_any_reply_fits_discord_limits(reply: Reply) -> None:
    message = render(reply)
    assert_within_limits(message.embeds, message.content)
    assert message.content or message.embeds  # Discord refuses an empty message


def test_a_page_of_huge_entries_is_shortened_not_dropped() -> None:
    huge = EntryView(
        id="abc",
        title="T" * 400,
        url="https://example.org/paper",
        section=("S" * 2000,),
        tags=("ACL 2018",) * 60,
        code_url="https://github.com/x/y",
        description="D" * 5000,
    )
    message = render(Reply(title="Results", entries=(huge,) * 5, buttons=(Button("Next ›", "s|2|x"),)))
    assert len(message.embeds) == 5  # every entry still shown, descriptions cut to fit
    assert_within_limits(message.embeds, message.content)
    assert all(embed.title.endswith("…") for embed in message.embeds)


def test_more_than_ten_entries_say_how_many_were_left_out() -> None:
    entry = EntryView(id="e", title="A paper", url="https://example.org")
    message = render(Reply(title="Results", entries=(entry,) * 12))
    assert len(message.embeds) == LIMITS.embeds
    assert "+2 more not shown" in message.content


def test_an_entry_shows_its_link_section_tags_and_code() -> None:
    entry = EntryView(
        id="7c1",
        title="DeepLesion_v2: *mining* lesions",
        url="https://arxiv.org/pdf/1710.01766.pdf",
        section=("Medical", "Lesion Detection"),
        tags=("JMI 2018",),
        code_url="https://github.com/rsummers11/CADLab/tree/master/lesion_detector_(3DCE)",
        year=2018,
        sources=("awesome-medical-research",),
    )
    embed = render(Reply(entries=(entry,), language="zh")).embeds[0]
    assert embed.title == r"DeepLesion\_v2: \*mining\* lesions (2018)"  # Markdown shown literally
    assert embed.url == "https://arxiv.org/pdf/1710.01766.pdf"
    fields = {field.name: field.value for field in embed.fields}
    assert fields["分类"] == "Medical › Lesion Detection"
    assert fields["标签"] == "JMI 2018"
    assert fields["代码"] == "[code](https://github.com/rsummers11/CADLab/tree/master/lesion_detector_%283DCE%29)"
    assert embed.footer.text == "id: 7c1 · 来源: awesome-medical-research"


def test_errors_are_plain_text_and_clipping_marks_the_cut() -> None:
    message = render(Reply(text=("Usage: /similar <id>",), is_error=True))
    assert message.content == "Usage: /similar <id>" and not message.embeds
    assert clip("abcdef", 4) == "abc…"
    assert clip("ab\\\\cdef", 4) == "ab…"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://x.org/a b") == "https://x.org/a%20b"


def test_a_code_link_full_of_parentheses_still_fits_its_field() -> None:
    # The masked link percent-encodes each parenthesis (one character becomes three).
    code_url = "https://github.com/lab/repo/tree/main/" + "model_(v2)_" * 88
    assert len(code_url) + 10 <= LIMITS.field_value  # short enough before encoding
    entry = EntryView(id="p", title="A paper", url="https://example.org", code_url=code_url)
    message = render(Reply(entries=(entry,)))
    assert_within_limits(message.embeds, message.content)
