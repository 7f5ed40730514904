"""Writing the index: full builds into a fresh generation, incremental source updates.

A full build loads every source first (a parser failure aborts before anything is
written), writes a new generation (in memory, or with two writer processes for big
builds) and swaps it in; the old generation serves until the swap. An incremental update
rewrites only the documents that hold an occurrence of a changed source, in one writer
commit, then records the new fingerprints in the generation's meta.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3Codec
from whoosh.index import Index
from whoosh.searching import Searcher

from index import search_store as store
from index.child_processes import children_die_with_parent
from index.model import Entry, ListDocument
from index.parse_cache import ParseCache
from index.whoosh_internals import commit_keeping_files

__all__ = ["SourceSnapshot", "apply_changes", "build_generation", "load_all", "want_progress"]

WRITER_TIMEOUT = 30.0
PARALLEL_BUILD_MIN = 20_000
# Posting blocks uncompressed: a sixth faster to write and to read, a third bigger on disk.
# Not compound: Whoosh copies a compound segment's files into memory (BytesIO) on every
# open, so each open searcher held the whole index in RAM (twice during a reopen).
WRITER_OPTIONS: dict[str, object] = {"codec": W3Codec(compression=0), "compound": False}
PARALLEL_PARSE_MIN = 8


@dataclass(frozen=True)
class SourceSnapshot:
    """A configured list as the index sees it: a name, a cheap fingerprint, a parser.

    ``content``, when given, returns bytes that determine what ``load`` returns (the
    list's own bytes): a full build then takes the parse of content it has parsed
    before from the parse cache instead of calling ``load``, so ``load`` must be a pure
    parse of that content under this name.
    """

    name: str
    fingerprint: str
    load: Callable[[], ListDocument]
    content: Callable[[], bytes] | None = None


def build_generation(
    index_dir: Path, sources: Sequence[SourceSnapshot], progress: bool, parsed: ParseCache | None = None
) -> None:
    """Build every source into a new generation and make it the served one."""
    generation, building = store.new_generation(index_dir)
    try:
        documents = list(zip(sources, load_all(sources, parsed), strict=True))
        ranks = {source.name: rank for rank, (source, _) in enumerate(documents)}
        grouped: dict[str, list[Entry]] = {}
        for source, document in documents:
            for entry in document.entries:
                grouped.setdefault(entry.id, []).append(_with_source(entry, source.name))
        _write_all(building, grouped, ranks, progress)
        store.Meta({s.name: _meta_entry(s.fingerprint, d) for s, d in documents}).save(building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    store.finish_generation(index_dir, generation, building)


def load_all(
    sources: Sequence[SourceSnapshot], parsed: ParseCache | None = None, *, every_source: bool = True
) -> list[ListDocument]:
    """Every source parsed (or its earlier parse of the same bytes, from ``parsed``).

    ``every_source``: these are all the configured lists (a full build), so the cache
    forgets any other list.
    """
    keys: list[str | None] = [None] * len(sources)
    documents: list[ListDocument | None] = [None] * len(sources)
    if parsed is not None:
        for position, source in enumerate(sources):
            if source.content is not None:
                key = parsed.key(source.content(), source.name)
                keys[position], documents[position] = key, parsed.get(key)
    missing = [position for position, document in enumerate(documents) if document is None]
    for position, document in zip(missing, _parse_all([sources[p] for p in missing]), strict=True):
        documents[position] = document
        if parsed is not None and (new_key := keys[position]) is not None:
            parsed.put(new_key, document)
    if parsed is not None and every_source:
        parsed.keep_only(key for key in keys if key is not None)
    return [document for document in documents if document is not None]


def _parse_all(sources: Sequence[SourceSnapshot]) -> list[ListDocument]:
    """Parse, by two processes when there are many lists (parsing is CPU).

    Workers are forked, so they inherit the snapshots' loaders (closures that could not
    be pickled); only the parsed documents travel back. A parser error still aborts
    the build, raised here as it would be in-process.
    """
    if len(sources) < PARALLEL_PARSE_MIN or _build_procs(PARALLEL_BUILD_MIN) < 2:
        return [source.load() for source in sources]
    global _LOADING
    _LOADING = sources
    try:
        context = multiprocessing.get_context("fork")
        with children_die_with_parent(), ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
            return list(pool.map(_load_at, range(len(sources)), chunksize=4))
    finally:
        _LOADING = ()


_LOADING: Sequence[SourceSnapshot] = ()


def _load_at(position: int) -> ListDocument:
    return _LOADING[position].load()


def _write_all(building: Path, grouped: dict[str, list[Entry]], ranks: dict[str, int], progress: bool) -> None:
    procs = _build_procs(len(grouped))
    ix = store.create_file_index(building) if procs > 1 else store.create_ram_index()
    with children_die_with_parent():  # Whoosh's writer subprocesses are forked in here
        _write_documents(ix, building, procs, grouped, ranks, progress)


def _write_documents(ix: Any, building: Path, procs: int, grouped: dict[str, list[Entry]], ranks: dict[str, int], progress: bool) -> None:
    if procs > 1:
        writer = ix.writer(limitmb=128, procs=procs, multisegment=True, **WRITER_OPTIONS)
    else:
        writer = ix.writer(limitmb=256, **WRITER_OPTIONS)
    try:
        for number, (doc_id, occurrences) in enumerate(grouped.items(), 1):
            writer.add_document(**store.build_document(doc_id, occurrences, _order(occurrences, ranks)))
            if progress and number % 2000 == 0:
                _progress(number, len(grouped))
        writer.commit()
    except BaseException:
        writer.cancel()
        ix.close()
        store.release_scratch(ix)
        raise
    if procs == 1:
        store.save_ram_index(ix, building)
    ix.close()
    store.release_scratch(ix)
    if progress:
        _progress(len(grouped), len(grouped), finished=True)


def apply_changes(
    ix: Index,
    searcher: Searcher,
    meta: store.Meta,
    loaded: dict[str, ListDocument],
    removed: Sequence[str],
    names: Sequence[str],
    fingerprints: dict[str, str],
) -> store.Meta:
    """Re-index the documents of changed/removed sources in one commit; the new meta.

    A document whose occurrences come out exactly as stored is left alone, so editing
    one entry of a 3,000-entry list rewrites one document, not 3,000.
    """
    ranks = {name: rank for rank, name in enumerate(names)}
    old_ranks = {name: rank for rank, name in enumerate(meta.sources)}
    touched = set(loaded) | set(removed)
    pending: dict[str, list[Entry]] = {}
    stored: dict[str, str] = {}
    for name in touched:
        for docnum in searcher.docs_for_query(wq.Term("source", name.lower())):
            fields = searcher.stored_fields(docnum)
            if fields["id"] not in pending:
                pending[fields["id"]] = store.occurrences_from_blob(fields["blob"])
                stored[fields["id"]] = fields["blob"]
    for doc_id in list(pending):
        pending[doc_id] = [entry for entry in pending[doc_id] if entry.source not in touched]
    for name, document in loaded.items():
        for entry in document.entries:
            if entry.id not in pending:
                docnum = searcher.document_number(id=entry.id)
                blob = searcher.stored_fields(docnum)["blob"] if docnum is not None else "[]"
                pending[entry.id] = store.occurrences_from_blob(blob)
                stored[entry.id] = blob
            pending[entry.id].append(_with_source(entry, name))
    writer = ix.writer(timeout=WRITER_TIMEOUT, **WRITER_OPTIONS)
    try:
        for doc_id, occurrences in pending.items():
            if occurrences:
                occurrences.sort(key=lambda e: (ranks.get(e.source, len(ranks)), e.line))
                first = occurrences[0].source
                unchanged_order = ranks.get(first) == old_ranks.get(first)
                if unchanged_order and store.occurrences_blob(occurrences) == stored.get(doc_id):
                    continue
                writer.update_document(**store.build_document(doc_id, occurrences, _order(occurrences, ranks)))
            else:
                writer.delete_by_term("id", doc_id)
        commit_keeping_files(writer)  # readers elsewhere may still use the old segments
    except BaseException:
        writer.cancel()
        raise
    store.tidy_superseded(ix)
    sources = {name: meta.sources[name] for name in names if name in meta.sources}
    for name, document in loaded.items():
        sources[name] = _meta_entry(fingerprints[name], document)
    return store.Meta({name: sources[name] for name in names if name in sources})


def _build_procs(documents: int) -> int:
    """Two writer processes for big builds, but never fork from a worker thread."""
    if documents < PARALLEL_BUILD_MIN or (os.cpu_count() or 1) < 2:
        return 1
    return 2 if threading.current_thread() is threading.main_thread() else 1


def _with_source(entry: Entry, name: str) -> Entry:
    return entry if entry.source == name else replace(entry, source=name)


def _order(occurrences: Sequence[Entry], ranks: dict[str, int]) -> int:
    first = occurrences[0]
    return ranks.get(first.source, len(ranks)) * 10_000_000 + max(0, first.line)


def _meta_entry(fingerprint: str, document: ListDocument) -> dict[str, object]:
    sections: dict[tuple[str, ...], None] = dict.fromkeys(document.sections)
    for entry in document.entries:
        sections.setdefault(entry.section, None)
    return {
        "fingerprint": fingerprint,
        "entries": len({entry.id for entry in document.entries}),
        "sections": [list(path) for path in sections if path],
    }


def want_progress(progress: bool | None) -> bool:
    """An explicit choice, or a progress bar only when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else progress


def _progress(done: int, total: int, *, finished: bool = False) -> None:
    end = "\n" if finished else ""
    sys.stderr.write(f"\rindexing {done:,}/{total:,} entries{end}")
    sys.stderr.flush()
