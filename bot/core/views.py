"""What a reply shows of an entry: the one view search results and announcements share."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.replies import EntryView
from bot.core.segments import clip_segments, split_description
from bot.core.text import displayable
from index.model import Entry
from index.search import Hit

__all__ = ["DESCRIPTION_CHARS", "entry_view", "view_of"]

DESCRIPTION_CHARS = 300


def entry_view(hit: Hit) -> EntryView:
    """What a reply shows of a search hit."""
    return view_of(hit.entry, hit.sources, hit.score)


def view_of(entry: Entry, sources: Sequence[str] = (), score: float | None = None) -> EntryView:
    """What a reply (or an announcement) shows of an entry: links primary first, a short description."""
    inline = [(displayable(link.text), displayable(link.url)) for link in entry.links if link.url != entry.url]
    parts = clip_segments(split_description(displayable(entry.description), inline), DESCRIPTION_CHARS)
    description = "".join(text for text, _ in parts)
    links = tuple((displayable(link.text), displayable(link.url)) for link in entry.links)
    url = displayable(entry.url) if entry.url else None
    if url and all(link_url != url for _, link_url in links):
        links = ((displayable(entry.title), url), *links)
    return EntryView(
        id=entry.id,
        title=displayable(entry.title),
        url=url,
        section=tuple(displayable(part) for part in entry.section),
        tags=tuple(displayable(tag) for tag in entry.tags),
        code_url=displayable(entry.code_url) if entry.code_url else None,
        description=description,
        year=entry.year,
        sources=tuple(displayable(source) for source in (tuple(sources) or (entry.source,))),
        links=links,
        score=round(score, 4) if score is not None else None,
        description_parts=parts,
    )
