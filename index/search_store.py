"""The index on disk: schema, generations, meta, and the documents we write.

Layout of ``index_dir``::

    CURRENT          {"generation": "gen-...", "analyzer": 1, "schema": 2}  (os.replace'd)
    gen-<stamp>/     a Whoosh index plus meta.json (each source's fingerprint, sections)
                     and READERS, the lock file open readers lease (generation_lease.py)

A full build writes a fresh generation and then swaps ``CURRENT``; a crash before the
swap leaves the old generation serving. Incremental updates commit in place through one
writer. One Whoosh document per *identity*: the same paper in two lists is one document
carrying both occurrences, so search needs no collapsing and counts are exact.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from whoosh import columns
from whoosh import fields as wf
from whoosh import index as windex
from whoosh.filedb.filestore import FileStorage, RamStorage, copy_storage

from index.aliases import entry_aliases
from index.analysis import ANALYZER_VERSION, is_han, stem_word, text_analyzer
from index.generation_lease import Lease, remove_unread
from index.model import Entry, Link, normalise_url, section_key
from index.semantic import embedding_text, text_key
from index.whoosh_internals import remove_superseded_files

__all__ = [
    "SCHEMA_VERSION",
    "Meta",
    "Pointer",
    "build_document",
    "entry_from_json",
    "make_schema",
    "path_key",
    "read_pointer",
]

SCHEMA_VERSION = 6  # 2: segments as separate files (no compound copy in memory); 3: vkey column; 4: aliases; 5: owners; 6: han
POINTER = "CURRENT"
META = "meta.json"


def make_schema() -> wf.Schema:
    text = text_analyzer()
    return wf.Schema(
        id=wf.ID(stored=True, unique=True),
        title=wf.TEXT(analyzer=text, phrase=True),
        section=wf.TEXT(analyzer=text, phrase=True),
        tags=wf.TEXT(analyzer=text, phrase=True),
        description=wf.TEXT(analyzer=text, phrase=True),
        links=wf.TEXT(analyzer=text, phrase=False),
        # acronyms, joined-name pieces and site names (index/aliases.py), already stemmed
        aliases=wf.KEYWORD(lowercase=False, scorable=True),
        urls=wf.KEYWORD(commas=True, lowercase=False, scorable=True),
        source=wf.KEYWORD(commas=True, lowercase=True, stored=True, scorable=True),
        paths=wf.KEYWORD(commas=True, lowercase=False, scorable=True),
        year=wf.NUMERIC(numtype=int, bits=32, signed=True, shift_step=0),
        order=wf.COLUMN(columns.NumericColumn("Q")),
        # the key of the document's embedded text: its vector in the cache (index/semantic.py)
        vkey=wf.COLUMN(columns.NumericColumn("q")),
        # 1 when the entry is written mostly in Chinese: an English-only sentence model cannot read it
        han=wf.COLUMN(columns.NumericColumn("B")),
        blob=wf.STORED(),
    )


def mostly_han(text: str) -> bool:
    """Whether most letters of ``text`` are Chinese characters."""
    letters = [char for char in text if char.isalpha()]
    return bool(letters) and sum(is_han(char) for char in letters) * 2 > len(letters)


def in_topic(entry: Entry, topic_key: str) -> bool:
    """Whether the entry sits in the section ``topic_key`` names, or below it."""
    return any(path_key(entry.section[: depth + 1]) == topic_key for depth in range(len(entry.section)))


def path_key(path: Sequence[str]) -> str:
    """A section path as one comparable key: numbering, case and punctuation ignored."""
    return "/".join(_part_key(part) for part in path).replace(",", " ")


@lru_cache(maxsize=50_000)
def _part_key(part: str) -> str:
    """Section names repeat across every entry of a section: fold each name once."""
    return section_key(part)


def entry_from_json(data: dict[str, Any]) -> Entry:
    return Entry(
        id=str(data["id"]),
        title=str(data.get("title") or ""),
        url=data.get("url"),
        links=tuple(Link(str(link["text"]), str(link["url"])) for link in data.get("links") or ()),
        description=str(data.get("description") or ""),
        section=tuple(data.get("section") or ()),
        tags=tuple(data.get("tags") or ()),
        year=data.get("year"),
        source=str(data.get("source") or ""),
        line=int(data.get("line") or 0),
    )


def keyword(value: str) -> str:
    return value.replace(",", "%2C").replace(" ", "%20")


def _unique(values: Iterable[str]) -> list[str]:
    return [value for value in dict.fromkeys(v.strip() for v in values) if value]


def build_document(doc_id: str, occurrences: Sequence[Entry], order: int) -> dict[str, Any]:
    """The Whoosh fields of one identity, from its occurrences (first = representative)."""
    titles = _unique(entry.title for entry in occurrences)
    sections = _unique(part for entry in occurrences for part in entry.section)
    tags = _unique(tag for entry in occurrences for tag in entry.tags)
    descriptions = _unique(entry.description for entry in occurrences)
    links = [link for entry in occurrences for link in entry.links]
    primary = {entry.url for entry in occurrences}
    # Primary links are found through the id (it is derived from them); index the rest.
    urls = _unique(normalise_url(link.url) for link in links if link.url not in primary)
    paths = _unique(
        path_key(entry.section[: depth + 1]) for entry in occurrences for depth in range(len(entry.section))
    )
    link_text = " ".join(_unique(_link_words(links, set(titles) | set(tags))))
    year = next((entry.year for entry in occurrences if entry.year), None)
    document: dict[str, Any] = {
        "id": doc_id,
        "title": "\n".join(titles),
        "section": "\n".join(sections),
        "tags": "\n".join(tags),
        "description": "\n".join(descriptions),
        "links": link_text,
        "aliases": " ".join(dict.fromkeys(stem_word(alias) for alias in entry_aliases(titles, (link.url for link in links)))),
        "urls": ",".join(keyword(url) for url in urls),
        "source": ",".join(_unique(entry.source for entry in occurrences)),
        "paths": ",".join(paths),
        "order": order,
        "vkey": text_key(embedding_text(occurrences)),
        "han": int(mostly_han(titles[0] if titles else "")),
        "blob": occurrences_blob(occurrences),
    }
    if year is not None:
        document["year"] = year
    return document


_REPO = re.compile(r"^(?:https?://)?(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org)/([^/]+)/([^/?#]+)", re.I)


def _link_words(links: Sequence[Link], known: set[str]) -> list[str]:
    """Link texts not already in the title or tags, and repositories' owners and names
    (``PetarV-/GAT``): a lab is known by its account (``YosefLab``, ``theislab``)."""
    found = []
    for link in links:
        if link.text not in known and not link.text.startswith(("http://", "https://")):
            found.append(link.text)
        repo = _REPO.match(link.url)
        if repo:
            found.extend((repo.group(1), repo.group(2).removesuffix(".git")))
    return found


def occurrences_blob(occurrences: Sequence[Entry]) -> str:
    """The stored form of a document's occurrences (compared to skip unchanged documents)."""
    return json.dumps([entry.to_json() for entry in occurrences], ensure_ascii=False)


