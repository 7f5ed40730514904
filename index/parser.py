"""Awesome-list Markdown -> ``ListDocument``, on markdown-it-py block tokens.

An entry is a list item (any marker, any depth, blockquoted or not) whose own text
holds a link or a bare URL, a table body row holding a link, or a heading that is
nothing but a link (the next paragraph or blockquote describes it). Table-of-contents
jumps and the items of Contents/License/Contributing sections are not entries.
Headings that real lists indent inside list items count as sections, whether
markdown-it reads them as nested headings or as indented code.

``parse`` is pure and never raises: whatever the bytes, a document comes back, with
``warnings`` saying what had to be repaired.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from index.anchors import heading_anchors, is_anchor_link
from index.chunks import chunks
from index.inline import Piece, clean_text, fields_from_pieces, pieces_from_inline
from index.model import Entry, Link, ListDocument, entry_id, identity_key, section_key

__all__ = ["parse", "parse_bytes", "parse_file"]

_SKIPPED_SECTIONS = frozenset(
    section_key(name)
    for name in (
        "Contents",
        "Table of Contents",
        "TOC",
        "Index",
        "目录",
        "目錄",
        "內容",
        "内容",
        "License",
        "Licence",
        "Licenses",
        "许可",
        "许可证",
        "协议",
        "Contributing",
        "Contribute",
        "Contributions",
        "Contribution",
        "How to Contribute",
        "Contribution Guidelines",
        "Contributors",
        "贡献",
        "如何贡献",
    )
)
_HTML_STRUCTURE = re.compile(
    r"<h(?P<level>[1-6])\b[^>]*>(?P<heading>.*?)</h(?P=level)\s*>|<details\b[^>]*>|</details\s*>"
    r"|<summary\b[^>]*>(?P<summary>.*?)</summary\s*>",
    re.IGNORECASE,
)
_KBD = re.compile(r"<kbd\b[^>]*>.*?</kbd\s*>", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_RAW_HTML = re.compile(r"^\s*<(?:pre|script|style|textarea)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_HEADING_LINE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_INVISIBLE_CHARS = re.compile("[\u200b\u200c\u2060\ufeff\x00]")
_MAX_REPARSE_DEPTH = 4
_MAX_DETAILS_SECTIONS = 3  # deeper (or never closed) <details> add no more section levels


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")
    # Keep destinations as written (no percent-encoding of Chinese anchors or paths).
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return md


_MD = _markdown()


def parse(text: str, source: str = "") -> ListDocument:
    """Read one awesome list. Pure; never raises; time linear in ``len(text)``."""
    warnings: list[str] = []
    if "\x00" in text:
        warnings.append("NUL bytes removed")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE_CHARS.sub("", text)
    try:
        return _Walker(source, warnings).run(text)
    except (
        RecursionError,
        ValueError,
        IndexError,
        KeyError,
        TypeError,
        AttributeError,
    ) as error:
        # The edge of a pure function: a reader gets an empty list and a reason, never a traceback.
        warnings.append(f"internal parser error: {type(error).__name__}: {error}")
        return ListDocument(title=source, entries=(), source=source, warnings=tuple(warnings))


def parse_bytes(data: bytes, source: str = "") -> ListDocument:
    """Decode (BOM stripped, invalid UTF-8 replaced and reported) and parse."""
    warnings: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
        warnings.append("NUL bytes removed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", errors="replace")
        warnings.append(f"invalid UTF-8 at byte {error.start}: replaced with U+FFFD")
    doc = parse(text, source)
    if not warnings:
        return doc
    return ListDocument(
        title=doc.title,
        entries=doc.entries,
        sections=doc.sections,
        source=doc.source,
        warnings=tuple(warnings) + doc.warnings,
    )


def parse_file(path: str | Path, source: str | None = None) -> ListDocument:
    """Read and parse a file; the source name defaults to the file stem. I/O errors propagate."""
    file_path = Path(path)
    return parse_bytes(file_path.read_bytes(), file_path.stem if source is None else source)


# --- the block walk -------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """A list item or table row being read: where it starts and its own inline text."""

    line: int
    section: tuple[str, ...]
    inlines: list[Sequence[Token]] = field(default_factory=list)
    cells: bool = False


@dataclass(slots=True)
class _Found:
    line: int
    section: tuple[str, ...]
    pieces: list[Piece]


class _Walker:
    """One pass over the tokens, keeping the heading path and the open items."""

    def __init__(self, source: str, warnings: list[str]) -> None:
        self.source = source
        self.warnings = warnings
        self.title: str | None = None
        self.headings: list[tuple[int, str]] = []
        self.sections: list[tuple[str, ...]] = []
        self.found: list[_Found] = []
        self.anchors: set[str] = set()
        self.details = 0
        self.open_items = 0  # list items and table rows being read (a <summary> there is no section)

    def run(self, text: str) -> ListDocument:
        self.anchors = heading_anchors(text)
        entries: dict[str, Entry] = {}
        for offset, chunk in chunks(text):  # one token list at a time: memory bounded by the chunk
            self.walk(_MD.parse(chunk), offset, 0)
            self._collect(entries)
        return ListDocument(
            title=self.title or "",
            entries=tuple(entries.values()),
            sections=tuple(self.sections),
            source=self.source,
            warnings=tuple(self.warnings),
        )

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.headings)

    def walk(self, tokens: Sequence[Token], offset: int, depth: int) -> None:
        """Visit block tokens; ``offset`` shifts lines of re-parsed fragments."""
        items: list[_Item] = []
        in_table_head = False
        quotes = 0
        index = 0
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            line = offset + (token.map[0] if token.map else 0)
            if kind in ("thead_open", "thead_close"):
                in_table_head = kind == "thead_open"
            elif kind in ("list_item_open", "tr_open"):
                header_row = kind == "tr_open" and in_table_head
                items.append(_Item(-1, ()) if header_row else _Item(line, self.path, cells=kind == "tr_open"))
                self.open_items += 1
            elif kind in ("list_item_close", "tr_close") and items:
                self._close(items.pop())
                self.open_items -= 1
            elif kind == "heading_open":
                index = self._heading(tokens, index, offset)
            elif kind in ("blockquote_open", "blockquote_close"):
                quotes += 1 if kind == "blockquote_open" else -1
            elif kind == "inline" and items:
                if items[-1].line >= 0:
                    items[-1].inlines.append(token.children or [])
            elif kind == "inline" and quotes > 0 and tokens[index - 1].type == "paragraph_open":
                self._quoted_paragraph(token, line)
            elif kind == "code_block" and depth < _MAX_REPARSE_DEPTH:
                if _first_line_is_heading(token.content):
                    self.walk(_MD.parse(token.content), line, depth + 1)
            elif kind == "html_block" and depth < _MAX_REPARSE_DEPTH:
                self._html_block(token.content, line, depth)
            index += 1

    def _close(self, item: _Item) -> None:
        if item.line < 0 or not item.inlines or _skipped(item.section):
            return
        pieces: list[Piece] = []
        for children in item.inlines:
            if pieces:
                pieces.append(Piece(" | " if item.cells else " "))
            pieces.extend(pieces_from_inline(children))
        if self._is_jump(pieces):
            return
        self.found.append(_Found(item.line, item.section, pieces))

    def _heading(self, tokens: Sequence[Token], index: int, offset: int) -> int:
        """A section heading, the document title, or a heading that is an entry."""
        opening = tokens[index]
        level = int(opening.tag[1:]) if opening.tag[1:].isdigit() else 6
        line = offset + (opening.map[0] if opening.map else 0)
        inline = tokens[index + 1] if index + 1 < len(tokens) and tokens[index + 1].type == "inline" else None
        pieces = pieces_from_inline(inline.children or []) if inline else []
        text = clean_text("".join(p.text for p in pieces if not p.image_only))
        close = index + 2 if inline else index + 1
        if level == 1 and self.title is None and text:
            self.title = text
            return close
        if _is_link_heading(pieces) and not self._is_jump(pieces):
            described = pieces + [Piece(" ")] + _following_text(tokens, close + 1)
            self._section(level, "")
            if not _skipped(self.path):
                self.found.append(_Found(line, self.path, described))
            return close
        self._section(level, text)
        return close

    def _quoted_paragraph(self, token: Token, line: int) -> None:
        """``> **[Name](url)** <kbd>★ 3k</kbd><br>What it does.``: generated lists quote their entries."""
        pieces = pieces_from_inline(token.children or [])
        lead = next((p for p in pieces if p.url is not None and not p.image_only or p.url is None and clean_text(p.text)), None)
        if lead is not None and lead.url is not None and not _skipped(self.path) and not self._is_jump(pieces):
            self.found.append(_Found(line, self.path, pieces))

    def _section(self, level: int, text: str) -> None:
        if level == 1 and self.title is None and text:
            self.title = text
            return
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        if text:
            # "Contents" or "License" is never the parent of a real section, even when a
            # list writes its content one level below its table of contents.
            self.headings = [h for h in self.headings if not _skipped((h[1],))]
            self.headings.append((level, text))
            self.sections.append(self.path)

    def _html_block(self, content: str, line: int, depth: int) -> None:
        """Markdown lines inside an HTML block (``<details>`` without a blank line).

        Comments and ``<pre>``/``<script>`` bodies are what a reader never sees as
        Markdown, so they are blanked first (keeping line numbers).
        """
        if _RAW_HTML.match(content):
            return
        content = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), content)
        lines = content.split("\n")
        start: int | None = None
        for number, raw in enumerate([*lines, ""]):
            is_html = raw.lstrip().startswith("<") or not raw.strip()
            if not is_html:
                start = number if start is None else start
                continue
            if start is not None:
                fragment = "\n".join(lines[start:number])
                if "](" in fragment or "://" in fragment or _HEADING_LINE.match(fragment):
                    self.walk(_MD.parse(fragment), line + start, depth + 1)
                start = None
            self._html_structure(raw)

    def _html_structure(self, raw: str) -> None:
        """Sections an HTML line opens or closes: ``<h2>``, and ``<details>`` with its ``<summary>``.

        A summary is a section one level below everything Markdown can write (7 and
        deeper), so it nests under the current heading and ends with its ``</details>``.
        """
        for event in _HTML_STRUCTURE.finditer(raw):
            tag = event.group(0)[:8].lower()
            if event.group("level"):
                self._section(int(event.group("level")), _html_text(event.group("heading")))
            elif tag.startswith("<details"):
                self.details += 1
            elif tag.startswith("</detail"):
                self.headings = [h for h in self.headings if h[0] < 6 + self.details]
                self.details = max(0, self.details - 1)
            elif event.group("summary") is not None and not self.open_items and self.details <= _MAX_DETAILS_SECTIONS:
                self._section(6 + max(1, self.details), _html_text(event.group("summary")))

    def _is_jump(self, pieces: Sequence[Piece]) -> bool:
        """A table-of-contents item: every real link jumps to a heading of this list."""
        links = [p.url for p in pieces if p.url is not None and not p.image_only]
        return bool(links) and all(is_anchor_link(url, self.anchors) for url in links)

    def _collect(self, entries: dict[str, Entry]) -> None:
        """Turn what the last chunk found into entries (the first of an identity wins)."""
        found_here, self.found = self.found, []
        for found in sorted(found_here, key=lambda f: f.line):
            fields = fields_from_pieces(found.pieces)
            if fields is None:
                continue
            key = identity_key(fields.url, fields.title)
            if key in entries:
                continue
            entries[key] = Entry(
                id=entry_id(key),
                title=fields.title,
                url=fields.url,
                links=tuple(Link(text, url) for text, url in fields.links),
                description=fields.description,
                section=found.section,
                tags=fields.tags,
                year=fields.year,
                source=self.source,
                line=found.line + 1,
            )


def _html_text(html: str) -> str:
    """Visible text of an HTML heading or summary; ``<kbd>`` counters dropped."""
    return clean_text(_TAG.sub(" ", _KBD.sub(" ", html)))


def _first_line_is_heading(content: str) -> bool:
    first = next((line for line in content.split("\n") if line.strip()), "")
    return bool(_HEADING_LINE.match(first))


def _is_link_heading(pieces: Sequence[Piece]) -> bool:
    """Nothing but one link (badges and images around it allowed)."""
    links = [p for p in pieces if p.url is not None and not p.image_only]
    text = "".join(p.text for p in pieces if p.url is None)
    return len(links) == 1 and bool(links[0].text) and not clean_text(text)


def _following_text(tokens: Sequence[Token], index: int) -> list[Piece]:
    """The paragraph or blockquote right after a link heading: its description."""
    if index >= len(tokens) or tokens[index].type not in (
        "paragraph_open",
        "blockquote_open",
    ):
        return []
    closing = tokens[index].type.replace("_open", "_close")
    level = tokens[index].level
    pieces: list[Piece] = []
    for token in tokens[index + 1 :]:
        if token.type == closing and token.level == level:
            break
        if token.type == "inline":
            pieces.extend(pieces_from_inline(token.children or []))
            pieces.append(Piece(" "))
    # Links in the description are the entry's links too; keep them, but never as its title.
    return pieces


@lru_cache(maxsize=4096)
def _skipped(path: tuple[str, ...]) -> bool:
    return any(section_key(name) in _SKIPPED_SECTIONS for name in path)
