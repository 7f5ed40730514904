"""An Atom feed of the entries the watcher found new (``medbot feed``).

For people who would rather read announcements in a feed reader than in a chat: the
same log ``/new`` shows, written as valid Atom by feedgen. Entry ids are stable
(``urn:medbot:entry:<id>``) so a reader never shows an entry twice, however often the
feed is regenerated.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import TextIO

from feedgen.feed import FeedGenerator

from bot.core.config import Settings
from bot.store.sqlite import LoggedEntry, Store, utcnow

__all__ = ["build_feed", "feed_main", "write_feed"]

FEED_ID = "urn:medbot:new-entries"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: lxml refuses control characters (an ESC pasted into a list)."""
    return _NOT_XML.sub("", text)


def _content(logged: LoggedEntry) -> str:
    """A small HTML body: where the entry sits, its links, its note."""
    entry = logged.entry
    parts = []
    if entry.section:
        parts.append(f"<p>Section: {escape(' › '.join(entry.section))}</p>")
    parts.append(f"<p>Added to: {escape(', '.join(logged.sources))}</p>")
    if entry.description:
        parts.append(f"<p>{escape(entry.description)}</p>")
    links = [(link.text or link.url, link.url) for link in entry.links]
    if links:
        items = "".join(f'<li><a href="{escape(url, quote=True)}">{escape(text)}</a></li>' for text, url in links)
        parts.append(f"<ul>{items}</ul>")
    return "".join(parts)


def build_feed(entries: list[LoggedEntry], *, title: str = "medbot: new entries", feed_url: str | None = None,
               now: datetime | None = None) -> FeedGenerator:
    """The Atom feed of ``entries`` (newest first), as a feedgen object."""
    feed = FeedGenerator()
    feed.id(FEED_ID)
    feed.title(title)
    feed.subtitle("Entries added upstream to the awesome lists medbot watches")
    feed.author({"name": "medbot"})
    feed.generator("medbot")
    feed.language("en")
    if feed_url:
        feed.link(href=feed_url, rel="self")
    feed.updated(entries[0].first_seen if entries else (now or utcnow()))
    for logged in entries:
        entry = logged.entry
        item = feed.add_entry(order="append")
        item.id(f"urn:medbot:entry:{entry.id}")
        item.title(_xml(entry.title or entry.url or entry.id))
        if entry.url:
            item.link(href=_xml(entry.url), rel="alternate")
        item.published(logged.first_seen)
        item.updated(logged.first_seen)
        item.summary(_xml(f"New in {', '.join(logged.sources)}" + (f" — {' › '.join(entry.section)}" if entry.section else "")))
        item.content(_xml(_content(logged)), type="html")
        for term in (*entry.section, *entry.tags):
            item.category(term=_xml(term))
    return feed


def write_feed(store: Store, output: str | Path | TextIO | None = None, *, days: float | None = None,
               limit: int = 200, title: str = "medbot: new entries", feed_url: str | None = None) -> int:
    """Write the feed to a file path, a text stream or (``None``/``"-"``) stdout; returns its entry count."""
    since = utcnow() - timedelta(days=days) if days else None
    entries = store.recent_new_entries(since, limit)
    xml = build_feed(entries, title=title, feed_url=feed_url).atom_str(pretty=True).decode("utf-8")
    if output is None or output == "-":
        sys.stdout.write(xml)
    elif isinstance(output, (str, Path)):
        path = Path(output)
        temporary = path.with_name(path.name + ".tmp")
        try:
            temporary.write_text(xml, encoding="utf-8")
            temporary.replace(path)  # readers never see half a feed
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
    else:
        output.write(xml)
    return len(entries)


def feed_main(settings: Settings, output: str | None) -> int:
    """``medbot feed [--output FILE]``: exit status 0; the count goes to stderr with a file."""
    with Store(settings.state_url) as store:
        count = write_feed(store, output)
    if output and output != "-":
        print(f"wrote {count} entr{'y' if count == 1 else 'ies'} to {output}", file=sys.stderr)
    return 0
