"""The domain objects every stage shares, and the identity of an entry.

Identity is what lets the watcher tell a new paper from a restyled line: two entries are
the same when their primary links normalise to the same key (or, without links, their
titles do). Everything here is pure and frozen so parser, diff and index can pass
entries around without copying.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

__all__ = [
    "Entry",
    "Link",
    "ListDocument",
    "entry_id",
    "identity_key",
    "link_key",
    "normalise_title",
    "normalise_url",
    "section_key",
]


@dataclass(frozen=True, slots=True)
class Link:
    """One link of an entry, with the text a reader sees on it (``code``, ``ACL 2018``)."""

    text: str
    url: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource of an awesome list: a paper, a repository, a dataset, a site."""

    id: str
    title: str
    url: str | None
    links: tuple[Link, ...] = ()
    description: str = ""
    section: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    year: int | None = None
    source: str = ""
    line: int = 0

    @property
    def key(self) -> str:
        """The identity key (the normalised primary link or title) behind ``id``."""
        return identity_key(self.url, self.title)

    @property
    def code_url(self) -> str | None:
        """The code link, when the entry has one besides its primary link."""
        for link in self.links:
            if link.url != self.url and _looks_like_code(link):
                return link.url
        return None

    def to_json(self) -> dict[str, object]:
        """The entry shape of DESIGN.md's JSON contract."""
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "links": [{"text": link.text, "url": link.url} for link in self.links],
            "description": self.description,
            "section": list(self.section),
            "tags": list(self.tags),
            "year": self.year,
            "source": self.source,
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class ListDocument:
    """A parsed awesome list: its title, its section paths in order, and its entries."""

    title: str
    entries: tuple[Entry, ...]
    sections: tuple[tuple[str, ...], ...] = ()
    source: str = ""
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "source": self.source,
            "sections": [list(path) for path in self.sections],
            "entries": [entry.to_json() for entry in self.entries],
            "warnings": list(self.warnings),
        }


_CODE_WORDS = re.compile(r"\b(code|github|gitlab|implementation|repo|source)\b", re.I)
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org")


def _looks_like_code(link: Link) -> bool:
    try:
        host = urlsplit(link.url).netloc.lower()
    except ValueError:  # a malformed link such as ``http://[oops``
        host = ""
    return bool(_CODE_WORDS.search(link.text)) or any(host.endswith(h) for h in _CODE_HOSTS)


# --- identity -------------------------------------------------------------------------

_ARXIV = re.compile(
    r"^(?:export\.)?arxiv\.org/(?:abs|pdf|html)/(?P<id>(?:\d{4}\.\d{4,5})|(?:[a-z\-]+(?:\.[a-z]{2})?/\d{7}))(?:v\d+)?(?:\.pdf)?$",
    re.I,
)
_DOI = re.compile(r"^(?:dx\.)?doi\.org/(?P<doi>10\.\d{4,9}/\S+)$", re.I)
_PUBMED = re.compile(r"^(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pubmed|pubmed\.ncbi\.nlm\.nih\.gov)/(?P<id>\d+)$", re.I)
_PMC = re.compile(
    r"^(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pmc/articles|pmc\.ncbi\.nlm\.nih\.gov/articles|europepmc\.org/articles?)/(?P<id>pmc\d+)$",
    re.I,
)
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|ref_src|mc_cid|mc_eid|share|ref)$", re.I)
_SPACE = re.compile(r"\s+")
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[ivxlc]+\.|[a-z]\.)\s+", re.I)


