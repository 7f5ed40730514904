"""Entry-level diff of two versions of one awesome list, and plain-text renderings.

The watcher announces ``added`` entries, so *added* is deliberately hard to reach: an
entry is new only when nothing of it was in the old document — not its identity, not
any of its links (with or without a fragment), and for a link-less entry not its title.
Restyles (bullets, whitespace, the title moved in or out of the link text, a badge
rewritten) and moves between sections therefore come out as *changed*, or not at all
when the content is the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from index.model import Entry, ListDocument, link_key, normalise_title

__all__ = ["Diff", "diff", "format_diff", "format_document"]


@dataclass(frozen=True, slots=True)
class Diff:
    """What happened between two versions: new entries, gone entries, edited entries (new form)."""

    added: tuple[Entry, ...] = ()
    removed: tuple[Entry, ...] = ()
    changed: tuple[Entry, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, object]:
        """The diff shape of DESIGN.md: ``{"added", "removed", "changed"}`` lists of entries."""
        return {
            "added": [entry.to_json() for entry in self.added],
            "removed": [entry.to_json() for entry in self.removed],
            "changed": [entry.to_json() for entry in self.changed],
        }


def diff(old: ListDocument, new: ListDocument) -> Diff:
    """Compare two parsed versions of a list. Pure; order follows the documents."""
    old_index = _Index(old.entries)
    new_index = _Index(new.entries)
    added: list[Entry] = []
    changed: list[Entry] = []
    for entry in new.entries:
        previous = old_index.match(entry)
        if previous is None:
            added.append(entry)
        elif _content(previous) != _content(entry):
            changed.append(entry)
    removed = [entry for entry in old.entries if new_index.match(entry) is None]
    return Diff(added=tuple(added), removed=tuple(removed), changed=tuple(changed))


class _Index:
    """Every key under which an entry of one document can be recognised."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.by_identity: dict[str, Entry] = {}
        self.by_link: dict[str, Entry] = {}
        self.by_title: dict[str, Entry] = {}
        self.by_linkless_title: dict[str, Entry] = {}
        for entry in entries:
            self.by_identity.setdefault(entry.key, entry)
            for key in _keys(entry):
                self.by_link.setdefault(key, entry)
            title = normalise_title(entry.title)
            self.by_title.setdefault(title, entry)
            if not entry.url:
                self.by_linkless_title.setdefault(title, entry)

    def match(self, entry: Entry) -> Entry | None:
        """The entry this one continues: same identity first, then any shared link, then the title.

        Titles only bridge to or from an entry without links (its title is its identity).
        """
        exact = self.by_identity.get(entry.key)
        if exact is not None:
            return exact
        for key in _keys(entry):
            found = self.by_link.get(key)
            if found is not None:
                return found
        titles = self.by_title if not entry.url else self.by_linkless_title
        return titles.get(normalise_title(entry.title))


def _keys(entry: Entry) -> list[str]:
    """Identity and each link's key, each also with its fragment cut off."""
    keys = [entry.key]
    keys.extend(key for key in (link_key(link.url) for link in entry.links) if key)
    keys.extend([key.split("#", 1)[0] for key in keys if "#" in key and not key.startswith("title:")])
    return keys


def _content(entry: Entry) -> tuple[object, ...]:
    """What a reader would call the entry's content: everything but its position."""
    return (entry.title, entry.url, entry.links, entry.description, entry.section, entry.tags, entry.year)


# --- text forms for the command line ---------------------------------------------------


def format_document(doc: ListDocument) -> str:
    """A readable listing: title, counts, then one line per entry (line, section, title, url)."""
    lines = [
        doc.title or doc.source or "(untitled list)",
        f"{len(doc.entries)} entries in {len(doc.sections)} sections",
    ]
    lines.extend(f"warning: {warning}" for warning in doc.warnings)
    lines.extend(_entry_line(entry) for entry in doc.entries)
    return "\n".join(lines)


def format_diff(result: Diff) -> str:
    """``+`` added, ``-`` removed, ``~`` changed, after a one-line summary."""
    summary = f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
    lines = [summary]
    for mark, entries in (("+", result.added), ("-", result.removed), ("~", result.changed)):
        lines.extend(f"{mark} {_entry_line(entry)}" for entry in entries)
    return "\n".join(lines)


def _entry_line(entry: Entry) -> str:
    section = " > ".join(entry.section)
    return f"{entry.line:>5}  [{section}]  {entry.title}  {entry.url or ''}".rstrip()