def occurrences_from_blob(blob: str) -> list[Entry]:
    return [entry_from_json(item) for item in json.loads(blob)]


@dataclass(frozen=True, slots=True)
class Pointer:
    generation: str
    analyzer: int
    schema: int

    @property
    def current(self) -> bool:
        return self.analyzer == ANALYZER_VERSION and self.schema == SCHEMA_VERSION


def read_pointer(index_dir: Path) -> Pointer | None:
    try:
        data = json.loads((index_dir / POINTER).read_text(encoding="utf-8"))
        pointer = Pointer(str(data["generation"]), int(data["analyzer"]), int(data["schema"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (index_dir / pointer.generation).is_dir():
        return None
    return pointer


def write_pointer(index_dir: Path, generation: str) -> None:
    """Swap the served generation in one atomic rename."""
    tmp = index_dir / f"{POINTER}.{os.getpid()}.tmp"
    payload = {"generation": generation, "analyzer": ANALYZER_VERSION, "schema": SCHEMA_VERSION}
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, index_dir / POINTER)


def new_generation(index_dir: Path) -> tuple[str, Path]:
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.time_ns():x}-{os.getpid()}"
    path = index_dir / f"{name}.building"
    path.mkdir()
    return name, path


class _PrivateRamStorage(RamStorage):  # type: ignore[misc]
    """A RamStorage whose scratch files go to a directory of its own.

    Whoosh's RamStorage puts a writer's scratch files in ``<tmp>/MAIN.tmp``, one path
    shared by every process on the machine: two builds at once (a bot and a CLI, or
    two test runs) delete each other's files mid-commit.
    """

    def __init__(self) -> None:
        super().__init__()
        self.scratch_dirs: list[str] = []

    def temp_storage(self, name: str | None = None) -> FileStorage:
        path = tempfile.mkdtemp(prefix="medbot-whoosh-")
        self.scratch_dirs.append(path)
        return FileStorage(path).create()


def release_scratch(ix: windex.Index) -> None:
    """Remove the scratch directories an in-memory build made (Whoosh leaves them behind)."""
    for path in getattr(ix.storage, "scratch_dirs", ()):
        shutil.rmtree(path, ignore_errors=True)


def create_ram_index() -> windex.Index:
    """A fresh index in memory: a bulk build there avoids Whoosh's per-posting file checks."""
    return _PrivateRamStorage().create_index(make_schema())


def create_file_index(path: Path) -> windex.Index:
    return FileStorage(str(path)).create_index(make_schema())


def save_ram_index(ix: windex.Index, path: Path) -> None:
    """Copy a finished in-memory index into the (new, empty) generation directory."""
    copy_storage(ix.storage, FileStorage(str(path)))


class LeasedIndex(windex.FileIndex):  # type: ignore[misc]
    """A Whoosh index that holds its generation's lease until closed."""

    def __init__(self, path: Path, lease: Lease) -> None:
        super().__init__(FileStorage(str(path)))
        self.lease = lease

    def close(self) -> None:
        self.lease.release()


def open_current(index_dir: Path, attempts: int = 5) -> tuple[windex.Index, Pointer] | None:
    """The served generation, opened and leased; None when there is no current one.

    A generation retired between reading ``CURRENT`` and taking its lease (or between
    reading ``CURRENT`` and finding its directory) is gone by then, so we read the pointer
    again (a few times at most).
    """
    for _ in range(attempts):
        pointer = read_pointer(index_dir)
        if pointer is None and (index_dir / POINTER).exists():
            continue  # it named a generation retired just now: CURRENT names its successor
        if pointer is None or not pointer.current:
            return None
        lease = Lease.take(index_dir / pointer.generation)
        if lease is not None:
            return LeasedIndex(index_dir / pointer.generation, lease), pointer
    return None


def tidy_superseded(ix: windex.Index) -> None:
    """After an in-place commit: delete the old segment files if no other process reads them."""
    lease = getattr(ix, "lease", None)
    if lease is None:
        remove_superseded_files(ix)
        return
    try:
        if lease.alone():
            remove_superseded_files(ix)
    finally:
        lease.share()


def finish_generation(index_dir: Path, name: str, building: Path) -> None:
    """Publish a built generation and retire the ones nobody points to any more."""
    os.replace(building, index_dir / name)
    write_pointer(index_dir, name)
    remove_stale(index_dir, keep=name)


def remove_stale(index_dir: Path, keep: str) -> None:
    """Remove retired generations nobody reads (a generation still read waits for later)."""
    served = read_pointer(index_dir)  # a build elsewhere may have swapped in a newer one
    kept = {keep, served.generation if served else keep}
    for child in index_dir.iterdir():
        if child.is_dir() and child.name.startswith("gen-") and child.name not in kept:
            if child.name.endswith(".building"):
                if not _recent(child):  # otherwise another process may be building it now
                    shutil.rmtree(child, ignore_errors=True)
            elif ".removing-" in child.name:
                shutil.rmtree(child, ignore_errors=True)  # a remover died half way
            else:
                remove_unread(child)


def _recent(path: Path, seconds: float = 3600) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return False


@dataclass
class Meta:
    """What the index knows about each source: fingerprint, entry count, sections."""

    sources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, generation_dir: Path) -> Meta:
        try:
            data = json.loads((generation_dir / META).read_text(encoding="utf-8"))
            return cls(sources=dict(data.get("sources", {})))
        except (OSError, ValueError, AttributeError):
            return cls()

    def save(self, generation_dir: Path) -> None:
        tmp = generation_dir / f"{META}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"sources": self.sources}, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, generation_dir / META)
