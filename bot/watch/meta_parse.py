"""The answers of arXiv (Atom), Crossref (JSON), NCBI E-utilities (XML) and GitHub (JSON),
read into ``PaperMeta``. Pure: bytes or decoded JSON in, a record (or None) out.

Each service has its traps, handled here: arXiv reports a bad id as HTTP 200 with a
single entry titled ``Error``; Crossref abstracts are JATS XML fragments; PubMed splits
structured abstracts into labelled ``AbstractText`` parts and dates into ``Year`` or a
free-text ``MedlineDate``; titles arrive hard-wrapped. XML is parsed with the standard
library with entity expansion left at its safe default (no DTDs are fetched).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from bot.store.metadata import PaperMeta

__all__ = ["ServiceError", "parse_arxiv", "parse_crossref", "parse_github_repo", "parse_pubmed"]

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_TAGS = re.compile(r"<[^>]+>")


class ServiceError(ValueError):
    """The service answered, but not with a record (an error entry, a malformed body)."""


def _squash(text: str | None) -> str:
    return " ".join((text or "").split())


def _year(text: str | None) -> int | None:
    match = re.search(r"\b(1[89]\d{2}|20\d{2})\b", text or "")
    return int(match.group(1)) if match else None


def parse_arxiv(body: bytes, key: str) -> PaperMeta | None:
    """One arXiv API feed (``id_list=ID``): None when the id is unknown, ServiceError on an error entry."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ServiceError(f"arXiv: not an Atom feed ({exc})") from None
    entries = root.findall(f"{_ATOM}entry")
    if not entries:
        return None
    entry = entries[0]
    title = _squash(entry.findtext(f"{_ATOM}title"))
    entry_id = entry.findtext(f"{_ATOM}id") or ""
    if title == "Error" or "/api/errors" in entry_id:
        raise ServiceError("arXiv: " + _squash(entry.findtext(f"{_ATOM}summary"))[:200])
    authors = tuple(_squash(a.findtext(f"{_ATOM}name")) for a in entry.findall(f"{_ATOM}author"))
    journal = _squash(entry.findtext(f"{_ARXIV}journal_ref"))
    return PaperMeta(
        key=key, service="arxiv", title=title, authors=tuple(a for a in authors if a),
        year=_year(entry.findtext(f"{_ATOM}published")), venue=journal or "arXiv",
        abstract=_squash(entry.findtext(f"{_ATOM}summary")),
    )


def parse_crossref(data: Any, key: str) -> PaperMeta | None:
    """A Crossref ``/works/{doi}`` answer (``{"status": "ok", "message": {...}}``)."""
    if not isinstance(data, dict) or data.get("status") != "ok" or not isinstance(data.get("message"), dict):
        raise ServiceError("Crossref: unexpected answer")
    work = data["message"]
    authors = []
    for person in work.get("author") or ():
        if isinstance(person, dict):
            name = " ".join(part for part in (person.get("given"), person.get("family")) if part) or person.get("name")
            if name:
                authors.append(str(name))
    year = None
    for field in ("published-print", "published-online", "issued", "created"):
        parts = (work.get(field) or {}).get("date-parts") or [[None]]
        if parts and parts[0] and isinstance(parts[0][0], int):
            year = parts[0][0]
            break
    titles = work.get("title") or [""]
    venues = work.get("container-title") or [""]
    abstract = _squash(_TAGS.sub(" ", str(work.get("abstract") or "")))
    abstract = re.sub(r"^(Abstract|ABSTRACT)\s+", "", abstract)
    return PaperMeta(key=key, service="crossref", title=_squash(str(titles[0])), authors=tuple(authors), year=year,
                     venue=_squash(str(venues[0])), abstract=abstract)


def parse_pubmed(body: bytes, key: str) -> PaperMeta | None:
    """An efetch ``db=pubmed&retmode=xml`` answer (``PubmedArticleSet``); None when empty."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ServiceError(f"PubMed: not XML ({exc})") from None
    if root.tag == "eFetchResult" or root.find("ERROR") is not None:
        raise ServiceError("PubMed: " + _squash(root.findtext("ERROR"))[:200])
    article = root.find("./PubmedArticle/MedlineCitation/Article")
    if article is None:
        return None
    authors = []
    for person in article.findall("./AuthorList/Author"):
        collective = person.findtext("CollectiveName")
        name = " ".join(p for p in (person.findtext("ForeName"), person.findtext("LastName")) if p) or collective
        if name:
            authors.append(_squash(name))
    parts = []
    for piece in article.findall("./Abstract/AbstractText"):
        text = _squash("".join(piece.itertext()))
        label = piece.get("Label")
        parts.append(f"{label.capitalize()}: {text}" if label and text else text)
    pub_date = article.find("./Journal/JournalIssue/PubDate")
    year = None
    if pub_date is not None:
        year = _year(pub_date.findtext("Year")) or _year(pub_date.findtext("MedlineDate"))
    title = article.find("ArticleTitle")
    return PaperMeta(
        key=key, service="pubmed", title=_squash("".join(title.itertext())) if title is not None else "",
        authors=tuple(authors), year=year, venue=_squash(article.findtext("./Journal/Title")),
        abstract=" ".join(p for p in parts if p),
    )


def parse_github_repo(data: Any, key: str) -> PaperMeta | None:
    """A ``GET /repos/{owner}/{repo}`` answer: description and stars."""
    if not isinstance(data, dict) or "full_name" not in data:
        raise ServiceError("GitHub: unexpected answer")
    stars = data.get("stargazers_count")
    return PaperMeta(key=key, service="github", title=str(data.get("full_name") or ""),
                     description=_squash(str(data.get("description") or "")),
                     stars=stars if isinstance(stars, int) else None)
