"""The two engines medbot has to beat, each set up the way a first attempt would be.

- ``Fts5Engine``: stdlib ``sqlite3``, one FTS5 table over title, description, section
  and tags (default ``unicode61`` tokenizer), the query's words OR-ed, ranked by
  ``bm25()``. Only the page asked for is fetched (no count query).
- ``WhooshDefaultEngine``: Whoosh with a plain ``TEXT`` schema (``StandardAnalyzer``),
  the stock ``MultifieldParser`` with ``OrGroup``, default BM25F, one reused searcher.

Both index the parsed entries as they are (no merging of the same paper across lists)
and answer with each hit's links, so hit@5 is judged the same way for every engine.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from index.model import Entry

__all__ = ["Engine", "Fts5Engine", "WhooshDefaultEngine", "directory_size", "entry_urls"]

_WORD = re.compile(r"\w+", re.UNICODE)


class Engine(Protocol):
    name: str

    def build(self, entries: Sequence[Entry]) -> None: ...

    def search(self, text: str, page: int, per_page: int) -> list[tuple[str, ...]]: ...

    def size_bytes(self) -> int: ...

    def close(self) -> None: ...


def entry_urls(entry: Entry) -> tuple[str, ...]:
    """The primary link and every other link of an entry (what hit@5 looks at)."""
    urls = [entry.url] if entry.url else []
    urls += [link.url for link in entry.links if link.url != entry.url]
    return tuple(urls)


def directory_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Fts5Engine:
    name = "sqlite-fts5"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)

    def build(self, entries: Sequence[Entry]) -> None:
        with self.db:
            self.db.execute("DROP TABLE IF EXISTS docs")
            self.db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, description, section, tags, urls UNINDEXED)")
            self.db.executemany(
                "INSERT INTO docs(title, description, section, tags, urls) VALUES (?, ?, ?, ?, ?)",
                (
                    (e.title, e.description, " / ".join(e.section), " ".join(e.tags), "\n".join(entry_urls(e)))
                    for e in entries
                ),
            )

    def search(self, text: str, page: int, per_page: int) -> list[tuple[str, ...]]:
        words = _WORD.findall(text)
        if not words:
            return []
        match = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
        rows = self.db.execute(
            "SELECT urls FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ? OFFSET ?",
            (match, per_page, (page - 1) * per_page),
        ).fetchall()
        return [tuple(filter(None, row[0].split("\n"))) for row in rows]

    def size_bytes(self) -> int:
        return directory_size(self.path)

    def close(self) -> None:
        self.db.close()


class WhooshDefaultEngine:
    name = "whoosh-defaults"
    fields = ("title", "description", "section", "tags")

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.searcher: Any = None
        self.parser: Any = None

    def build(self, entries: Sequence[Entry]) -> None:
        from whoosh import index
        from whoosh.fields import STORED, TEXT, Schema
        from whoosh.qparser import MultifieldParser, OrGroup

        self.directory.mkdir(parents=True, exist_ok=True)
        schema = Schema(title=TEXT, description=TEXT, section=TEXT, tags=TEXT, urls=STORED)
        built = index.create_in(str(self.directory), schema)
        writer = built.writer()
        for e in entries:
            writer.add_document(
                title=e.title,
                description=e.description,
                section=" / ".join(e.section),
                tags=" ".join(e.tags),
                urls=entry_urls(e),
            )
        writer.commit()
        self.searcher = built.searcher()
        self.parser = MultifieldParser(list(self.fields), built.schema, group=OrGroup)

    def search(self, text: str, page: int, per_page: int) -> list[tuple[str, ...]]:
        assert self.searcher is not None and self.parser is not None
        try:
            query = self.parser.parse(text)
            results = self.searcher.search_page(query, page, pagelen=per_page)
        except ValueError:  # Whoosh refuses pages past the end
            return []
        return [tuple(hit["urls"]) for hit in results]

    def size_bytes(self) -> int:
        return directory_size(self.directory)

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
