"""Real lists are messy: each story here is a shape seen in the corpus or the seeds."""

from __future__ import annotations

from pathlib import Path

from index.model import ListDocument
from index.parser import parse, parse_bytes, parse_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lists"


def titles(doc: ListDocument) -> list[str]:
    return [entry.title for entry in doc.entries]


def urls(doc: ListDocument) -> list[str | None]:
    return [entry.url for entry in doc.entries]


# --- bytes and invisible characters ------------------------------------------------------


def test_a_bom_and_crlf_file_reads_like_a_clean_one() -> None:
    clean = "# List\n\n## Tools\n\n- [Alpha](https://a.example) - first\n- [Beta](https://b.example)\n"
    messy = b"\xef\xbb\xbf" + clean.replace("\n", "\r\n").encode()
    doc = parse_bytes(messy, "messy")
    assert doc.title == "List"
    assert titles(doc) == ["Alpha", "Beta"]
    assert [entry.line for entry in doc.entries] == [5, 6]
    assert doc.entries[0].description == "first"
    assert doc.warnings == ()
    assert doc.to_json()["entries"] == parse(clean, "messy").to_json()["entries"]


def test_invalid_utf8_is_replaced_and_reported() -> None:
    data = b"# List\n\n- [Caf\xe9 tools](https://cafe.example)\n- [Other](https://other.example)\n"
    doc = parse_bytes(data)
    assert titles(doc) == ["Caf\ufffd tools", "Other"]
    assert any("invalid UTF-8" in warning for warning in doc.warnings)


def test_nul_bytes_are_dropped_with_a_warning() -> None:
    doc = parse_bytes(b"- [Nul\x00l](https://n.example)\n")
    assert titles(doc) == ["Null"]
    assert "NUL bytes removed" in doc.warnings
    assert "NUL bytes removed" in parse("- [A\x00](https://a.example)\n").warnings


def test_zero_width_characters_and_nbsp_are_cleaned_from_titles() -> None:
    doc = parse("- [Deep\u200b\u00a0Lesion\u200d](https://dl.example)\u00a0-\u00a0graphs\n- Plain\u00a0name https://p.example\n")
    assert titles(doc) == ["Deep Lesion", "Plain name"]
    assert doc.entries[0].description == "graphs"


def test_a_file_is_named_after_its_stem(tmp_path: Path) -> None:
    path = tmp_path / "awesome-things.md"
    path.write_bytes(b"\xef\xbb\xbf# Things\r\n\r\n* [One](https://one.example)\r\n")
    doc = parse_file(path)
    assert (doc.source, doc.entries[0].source) == ("awesome-things", "awesome-things")
    assert parse_file(path, source="custom").source == "custom"


# --- block shapes --------------------------------------------------------------------------


def test_setext_headings_make_the_title_and_sections() -> None:
    doc = parse("Awesome Setext\n==============\n\nTools\n-----\n\n- [Hammer](https://hammer.example)\n")
    assert doc.title == "Awesome Setext"
    assert doc.entries[0].section == ("Tools",)


def test_every_bullet_style_numbering_and_depth() -> None:
    text = (
        "## Mixed\n"
        "* [Star](https://star.example)\n"
        "+ [Plus](https://plus.example)\n"
        "- [Dash](https://dash.example)\n"
        "1. [One](https://one.example)\n"
        "2) [Two](https://two.example)\n"
        "- Group\n"
        "\t- [Tabbed](https://tab.example)\n"
        "    - [Deeper](https://deep.example)\n"
    )
    doc = parse(text)
    assert titles(doc) == ["Star", "Plus", "Dash", "One", "Two", "Tabbed", "Deeper"]
    assert all(entry.section == ("Mixed",) for entry in doc.entries)


def test_tables_with_and_without_leading_pipes() -> None:
    text = (
        "## Datasets\n\n"
        "| Name | Description | Paper |\n"
        "|------|-------------|-------|\n"
        "| [MURA](https://mura.example) | radiographs | [pdf](https://arxiv.org/abs/1712.06957) |\n"
        "| Plain text row | no link | none |\n\n"
        "Title | Links\n"
        "--- | ---\n"
        "DeepLesion: lesion graphs | [`CVPR 2018`](https://arxiv.org/abs/1711.10535) [`code`](https://github.com/x/y)\n"
    )
    doc = parse(text)
    assert titles(doc) == ["MURA", "DeepLesion: lesion graphs"]
    mura, lesion = doc.entries
    assert mura.description.startswith("radiographs")
    assert mura.line == 5
    assert lesion.url == "https://arxiv.org/abs/1711.10535"
    assert lesion.tags == ("CVPR 2018", "code")
    assert lesion.year == 2018


