"""The only place medbot reads Whoosh-Reloaded's private structures, and why.

The array scorer (``search_scorer.py``) needs every posting of a term and every
document's field length as numpy arrays. Whoosh's public API gives them one call per
document; reading the W3 codec's posting blocks and length column directly is what took
query p99 from ~600 ms to a few ms on the 50k-entry haystack (BENCHMARKS.md). So:

- ``read_positions`` decodes a term's positions in given documents only, so phrases are
  checked without Whoosh's span matchers (a first "single cell" phrase cost 40 ms);
- ``read_postings`` and ``leaf_lengths`` take the fast path when the structures are
  there, and fall back to the public API otherwise (correct, only slow);
- ``fast_paths()`` says whether the fast paths work with the installed Whoosh, and
  ``tests/test_whoosh_internals.py`` fails loudly when they stop working, so a Whoosh
  upgrade can never make search silently slow. Whoosh-Reloaded is pinned ``<2.8``.

``commit_keeping_files`` replaces a writer's TOC step so a commit does not delete the
segment files it supersedes: other processes may still be reading them (see
``generation_lease.py``); ``remove_superseded_files`` deletes them once nobody does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh.index import TOC, clean_files
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

__all__ = [
    "commit_keeping_files",
    "fast_paths",
    "leaf_lengths",
    "read_positions",
    "read_postings",
    "remove_superseded_files",
]

_LENGTHS = np.array([byte_to_length(i) or 0 for i in range(256)], dtype=np.float64)
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
_BLOCK_API = ("_read_ids", "_read_weights", "_next_block", "_atend")


def fast_paths(leaf: Any, field: str, term: bytes) -> dict[str, bool]:
    """Whether the block reader and the length column are usable on this segment."""
    matcher = leaf.postings(field, term)
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    return {
        "postings": all(hasattr(matcher, name) for name in _BLOCK_API),
        "lengths": _raw_length_bytes(leaf, field, leaf.doc_count_all()) is not None,
    }


def read_postings(matcher: Any) -> tuple[np.ndarray, np.ndarray]:
    """All (docnum, weight) of one segment's posting list, a block at a time.

    Deleted documents are kept (the caller masks them), so we unwrap Whoosh's
    deletion filter and read the raw W3 blocks; any other matcher is walked.
    """
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    ids: list[Any] = []
    weights: list[Any] = []
    if all(hasattr(matcher, name) for name in _BLOCK_API):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int64))
            weights.append(np.asarray(matcher._weights, dtype=np.float64))
            matcher._next_block()
        if not ids:
            return _EMPTY
        return np.concatenate(ids), np.concatenate(weights)
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)


def read_positions(matcher: Any, wanted: np.ndarray) -> dict[int, list[int]]:
    """The positions of one segment's term in the documents ``wanted`` (sorted docnums).

    Phrases are checked on the documents that hold every word (found from the posting
    arrays), so only those documents' position lists are decoded: a block without any
    of them is skipped. Whoosh's own phrase matcher walks every shared document through
    three levels of span matchers, ~60 µs each (a first "single cell" was 40 ms).
    """
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    found: dict[int, list[int]] = {}
    if not len(wanted):
        return found
    if all(hasattr(matcher, name) for name in (*_BLOCK_API, "_read_values", "format")):
        decode = matcher.format.decode_positions
        while matcher.is_active():
            matcher._read_ids()
            ids = np.asarray(matcher._ids, dtype=np.int64)
            hits = np.flatnonzero(np.isin(ids, wanted, assume_unique=True))
            if len(hits):
                matcher._read_values()
                values = matcher._values
                for at in hits.tolist():
                    found[int(ids[at])] = decode(values[at])
            matcher._next_block()
        return found
    keep = set(wanted.tolist())
    while matcher.is_active():
        if matcher.id() in keep:
            found[matcher.id()] = list(matcher.value_as("positions"))
        matcher.next()
    return found


def leaf_lengths(leaf: Any, field: str) -> np.ndarray:
    """A segment's field lengths for every document, decoded like Whoosh's length bytes."""
    count = leaf.doc_count_all()
    raw = _raw_length_bytes(leaf, field, count)
    if raw is None:  # not the W3 codec: ask document by document
        return np.asarray([leaf.doc_field_length(d, field, 0) or 0 for d in range(count)], dtype=np.float64)
    lengths: np.ndarray = _LENGTHS[raw]
    return lengths


def _raw_length_bytes(leaf: Any, field: str, count: int) -> np.ndarray | None:
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        column = leaf._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        if column is None:
            return np.zeros(count, dtype=np.uint8)
        data = column._dbfile.get(column._basepos, column._count)
    except (AttributeError, ImportError, TypeError):
        return None
    raw = np.zeros(count, dtype=np.uint8)
    values = np.frombuffer(bytes(data), dtype=np.uint8)[:count]
    raw[: len(values)] = values
    return raw


def commit_keeping_files(writer: Any) -> None:
    """``writer.commit()`` without Whoosh's clean-up of superseded segment files."""

    def write_toc(segments: Any) -> None:
        TOC(writer.schema, segments, writer.generation).write(writer.storage, writer.indexname)

    writer._commit_toc = write_toc
    writer.commit()


def remove_superseded_files(ix: Any) -> None:
    """Delete the files no longer named by the index's latest TOC (what commit skipped)."""
    toc = ix._read_toc()
    clean_files(ix.storage, ix.indexname, toc.generation, toc.segments)
