"""From the inline tokens of one list item (or table row, or heading) to an entry's fields.

The block walk in ``index.parser`` decides *where* entries are; this module decides
*what* an entry says: its title, primary link, all links, badge tags, year and
description. Everything here is pure and works on markdown-it inline children, so
the same rules apply to list items, table rows and link-only headings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it.token import Token

__all__ = [
    "Fields",
    "Piece",
    "clean_text",
    "fields_from_pieces",
    "pieces_from_inline",
    "year_of",
]


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of an item's inline content: plain text, or one link with its visible text."""

    text: str
    url: str | None = None  # None: plain text
    tag: bool = False  # the link text is only inline code: a badge such as `ACL 2018`
    image_only: bool = False  # the link wraps only images: a shield, a logo
    codes: tuple[str, ...] = ()  # inline-code texts inside the link

    @property
    def is_link(self) -> bool:
        return self.url is not None


@dataclass(frozen=True, slots=True)
class Fields:
    """What one entry says, before identity and position are attached."""

    title: str
    url: str | None
    links: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]
    year: int | None
    description: str


_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"\s+")
_BARE_URL = re.compile(r"https?://[^\s<>\"'`\[\]{}|\\^，。；：！？（）【】「」、]+", re.IGNORECASE)
_TRAILING_PUNCT = ".,;:!?*_~'\""
_A_OPEN = re.compile(r"""^<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_A_CLOSE = re.compile(r"^</a\s*>", re.IGNORECASE)
_KBD_OPEN = re.compile(r"^<kbd\b", re.IGNORECASE)
_KBD_CLOSE = re.compile(r"^</kbd\s*>", re.IGNORECASE)
_BREAK = re.compile(r"^<br\s*/?>", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Visible text: zero-width characters dropped, NBSP and runs of space folded."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text).replace("\u00a0", " ")).strip()


def pieces_from_inline(children: Sequence[Token]) -> list[Piece]:
    """Flatten inline children into text and link pieces (bare URLs become links).

    Images outside links are dropped (badges and logos are never titles); a link that
    holds only images is kept as an ``image_only`` link so that it can count as a link
    without ever giving its alt text as a title.
    """
    pieces: list[Piece] = []
    text_run: list[str] = []
    link_url: str | None = None
    link_text: list[str] = []
    link_codes: list[str] = []
    link_images = 0
    hidden = 0

    def flush_text() -> None:
        if text_run:
            pieces.extend(_split_bare_urls("".join(text_run)))
            text_run.clear()

    def open_link(url: str) -> None:
        nonlocal link_url, link_images
        flush_text()
        link_url, link_images = url, 0
        link_text.clear()
        link_codes.clear()

    def close_link() -> None:
        nonlocal link_url
        if link_url is None:
            return
        text = clean_text("".join(link_text))
        only_code = bool(link_codes) and text == clean_text(" ".join(link_codes))
        pieces.append(
            Piece(
                text=text,
                url=link_url.strip(),
                tag=only_code,
                image_only=not text and link_images > 0,
                codes=tuple(clean_text(c) for c in link_codes if clean_text(c)),
            )
        )
        link_url = None

    for child in children:
        kind = child.type
        sink = link_text if link_url is not None else text_run
        if hidden and kind in ("text", "code_inline"):
            continue  # <kbd>★ 3.8k</kbd>: counters and chips, not words of the entry
        if kind == "text":
            sink.append(child.content)
        elif kind == "code_inline":
            sink.append(child.content)
            if link_url is not None:
                link_codes.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            sink.append(" ")
        elif kind == "link_open":
            open_link(str(child.attrs.get("href", "")))
        elif kind == "link_close":
            close_link()
        elif kind == "image":
            if link_url is not None:
                link_images += 1
        elif kind == "html_inline":
            content = child.content
            anchor = _A_OPEN.match(content)
            if anchor and link_url is None:
                open_link(next(g for g in anchor.groups() if g is not None))
            elif _A_CLOSE.match(content):
                close_link()
            elif _BREAK.match(content):
                sink.append(" ")
            elif _KBD_OPEN.match(content):
                hidden += 1
            elif _KBD_CLOSE.match(content):
                hidden = max(0, hidden - 1)
    close_link()
    flush_text()
    return pieces


def _split_bare_urls(text: str) -> Iterable[Piece]:
    """Plain text with ``https://...`` written out: the URLs become links."""
    start = 0
    for match in _BARE_URL.finditer(text):
        url = _trim_url(match.group(0))
        if start < match.start():
            yield Piece(text[start : match.start()])
        yield Piece(text="", url=url)
        start = match.start() + len(url)
    if start < len(text):
        yield Piece(text[start:])


def _trim_url(url: str) -> str:
    """Drop sentence punctuation and an unbalanced closing parenthesis from a bare URL."""
    while url:
        if url[-1] in _TRAILING_PUNCT or url[-1] == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url


# --- fields --------------------------------------------------------------------------

_TITLE_TAIL = " \t-–—:：|,;/([（【•·"
_DESC_HEAD = " \t-–—:：|,;.)]）】•·"
_GENERIC_LINK_TEXT = re.compile(
    r"^(?:paper|pdf|link|links|code|source|github|gitlab|repo|repository|project|project page|homepage|"
    r"website|site|web|demo|video|slides|blog|html|arxiv|official|dataset|data|download|here|"
    r"doi|pubmed|pmc|url|官网|论文|代码|链接)$",
    re.IGNORECASE,
)
_CODE_TEXT = re.compile(
    r"\b(?:code|github|gitlab|implementation|repo|repository|source|pytorch|tensorflow|keras)\b",
    re.IGNORECASE,
)


def fields_from_pieces(pieces: Sequence[Piece]) -> Fields | None:
    """Title, primary link and the rest, by the rules of issue 2; None when not an entry.

    An item is an entry when it holds a link and something a reader would call its name.
    """
    links = [p for p in pieces if p.is_link and p.url]
    if not links:
        return None
    real_links = [p for p in links if not p.image_only]
    first_meaningful = next((i for i, p in enumerate(pieces) if _meaningful(p)), None)
    if first_meaningful is None:
        return None
    lead = pieces[first_meaningful]
    primary: Piece | None
    if lead.is_link and lead.url and not lead.tag and lead.text:
        title, primary, rest = lead.text, lead, pieces[first_meaningful + 1 :]
    else:
        cut = next(
            (i for i, p in enumerate(pieces) if p.is_link and p.url and not p.image_only),
            len(pieces),
        )
        title = clean_text("".join(p.text for p in pieces[:cut] if not p.is_link)).rstrip(_TITLE_TAIL).strip()
        rest = pieces[cut:]
        primary = _primary(real_links or links)
        if not title:
            title = primary.text if primary.text and not primary.tag else _url_title(primary.url or "")
            if primary.text and not primary.tag:
                rest = [p for p in rest if p is not primary]
    title = clean_text(title)
    if not title:
        return None
    tags = _unique(code for p in links for code in p.codes)
    description = _description(rest, primary)
    year = year_of(tags, description, title, primary.url if primary else None)
    return Fields(
        title=title,
        url=primary.url if primary else None,
        links=tuple(_unique_links((p.text or p.url or "", p.url or "") for p in links)),
        tags=tuple(tags),
        year=year,
        description=description,
    )


def _meaningful(piece: Piece) -> bool:
    if piece.is_link:
        return not piece.image_only
    return bool(clean_text(piece.text).strip(_TITLE_TAIL))


def _primary(candidates: Sequence[Piece]) -> Piece:
    """The paper rather than its code: the first link whose text does not say code."""
    for piece in candidates:
        if not _CODE_TEXT.search(piece.text):
            return piece
    return candidates[0]


def _url_title(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # malformed host such as ``http://[oops``
        return url
    return (parts.netloc + parts.path).rstrip("/") or url


def _description(rest: Sequence[Piece], primary: Piece | None) -> str:
    words: list[str] = []
    for piece in rest:
        if not piece.is_link:
            words.append(piece.text)
        elif piece.image_only or piece.tag:
            continue
        elif not piece.text:
            words.append(piece.url or "")
        elif piece is primary and _GENERIC_LINK_TEXT.match(piece.text):
            continue
        else:
            words.append(piece.text)
    return clean_text(" ".join(words)).lstrip(_DESC_HEAD).strip()


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _unique_links(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    result = []
    for text, url in items:
        if url not in seen:
            seen.add(url)
            result.append((text, url))
    return result


# --- year -----------------------------------------------------------------------------

_YEAR = r"(?:19[5-9]\d|20[0-3]\d)"
_PAREN_YEAR = re.compile(r"\((" + _YEAR + r")[a-z]?\)")
_LOOSE_YEAR = re.compile(r"(?<![\d.\-/–])(" + _YEAR + r")(?![\d]|[.\-/–]\d)")
_ARXIV_ID = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{2})(\d{2})\.\d{4,5}", re.IGNORECASE)


def year_of(tags: Sequence[str], description: str, title: str, url: str | None) -> int | None:
    """The publication year: from a badge (``ACL 2018``), else the citation text.

    In citations the year is the parenthesised one (``Nature 578, 82–93 (2020)``) or the
    first free-standing one (``Nature methods, 2015, 12(10): 931-934``); page ranges,
    volume numbers and dotted bioRxiv ids never match. Last resorts: a year in the
    title, then the arXiv identifier of the primary link.
    """
    for tag in tags:
        loose = _LOOSE_YEAR.search(tag)
        if loose:
            return int(loose.group(1))
    text = _BARE_URL.sub(" ", description)
    for pattern in (_PAREN_YEAR, _LOOSE_YEAR):
        found = pattern.search(text)
        if found:
            return int(found.group(1))
    found = _LOOSE_YEAR.search(title)
    if found:
        return int(found.group(1))
    arxiv = _ARXIV_ID.search(url or "")
    if arxiv and 1 <= int(arxiv.group(2)) <= 12:
        return 2000 + int(arxiv.group(1))
    return None