def test_a_heading_that_is_only_a_link_is_an_entry_described_by_what_follows() -> None:
    text = (
        "# Tools\n\n## Editors\n\n"
        "### [Vim](https://www.vim.org) ![stars](https://img.shields.io/x.svg)\n\n"
        "> The ubiquitous text editor.\n\n"
        "### [Emacs](https://www.gnu.org/software/emacs/)\n"
        "An extensible editor.\n\n"
        "### Not an entry\n\n- [Nano](https://nano-editor.org)\n"
    )
    doc = parse(text)
    assert titles(doc) == ["Vim", "Emacs", "Nano"]
    vim, emacs, nano = doc.entries
    assert vim.description == "The ubiquitous text editor."
    assert emacs.description == "An extensible editor."
    assert vim.section == ("Editors",)
    assert nano.section == ("Editors", "Not an entry")
    assert ("Editors", "Not an entry") in doc.sections


def test_blockquoted_items_inside_details() -> None:
    text = (
        "## Papers\n\n<details>\n<summary>2019</summary>\n\n"
        "> - [Quoted](https://q.example) quoted paper\n"
        ">   1. [Nested quoted](https://nq.example)\n\n"
        "</details>\n\n"
        "<details><summary>2020</summary>\n"
        "- [Hidden in html](https://h.example)\n"
        "</details>\n"
    )
    doc = parse(text)
    assert titles(doc) == ["Quoted", "Nested quoted", "Hidden in html"]
    assert doc.entries[2].line == 12
    # A <summary> names a subsection that ends with its </details>.
    assert [entry.section for entry in doc.entries] == [("Papers", "2019"), ("Papers", "2019"), ("Papers", "2020")]
    assert ("Papers", "2020") in doc.sections


def test_generated_lists_quote_their_entries_in_details() -> None:
    text = (
        "## Projects\n\n"
        '<details id="ai">\n<summary><strong>Artificial Intelligence</strong> <kbd>2 projects</kbd></summary>\n\n'
        "> **[LangChain4j](https://github.com/langchain4j/langchain4j)** <kbd>★ 12.9k</kbd> 🟢<br>Integrates LLMs.\n\n"
        "> Maintained by [someone](https://github.com/someone)\n\n"
        "</details>\n\n- [After](https://after.example)\n"
    )
    doc = parse(text)
    assert titles(doc) == ["LangChain4j", "After"]
    assert doc.entries[0].section == ("Projects", "Artificial Intelligence")
    assert doc.entries[0].description == "🟢 Integrates LLMs."
    assert doc.entries[1].section == ("Projects",)


def test_indented_headings_are_sections_whether_nested_or_code() -> None:
    text = (
        "## Genomics\n\n"
        "- [Item](https://item.example)\n"
        "    ### Software\n"
        "    - [Tool](https://tool.example)\n\n"
        "A paragraph.\n\n"
        "    ### Datasets\n"
        "    - [Data](https://data.example)\n"
    )
    doc = parse(text)
    assert [(entry.title, entry.section) for entry in doc.entries] == [
        ("Item", ("Genomics",)),
        ("Tool", ("Genomics", "Software")),
        ("Data", ("Genomics", "Datasets")),
    ]
    assert doc.entries[2].line == 10


def test_fenced_and_indented_code_is_not_a_list() -> None:
    doc = parse("```\n- [Code](https://code.example)\n```\n\n    - [Indented](https://i.example)\n\n- [Real](https://r.example)\n")
    assert titles(doc) == ["Real"]


def test_html_comments_hide_their_items() -> None:
    doc = parse("<!--\n- [Old](https://old.example)\n-->\n- [New](https://new.example) <!-- note -->\n")
    assert titles(doc) == ["New"]
    assert doc.entries[0].description == ""


# --- inline shapes -------------------------------------------------------------------------


def test_bare_urls_give_the_link_and_the_text_before_is_the_title() -> None:
    doc = parse("* Awesome Tool https://tool.example/path). More text\n* https://only.example/\n")
    assert doc.entries[0].title == "Awesome Tool"
    assert doc.entries[0].url == "https://tool.example/path"
    assert doc.entries[1].title == "only.example"


def test_one_link_with_a_malformed_host_does_not_cost_the_list_its_entries() -> None:
    text = (
        "# List\n\n## Tools\n"
        "* [Good](https://good.example) - fine\n"
        "* [Typo](http://[oops) - a bracket where the host should be\n"
        "* [Paper](https://paper.example/x) [code](http://[c#readme)\n"
    )
    doc = parse(text)
    assert doc.warnings == ()
    assert [entry.title for entry in doc.entries] == ["Good", "Typo", "Paper"]
    assert doc.entries[1].url == "http://[oops"
    assert doc.entries[2].code_url == "http://[c#readme"