@lru_cache(maxsize=1 << 16)
def normalise_url(url: str) -> str:
    """A key under which the forms people write of one link compare equal.

    Scheme, ``www.``, default ports, trailing slashes and tracking parameters are
    dropped; arXiv abs/pdf/version forms, DOI resolvers and PubMed/PMC hosts are unified.
    The fragment is kept only where it addresses something (a GitHub heading anchor in
    a README points to a different resource than the README itself).
    """
    raw = url.strip().strip("<>").strip()
    if not raw:
        return ""
    if raw.lower().startswith("doi:"):
        return "doi:" + raw[4:].strip().lower()
    if "://" not in raw and not raw.startswith("//"):
        raw = "//" + raw if re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", raw, re.I) else raw
        if not raw.startswith("//"):
            return raw.lower()
    try:
        parts = urlsplit(raw if "://" in raw else "http:" + raw)
    except ValueError:
        # Unbalanced brackets in the host (``http://[oops``): urlsplit refuses them. The
        # link is still the entry's identity, compared as written.
        return raw.lower()
    host = parts.netloc.lower().rsplit("@", 1)[-1]
    host = re.sub(r":(80|443)$", "", host)
    if host.startswith("www."):
        host = host[4:]
    path = unquote(parts.path)
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    if path.endswith(("/index.html", "/index.htm", "/index.php")):
        path = path.rsplit("/", 1)[0]
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    query_text = urlencode(sorted(query))
    base = host + path
    arxiv = _ARXIV.match(base)
    if arxiv:
        return "arxiv:" + arxiv.group("id").lower()
    doi = _DOI.match(base)
    if doi:
        return "doi:" + doi.group("doi").lower()
    pubmed = _PUBMED.match(base)
    if pubmed:
        return "pubmed:" + pubmed.group("id")
    pmc = _PMC.match(base)
    if pmc:
        return "pmc:" + pmc.group("id").lower()
    if host in {"github.com", "gitlab.com"}:
        base = base.lower()
        # /tree/master and /blob/master/README.md name the repository itself.
        base = re.sub(r"^([^/]+/[^/]+/[^/]+)/(?:tree|blob)/(?:master|main)(?:/readme\.md)?$", r"\1", base)
    key = base + ("?" + query_text if query_text else "")
    fragment = unquote(parts.fragment).strip()
    if fragment and _fragment_matters(fragment):
        key += "#" + fragment.lower()
    return key


_NOISE_FRAGMENT = re.compile(
    r"^(?:rd|wechat_redirect|readme|top|main|content|abstract|description|summary|overview|"
    r"page=?\d*|l\d+(?:-l\d+)?|:~:.*|.*=.*)$",
    re.IGNORECASE,
)


def _fragment_matters(fragment: str) -> bool:
    """Keep fragments that address a part of a page, drop the ones that only decorate a link.

    ``clustering.html#k-means`` and ``packages/#cat:Algorithms`` are different resources
    from their pages (real lists list them side by side), while ``#rd``, ``#abstract``,
    ``#page=3``, GitHub line anchors and text fragments point at the page itself. The
    diff also matches keys with the fragment cut off, so a fragment added or dropped in
    a restyle never looks like a new entry.
    """
    return not _NOISE_FRAGMENT.match(fragment)


@lru_cache(maxsize=1 << 16)
def normalise_title(title: str) -> str:
    """Case, accents, punctuation and spacing folded, for link-less entries and sections."""
    text = unicodedata.normalize("NFKC", title).casefold()
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    text = re.sub(r"[^\w\s]", " ", text)
    return _SPACE.sub(" ", text).strip()


def section_key(name: str) -> str:
    """A section name for matching: numbering like ``2.1.1`` ignored, case folded."""
    return normalise_title(_NUMBERING.sub("", name))


def link_key(url: str) -> str:
    return normalise_url(url)


def identity_key(url: str | None, title: str) -> str:
    """The identity of an entry: its normalised primary link, else its normalised title."""
    if url:
        key = normalise_url(url)
        if key:
            return key
    return "title:" + normalise_title(title)


def entry_id(key: str) -> str:
    """A short stable id users can type (``/similar 3f9a2c1d``)."""
    return hashlib.blake2s(key.encode("utf-8"), digest_size=5).hexdigest()
