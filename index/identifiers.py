"""Scholarly identifiers in what people paste: arXiv ids, DOIs, PubMed/PMC ids, GitHub repos.

A lab member pastes ``arXiv:1710.01766v2`` or ``https://doi.org/10.1038/...`` into
``/search``; the list may have linked the same paper as a PDF, a publisher page or a
resolver URL. Every form is reduced here to the canonical key ``index.model`` uses for
links (``arxiv:1710.01766``, ``doi:10.1038/s41576-019-0122-6``, ``pubmed:123``,
``pmc:pmc4768299``, ``github.com/owner/repo``), plus a few equivalent keys (a Nature DOI
is also its ``nature.com/articles/...`` page). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from index.model import Entry, normalise_url

__all__ = ["Identifier", "github_repo", "identifiers_of", "parse_identifier"]

KINDS = ("arxiv", "doi", "pubmed", "pmc", "github")

_ARXIV_NEW = r"\d{4}\.\d{4,5}"
_ARXIV_OLD = r"[a-z][a-z\-]+(?:\.[a-z]{2})?/\d{7}"
_ARXIV_ID = re.compile(rf"^(?:arxiv:\s*)?(?P<id>{_ARXIV_NEW}|{_ARXIV_OLD})(?:v\d+)?$", re.I)
_DOI = re.compile(r"^(?:doi:\s*)?(?P<doi>10\.\d{4,9}/\S+)$", re.I)
_ARXIV_DOI = re.compile(rf"^10\.48550/arxiv\.(?P<id>{_ARXIV_NEW})$", re.I)
_PMID = re.compile(r"^(?:pmid|pubmed)\s*:?\s*(?P<id>\d{1,9})$", re.I)
_PMC = re.compile(r"^(?:pmcid\s*:?\s*)?(?P<id>pmc\d{3,9})$", re.I)
_GITHUB = re.compile(r"^github\.com/(?P<owner>[a-z0-9](?:[a-z0-9-]{0,38}))/(?P<repo>[a-z0-9._-]{1,100})(?:/.*)?$", re.I)
_TRAILING = ".,;:)]}>\"'"
# DOIs whose publisher page is a plain function of the DOI: lists often link the page.
_PUBLISHER_PAGES = {"10.1038/": "nature.com/articles/"}
_GITHUB_RESERVED = {"about", "orgs", "topics", "features", "marketplace", "sponsors", "collections", "search"}


@dataclass(frozen=True, slots=True)
class Identifier:
    """One identifier: ``kind`` (arxiv, doi, pubmed, pmc, github) and its canonical value."""

    kind: str
    value: str

    @property
    def key(self) -> str:
        """The link key ``index.model.normalise_url`` gives every form of this identifier."""
        return self.value if self.kind == "github" else f"{self.kind}:{self.value}"

    @property
    def keys(self) -> tuple[str, ...]:
        """The key and the keys of equivalent links (an arXiv DOI is its arXiv id, a
        Nature DOI is its nature.com page), for finding whichever form a list used."""
        keys = [self.key]
        if self.kind == "doi":
            arxiv = _ARXIV_DOI.match(self.value)
            if arxiv:
                keys.append("arxiv:" + arxiv.group("id").lower())
            for prefix, page in _PUBLISHER_PAGES.items():
                if self.value.startswith(prefix):
                    keys.append(page + self.value[len(prefix) :])
        if self.kind == "arxiv" and re.fullmatch(_ARXIV_NEW, self.value):
            keys.append(f"doi:10.48550/arxiv.{self.value}")
        return tuple(dict.fromkeys(keys))


def _clean(text: str) -> str:
    return unquote(text.strip().strip("<>").strip()).rstrip(_TRAILING)


def parse_identifier(text: str) -> Identifier | None:
    """The identifier ``text`` is (the whole text, any common form), or None.

    >>> parse_identifier("arXiv:1710.01766v2")
    Identifier(kind='arxiv', value='1710.01766')
    """
    raw = _clean(text)
    if not raw or len(raw) > 500:
        return None
    raw = re.sub(r"\s+", " ", raw)
    for pattern, kind in ((_ARXIV_ID, "arxiv"), (_PMID, "pubmed"), (_PMC, "pmc")):
        match = pattern.match(raw)
        if match:
            return Identifier(kind, match.group("id").lower())
    doi = _DOI.match(raw)
    if doi:
        return _doi(doi.group("doi"))
    if " " in raw:
        return None
    return identifier_of_url(raw)


def _doi(value: str) -> Identifier:
    value = value.rstrip(_TRAILING).lower()
    arxiv = _ARXIV_DOI.match(value)
    return Identifier("arxiv", arxiv.group("id").lower()) if arxiv else Identifier("doi", value)


def identifier_of_url(url: str) -> Identifier | None:
    """The identifier a link names (arXiv abs/pdf, DOI resolver, PubMed, PMC, GitHub repo)."""
    key = normalise_url(url)
    for kind in ("arxiv", "pubmed", "pmc"):
        if key.startswith(kind + ":"):
            return Identifier(kind, key[len(kind) + 1 :])
    if key.startswith("doi:"):
        return _doi(key[4:])
    repo = github_repo(key)
    return Identifier("github", repo) if repo else None


def github_repo(url_or_key: str) -> str | None:
    """``github.com/owner/repo`` (lower case, no ``.git``) for a link into a repository."""
    key = url_or_key if "://" not in url_or_key else normalise_url(url_or_key)
    match = _GITHUB.match(key.split("?", 1)[0].split("#", 1)[0])
    if not match or match.group("owner").lower() in _GITHUB_RESERVED:
        return None
    repo = match.group("repo").lower().removesuffix(".git")
    return f"github.com/{match.group('owner').lower()}/{repo}" if repo else None


def identifiers_of(entry: Entry) -> tuple[Identifier, ...]:
    """Every identifier an entry's links (and bare DOIs in its text) name, primary first."""
    found: list[Identifier] = []
    urls: Iterable[str] = [*([entry.url] if entry.url else []), *(link.url for link in entry.links)]
    for url in urls:
        identifier = identifier_of_url(url)
        if identifier is not None:
            found.append(identifier)
    for match in re.finditer(r"\b(10\.\d{4,9}/[^\s\"<>]+)", entry.description):
        found.append(_doi(match.group(1)))
    return tuple(dict.fromkeys(found))