def test_angle_bracket_destinations_and_brackets_in_link_text() -> None:
    doc = parse("- [Model [v2] (2021)](<https://m.example/a b>) - with spaces\n")
    entry = doc.entries[0]
    assert entry.title == "Model [v2] (2021)"
    assert entry.url == "https://m.example/a b"
    assert entry.year == 2021


def test_reference_badges_before_the_real_link_never_become_titles() -> None:
    text = (
        "- [![OSS][oss]](https://github.com/org/tool) [Tool](https://tool.example) - does things\n"
        "- [Ref style][ref] - described\n\n"
        "[oss]: https://img.shields.io/badge/oss-yes-green.svg\n"
        "[ref]: https://ref.example\n"
    )
    doc = parse(text)
    assert titles(doc) == ["Tool", "Ref style"]
    assert doc.entries[0].url == "https://tool.example"
    assert [link.url for link in doc.entries[0].links] == ["https://github.com/org/tool", "https://tool.example"]
    assert doc.entries[1].url == "https://ref.example"
    assert doc.entries[1].description == "described"


def test_relative_links_are_kept_as_written() -> None:
    doc = parse("- [Guide](docs/guide.md) - local\n- [Up](../README.md)\n")
    assert urls(doc) == ["docs/guide.md", "../README.md"]


def test_html_anchors_inside_items_are_links() -> None:
    doc = parse('- <a href="https://html.example">Html <b>Name</b></a> - written in HTML\n')
    assert titles(doc) == ["Html Name"]
    assert doc.entries[0].description == "written in HTML"


def test_title_before_the_links_prefers_the_paper_over_the_code() -> None:
    doc = parse("- Graph Attention Networks [`code`](https://github.com/PetarV-/GAT) [`ICLR 2018`](https://arxiv.org/abs/1710.10903)\n")
    entry = doc.entries[0]
    assert entry.title == "Graph Attention Networks"
    assert entry.url == "https://arxiv.org/abs/1710.10903"
    assert entry.code_url == "https://github.com/PetarV-/GAT"
    assert entry.tags == ("code", "ICLR 2018")


# --- what is not an entry -------------------------------------------------------------------


def test_toc_badges_contributing_and_license_are_not_entries() -> None:
    text = (
        "# Awesome X [![Awesome](https://awesome.re/badge.svg)](https://awesome.re)\n\n"
        "[![Build](https://ci.example/badge.svg)](https://ci.example)\n\n"
        "## Table of Contents\n- [Tools](#tools)\n  - [Sub](https://github.com/me/awesome-x#sub-tools)\n\n"
        "## Tools\n- [Real](https://real.example)\n- [Jump](#tools)\n- [![only badge](https://b.example/x.svg)](https://b.example)\n"
        "### Sub Tools\n- [Other](https://github.com/other/repo#usage)\n\n"
        "## Contributing\n- [Guidelines](CONTRIBUTING.md)\n\n"
        "## License\n- [CC0](https://creativecommons.org/publicdomain/zero/1.0/)\n"
    )
    doc = parse(text)
    assert doc.title == "Awesome X"
    assert titles(doc) == ["Real", "Other"]
    assert doc.entries[1].section == ("Tools", "Sub Tools")


def test_a_list_written_below_its_table_of_contents_heading_keeps_clean_sections() -> None:
    doc = parse("# X\n\n## Table of contents\n- [A](#a)\n\n### A\n- [Thing](https://thing.example)\n")
    assert doc.entries[0].section == ("A",)


def test_html_headings_are_sections() -> None:
    doc = parse('## Languages\n\n<a name="c" />\n<h3>C</h3>\n\n- [cppcheck](https://cppcheck.example)\n')
    assert doc.entries[0].section == ("Languages", "C")


def test_the_same_link_twice_is_one_entry_at_its_first_place() -> None:
    doc = parse("## A\n- [Tool](https://tool.example/)\n## B\n- [Tool again](http://www.tool.example)\n- [Other](https://o.example)\n")
    assert titles(doc) == ["Tool", "Other"]
    assert doc.entries[0].section == ("A",)


def test_empty_and_linkless_documents() -> None:
    assert parse("").entries == ()
    assert parse("# Only a title\n\n- no links here\n").title == "Only a title"
    assert parse("- no links here\n").entries == ()


def test_unclosed_details_nest_no_deeper_than_three_sections() -> None:
    text = "## Top\n" + "<details><summary>Fold</summary>\n- [Item](https://item.example)\n" * 50
    doc = parse(text)
    assert titles(doc) == ["Item"]
    assert max(len(path) for path in doc.sections) == 4
