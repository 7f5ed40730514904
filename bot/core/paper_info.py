"""Everything medbot knows about one entry, gathered in one place for /paper and /export.

The list gives the entry (title, links, section); the state store adds what the enricher
fetched (authors, venue, abstract), how its links answered the link checker, the commit
that added it upstream and when medbot first saw it. ``PaperInfo`` merges those with one
rule: the list's own text wins for the title, the services fill what the list lacks.
Gathering is one blocking read of the store, run off the event loop by callers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.store.metadata import FirstSeen, LinkStatus, MetadataStore, PaperMeta, Provenance
from bot.store.sqlite import Store
from index.identifiers import Identifier, identifiers_of
from index.model import Entry

__all__ = ["PaperInfo", "gather_infos", "upstream_line_url"]

_VENUE_TAG = re.compile(r"^(?P<venue>[A-Za-z][\w&\-. ]{1,40}?)\s*'?(?P<year>(?:19|20)\d{2})$")


@dataclass(frozen=True, slots=True)
class PaperInfo:
    entry: Entry
    sources: tuple[str, ...] = ()
    metas: tuple[PaperMeta, ...] = ()
    links: dict[str, LinkStatus] = field(default_factory=dict)
    provenance: Provenance | None = None
    first_seen: FirstSeen | None = None

    @property
    def identifiers(self) -> tuple[Identifier, ...]:
        return identifiers_of(self.entry)

    def _first(self, attribute: str) -> str:
        for meta in self._papers():
            value = getattr(meta, attribute)
            if value:
                return str(value)
        return ""

    def _papers(self) -> list[PaperMeta]:
        """Bibliographic services first (Crossref, PubMed, arXiv), GitHub last."""
        order = {"crossref": 0, "pubmed": 1, "arxiv": 2, "github": 3}
        return sorted(self.metas, key=lambda meta: order.get(meta.service, 9))

    @property
    def title(self) -> str:
        return self.entry.title or self._first("title")

    @property
    def authors(self) -> tuple[str, ...]:
        for meta in self._papers():
            if meta.authors and meta.service != "github":
                return meta.authors
        return ()

    @property
    def year(self) -> int | None:
        if self.entry.year:
            return self.entry.year
        return next((meta.year for meta in self._papers() if meta.year and meta.service != "github"), None)

    @property
    def venue(self) -> str:
        found = next((meta.venue for meta in self._papers() if meta.venue and meta.service != "github"), "")
        if found:
            return found
        for tag in self.entry.tags:
            match = _VENUE_TAG.match(tag.strip())
            if match and match.group("venue").lower() not in {"code", "paper", "pdf"}:
                return match.group("venue").strip()
        return ""

    @property
    def abstract(self) -> str:
        return next((meta.abstract for meta in self._papers() if meta.abstract), "")

    @property
    def repository(self) -> PaperMeta | None:
        return next((meta for meta in self.metas if meta.service == "github"), None)

    def identifier(self, kind: str) -> str | None:
        return next((i.value for i in self.identifiers if i.kind == kind), None)

    def first_sentence(self, limit: int = 240) -> str:
        """The abstract's first sentence (announcements), at most ``limit`` characters."""
        text = " ".join(self.abstract.split())
        if not text:
            return ""
        match = re.search(r"(?<=[.!?])\s+(?=[A-Z0-9])", text)
        sentence = text[: match.start()] if match else text
        return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def upstream_line_url(source_url: str | None, line: int) -> str | None:
    """The GitHub page showing an entry's line in its list (``blob/...#L67``), when on GitHub."""
    if not source_url or line <= 0:
        return None
    raw = re.match(r"^https?://raw\.githubusercontent\.com/([^/]+)/([^/]+)/(?:refs/heads/)?([^/]+)/(.+)$", source_url)
    if raw:
        owner, repo, ref, path = raw.groups()
        return f"https://github.com/{owner}/{repo}/blob/{ref}/{path.split('?')[0]}#L{line}"
    hosted = re.match(r"^https?://(?:www\.)?github\.com/([^/]+)/([^/]+)/(?:blob|raw)/(.+?)(?:[?#].*)?$", source_url)
    if hosted:
        owner, repo, rest = hosted.groups()
        return f"https://github.com/{owner}/{repo}/blob/{rest}#L{line}"
    return None


def _urls(entry: Entry) -> list[str]:
    return list(dict.fromkeys([*([entry.url] if entry.url else []), *(link.url for link in entry.links)]))


def gather_infos(store: Store | None, items: Sequence[tuple[Entry, tuple[str, ...]]], *, detail: bool = True) -> list[PaperInfo]:
    """``PaperInfo`` for each ``(entry, sources)``, read from the store in one go (blocking)."""
    if store is None:
        return [PaperInfo(entry, sources) for entry, sources in items]
    tables = MetadataStore(store)
    infos = []
    for entry, sources in items:
        keys = [identifier.key for identifier in identifiers_of(entry)]
        infos.append(PaperInfo(
            entry,
            sources,
            tuple(tables.meta(keys)),
            tables.links(_urls(entry)) if detail else {},
            tables.provenance(entry.key) if detail else None,
            tables.first_seen(entry.key) if detail else None,
        ))
    return infos
