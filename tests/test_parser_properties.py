"""Properties the watcher relies on, over generated lists and arbitrary text."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.diff import diff
from index.model import ListDocument
from index.parser import parse, parse_bytes

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MARKDOWN_ALPHABET = st.sampled_from(
    list("-*+#>[]()`<|!:/.\\_~= \t\n\r\x00\u200b\u00a0\ufeff")
    + ["https://", "](", "<details>", "<!--", "    ", "\n\n", "| --- |", "a", "1.", "é", "中"]
)
markdownish = st.lists(MARKDOWN_ALPHABET | st.text(max_size=3), max_size=80).map("".join)


def assert_well_formed(doc: ListDocument, text_lines: int) -> None:
    assert not any("internal parser error" in warning for warning in doc.warnings), doc.warnings
    assert len({entry.id for entry in doc.entries}) == len(doc.entries)
    for entry in doc.entries:
        assert entry.title and entry.title == entry.title.strip()
        assert 1 <= entry.line <= text_lines + 1


@FAST
@given(st.text(max_size=400))
def test_any_text_parses(text: str) -> None:
    assert_well_formed(parse(text), text.count("\n") + text.count("\r"))


@FAST
@given(markdownish)
def test_markdown_shaped_noise_parses(text: str) -> None:
    assert_well_formed(parse(text), text.count("\n") + text.count("\r"))


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_parse(data: bytes) -> None:
    doc = parse_bytes(data)
    assert not any("internal parser error" in warning for warning in doc.warnings)


# --- generated lists -----------------------------------------------------------------------

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
PHRASE = st.lists(WORD, min_size=1, max_size=4).map(" ".join)


@dataclass(frozen=True)
class Item:
    title: str
    url: str
    description: str


@dataclass(frozen=True)
class Style:
    bullet: str
    indent: str
    title_in_link: bool
    heading: str


@st.composite
def sections(draw: st.DrawFn) -> list[tuple[str, list[Item]]]:
    count = draw(st.integers(min_value=1, max_value=4))
    result = []
    serial = 0
    for number in range(count):
        items = []
        for _ in range(draw(st.integers(min_value=0, max_value=5))):
            serial += 1
            items.append(Item(draw(PHRASE), f"https://site{serial}.example/{draw(WORD)}", draw(st.one_of(st.just(""), PHRASE))))
        result.append((f"S{number} {draw(PHRASE)}", items))
    return result


styles = st.builds(
    Style,
    bullet=st.sampled_from(["-", "*", "+", "1."]),
    indent=st.sampled_from(["", " ", "  ", "   "]),
    title_in_link=st.booleans(),
    heading=st.sampled_from(["##", "###"]),
)


def render(title: str, body: list[tuple[str, list[Item]]], style: Style) -> str:
    lines = [f"# {title}", ""]
    for name, items in body:
        lines += [f"{style.heading} {name}", ""]
        for item in items:
            rest = f" - {item.description}" if item.description else ""
            if style.title_in_link:
                lines.append(f"{style.indent}{style.bullet} [{item.title}]({item.url}){rest}")
            else:
                lines.append(f"{style.indent}{style.bullet} {item.title} [`link`]({item.url}){rest}")
        lines.append("")
    return "\n".join(lines)


@FAST
@given(sections(), styles)
def test_a_document_compared_with_itself_is_empty(body: list[tuple[str, list[Item]]], style: Style) -> None:
    doc = parse(render("Awesome", body, style))
    assert len(doc.entries) == sum(len(items) for _, items in body)
    assert diff(doc, doc).is_empty


@FAST
@given(sections(), styles, styles, st.randoms(use_true_random=False))
def test_reformatting_and_shuffling_sections_adds_and_removes_nothing(
    body: list[tuple[str, list[Item]]], before: Style, after: Style, rng: Random
) -> None:
    shuffled = list(body)
    rng.shuffle(shuffled)
    result = diff(parse(render("Awesome", body, before)), parse(render("Awesome", shuffled, after)))
    assert result.added == ()
    assert result.removed == ()
    if before == after and shuffled == body:
        assert result.is_empty


@FAST
@given(sections(), styles, PHRASE)
def test_appending_a_new_item_adds_exactly_that_item(body: list[tuple[str, list[Item]]], style: Style, title: str) -> None:
    extended = [*body[:-1], (body[-1][0], [*body[-1][1], Item(title, "https://fresh.example/new-paper", "brand new")])]
    result = diff(parse(render("Awesome", body, style)), parse(render("Awesome", extended, style)))
    assert [(entry.title, entry.url) for entry in result.added] == [(title, "https://fresh.example/new-paper")]
    assert result.added[0].section == (body[-1][0],)
    assert result.removed == ()
    assert result.changed == ()
