"""The watcher's view of an upstream edit: only a genuinely new paper is *added*."""

from __future__ import annotations

import json
import re
from pathlib import Path

from index.diff import Diff, diff, format_diff, format_document
from index.model import Entry, ListDocument
from index.parser import parse, parse_file

SEEDS = Path(__file__).resolve().parents[1] / "data" / "lists"
RESEARCH = (SEEDS / "awesome-medical-research.md").read_text(encoding="utf-8")
GENOMICS = (SEEDS / "awesome-medical-machine-learning.md").read_text(encoding="utf-8")


def titles(entries: tuple[Entry, ...]) -> list[str]:
    return [entry.title for entry in entries]


def test_a_list_compared_with_itself_has_no_news() -> None:
    doc = parse(RESEARCH)
    result = diff(doc, doc)
    assert result.is_empty
    assert result.to_json() == {"added": [], "removed": [], "changed": []}


def test_bullets_and_whitespace_churn_are_nothing_at_all() -> None:
    restyled = "\n".join(re.sub(r"^\* ", "-   ", line).rstrip() + "  " for line in RESEARCH.splitlines())
    assert diff(parse(RESEARCH), parse(restyled)).is_empty


def test_badges_restyled_and_title_moved_into_the_link_are_changes_not_news() -> None:
    old = parse(
        "## Dialog\n"
        "* Task-oriented Dialogue System for Automatic Diagnosis [(link)](http://www.sdspeople.fudan.edu.cn/zywei/paper/liu-acl2018.pdf) "
        "[(code)](https://github.com/LiuQL2/MedicalChatbot)\n"
        "* BERT [`arxiv`](https://arxiv.org/abs/1810.04805)\n"
    )
    new = parse(
        "## Dialog\n"
        "* Task-oriented Dialogue System for Automatic Diagnosis [`ACL 2018`](http://www.sdspeople.fudan.edu.cn/zywei/paper/liu-acl2018.pdf) "
        "[`code`](https://github.com/LiuQL2/MedicalChatbot)\n"
        "* [BERT](https://arxiv.org/pdf/1810.04805v2.pdf) - pre-training of deep bidirectional transformers\n"
    )
    result = diff(old, new)
    assert (result.added, result.removed) == ((), ())
    assert titles(result.changed) == ["Task-oriented Dialogue System for Automatic Diagnosis", "BERT"]
    assert result.changed[0].tags == ("ACL 2018", "code")


def test_renumbered_renamed_and_moved_sections_are_changes() -> None:
    new = (
        GENOMICS.replace("#### 2.3 单细胞 Single-Cell", "#### 2.4 单细胞测序 Single-Cell Sequencing")
        .replace("## 3 医学 Medicine", "## 4 医学 Medicine")
        .replace("- [The accessible chromatin landscape", "- [The Accessible Chromatin Landscape")
    )
    result = diff(parse(GENOMICS), parse(new))
    assert (result.added, result.removed) == ((), ())
    assert len(result.changed) == 15 + 13 + 2 + 2 + 1  # 2.3 and its two subsections, 3.1.1, one retitled
    assert all(entry.section[-1] != "2.3 单细胞 Single-Cell" for entry in result.changed)


def test_an_entry_moved_to_another_section_is_changed() -> None:
    old = parse("## A\n- [Tool](https://tool.example) - old words\n## B\n- [Other](https://other.example)\n")
    new = parse("## A\n## B\n- [Other](https://other.example)\n- [Tool](https://tool.example) - new words\n")
    result = diff(old, new)
    assert (result.added, result.removed) == ((), ())
    assert [(entry.title, entry.section, entry.description) for entry in result.changed] == [("Tool", ("B",), "new words")]


def test_a_new_paper_in_the_genomics_list_is_added_exactly_once() -> None:
    line = "- [Scaling single-cell foundation models](https://arxiv.org/abs/2401.01234) Doe J, et al. Nature, 2024, 625: 1-9.\n"
    new = GENOMICS.replace("##### 2.3.1 Single-Cell Software\n", "##### 2.3.1 Single-Cell Software\n\t" + line)
    result = diff(parse_file(SEEDS / "awesome-medical-machine-learning.md"), parse(new, "awesome-medical-machine-learning"))
    assert titles(result.added) == ["Scaling single-cell foundation models"]
    assert result.added[0].year == 2024
    assert result.added[0].section[-1] == "2.3.1 Single-Cell Software"
    assert result.removed == ()
    assert result.changed == ()  # later entries only moved down a line


def test_a_deleted_paper_is_removed() -> None:
    new = RESEARCH.replace("* [HUGGING FACE](https://huggingface.co/)\n", "")
    result = diff(parse(RESEARCH), parse(new))
    assert titles(result.removed) == ["HUGGING FACE"]
    assert result.added == ()


def test_a_repeat_of_a_listed_paper_elsewhere_is_not_news() -> None:
    old = parse("## A\n- [Paper](https://arxiv.org/abs/1901.00596)\n")
    new = parse("## A\n- [Paper](https://arxiv.org/abs/1901.00596)\n## B\n- [Same paper](http://arxiv.org/pdf/1901.00596v3)\n")
    assert diff(old, new).is_empty


def test_a_link_already_seen_anywhere_blocks_an_announcement() -> None:
    old = parse("- Paper A [`paper`](https://a.example/paper) [`code`](https://github.com/lab/shared-code)\n")
    new = parse(
        "- Paper A [`paper`](https://a.example/paper) [`code`](https://github.com/lab/shared-code)\n"
        "- [The code, listed on its own](https://github.com/lab/shared-code)\n"
        "- [Paper A with a fragment](https://a.example/paper#section-2)\n"
        "- [Really new](https://new.example)\n"
    )
    result = diff(old, new)
    assert titles(result.added) == ["Really new"]
    assert result.removed == ()


def test_link_less_entries_are_matched_by_title() -> None:
    def entry(title: str, url: str | None) -> Entry:
        return Entry(id=title, title=title, url=url)

    old = ListDocument(title="", entries=(entry("Deep Lesion Graphs", "https://dl.example"), entry("Plain Name", None)))
    new = ListDocument(title="", entries=(entry("deep lesion graphs!", None), entry("Plain  name", None), entry("Fresh", None)))
    result = diff(old, new)
    assert titles(result.added) == ["Fresh"]
    assert result.removed == ()


def test_json_and_text_forms_for_the_command_line() -> None:
    old = parse("# L\n## S\n- [Kept](https://kept.example)\n- [Gone](https://gone.example)\n", "l")
    new = parse("# L\n## S\n- [Kept](https://kept.example) - now described\n- [New](https://new.example)\n", "l")
    result = diff(old, new)
    payload = json.loads(json.dumps(result.to_json()))
    assert [entry["title"] for entry in payload["added"]] == ["New"]
    assert set(payload["added"][0]) >= {"id", "title", "url", "links", "description", "section", "tags", "year", "source"}
    text = format_diff(result)
    assert text.splitlines()[0] == "1 added, 1 removed, 1 changed"
    assert "+     4  [S]  New  https://new.example" in text
    assert "-     4  [S]  Gone  https://gone.example" in text
    assert "~     3  [S]  Kept  https://kept.example" in text
    assert format_diff(Diff()) == "0 added, 0 removed, 0 changed"


def test_document_text_form_lists_every_entry_with_its_place() -> None:
    doc = parse_file(SEEDS / "awesome-medical-machine-learning.md")
    lines = format_document(doc).splitlines()
    assert lines[0] == "awesome-medical-machine-learning"
    assert lines[1] == f"66 entries in {len(doc.sections)} sections"
    assert len(lines) == 2 + 66
    assert (
        "   63  [2. 基因 Genomics > 2.3 单细胞 Single-Cell]  RNA sequencing: the teenage years  https://www.nature.com/articles/s41576-019-0150-2"
        in lines
    )
