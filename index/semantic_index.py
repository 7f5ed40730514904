"""The dense side of search: one vector per indexed document, kept in step with Whoosh.

Each Whoosh document carries the key of its embedded text (column ``vkey``). Lining
the vectors up with the open searcher is an array lookup in the vector cache; only keys
the cache lacks are embedded, off the caller's thread: a background thread in a
long-running bot (search stays lexical until the vectors are ready, then switches), or
in the foreground with a progress bar for ``medbot index``. Whoosh is read only under
the index's lock, in chunks, so queries keep being answered while a big list embeds.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from index.semantic import Embedder, VectorCache, load_embedder

__all__ = ["DenseVectors", "DocumentSource", "SemanticLayer"]

log = logging.getLogger(__name__)

CHUNK = 512
"""Texts read (under the lock) and embedded per step; also how often progress shows."""
BULK_MIN = 2048
"""From this many texts, a foreground embedding uses every core (``Embedder.embed``)."""


@dataclass(frozen=True)
class DenseVectors:
    """One searcher's view of the vector cache: each document's row (-1 where missing).

    The cache's rows stay memory-mapped and are scored in place; an aligned copy would
    hold every vector twice while it is made (76 MB more for 50k entries).
    """

    searcher: Any
    matrix: np.ndarray
    rows: np.ndarray
    complete: bool

    @property
    def present(self) -> np.ndarray:
        found: np.ndarray = self.rows >= 0
        return found

    def vector(self, docnum: int) -> np.ndarray:
        row: np.ndarray = np.asarray(self.matrix[self.rows[docnum]], dtype=np.float32)
        return row

    def similarities(self, query: np.ndarray) -> np.ndarray:
        scores: np.ndarray = np.asarray(self.matrix @ query, dtype=np.float32)
        aligned: np.ndarray = np.where(self.rows >= 0, scores[np.maximum(self.rows, 0)], np.float32(-1.0))
        return aligned


class DocumentSource(Protocol):
    """What the layer needs from the index; each call takes the index's lock itself."""

    def vector_keys(self) -> tuple[Any, np.ndarray] | None: ...

    def embedding_texts(self, searcher: Any, docnums: Sequence[int]) -> list[str] | None: ...


class SemanticLayer:
    """The model, the vector cache and the vectors of the current searcher.

    One onnxruntime thread by default: a query embeds fastest that way on two shared
    cores (25 ms against 41-52 ms with two threads or onnxruntime's default, whose
    spinning workers also slow numpy's matrix product after them), and background
    embedding then leaves the other core to the questions being answered.
    """

    def __init__(self, spec: str | None, vectors_dir: Path, models_dir: Path, *, threads: int | None = 1) -> None:
        self.spec = spec
        self._vectors_dir = vectors_dir
        self._models_dir = models_dir
        self._threads = threads
        self._embedder: Embedder | None = None
        self._loaded = False
        self._load_lock = threading.Lock()
        self._work_lock = threading.Lock()
        self._dense: DenseVectors | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.spec) and str(self.spec).strip().lower() not in {"none", "off", "false", "0"}

    @property
    def multilingual(self) -> bool:
        """Whether the model reads Chinese (else Chinese queries rank by keywords alone)."""
        name = (self._embedder.name if self._embedder is not None else str(self.spec or "")).lower()
        return any(mark in name for mark in ("multilingual", "-zh", "bge-m3", "labse"))

    @property
    def embedder(self) -> Embedder | None:
        """The model, loaded on first use (None: lexical only)."""
        with self._load_lock:
            if not self._loaded and self.enabled:
                started = time.perf_counter()
                self._embedder = load_embedder(self.spec, self._models_dir, threads=self._threads)
                if self._embedder is not None:
                    log.info("semantic search: model %s loaded in %.1fs", self._embedder.name, time.perf_counter() - started)
            self._loaded = True
            return self._embedder

    def vectors_for(self, searcher: Any, source: DocumentSource) -> DenseVectors | None:
        """The vectors of ``searcher`` once the model is ready (else search stays lexical).

        After an index change the cached vectors are lined up with the new searcher at
        once (tens of milliseconds); entries never embedded stay lexical-only until the
        background thread has embedded them.
        """
        dense = self._dense
        if dense is not None and dense.searcher is searcher:
            return dense
        embedder = self._embedder
        if dense is None or embedder is None:
            return None
        current = source.vector_keys()
        if current is None or current[0] is not searcher:
            return None
        cache = VectorCache(self._vectors_dir / embedder.slug, embedder.dim)
        self._dense = _align(cache, searcher, current[1], embedder.dim)
        if not self._dense.complete:
            self._wake.set()
        return self._dense

    def embed_query(self, text: str) -> np.ndarray | None:
        embedder = self._embedder
        return embedder.embed_query(text) if embedder is not None and text.strip() else None

    def start(self, source: DocumentSource) -> None:
        """Embed (and follow index changes) on a background thread; returns at once."""
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(source,), name="medbot-embed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def _run(self, source: DocumentSource) -> None:
        while not self._stop.is_set():
            try:
                self.update(source, foreground=False)
            except Exception:  # noqa: BLE001 - a failed pass leaves search lexical; the next change retries
                log.exception("semantic search: embedding failed")
            if self.embedder is None:
                return
            self._wake.wait()
            self._wake.clear()

    def update(self, source: DocumentSource, progress: bool = False, foreground: bool = True) -> int:
        """Vectors for the current searcher, embedding what the cache lacks; texts embedded.

        In the foreground (``medbot index``, nothing else to answer) a big embedding
        uses every core; the background thread of a running bot keeps to one.
        """
        embedder = self.embedder
        if embedder is None:
            return 0
        with self._work_lock:
            embedded = 0
            while not self._stop.is_set():
                current = source.vector_keys()
                if current is None:
                    return embedded
                searcher, keys = current
                if self._dense is not None and self._dense.searcher is searcher and self._dense.complete:
                    return embedded
                cache = VectorCache(self._vectors_dir / embedder.slug, embedder.dim)
                rows = cache.find(keys)
                todo = np.flatnonzero((rows < 0) & (keys != 0))
                done = self._embed(source, searcher, keys, todo, cache, embedder, progress, foreground)
                if done is None:
                    continue  # the index changed under us: line up with the new searcher
                embedded += done
                dense = _align(cache, searcher, keys, embedder.dim)
                if self._dense is None:
                    _warm(embedder, dense)
                self._dense = dense
            return embedded

    def _embed(self, source: DocumentSource, searcher: Any, keys: np.ndarray, todo: np.ndarray,
               cache: VectorCache, embedder: Embedder, progress: bool, foreground: bool) -> int | None:
        unique: dict[int, int] = {}
        for docnum in todo:
            unique.setdefault(int(keys[docnum]), int(docnum))
        pending = list(unique.items())
        if not pending:
            return 0
        texts: list[str] = []
        for start in range(0, len(pending), CHUNK):  # a chunk at a time: queries wait at most that long
            chunk = source.embedding_texts(searcher, [docnum for _, docnum in pending[start : start + CHUNK]])
            if chunk is None:
                return None  # the index changed under us
            texts.extend(chunk)
        # A batch pads to its longest text: ordered by tokens across the whole pass (not
        # only within a chunk), the haystack's batches hold 1.002x its tokens, not 1.44x.
        lengths = embedder.token_counts(texts)
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        work = [(pending[at][0], texts[at]) for at in order]
        started = time.perf_counter()
        if progress:
            _progress(0, len(work), started)
        bulk = foreground and len(work) >= BULK_MIN
        try:
            return self._embed_chunks(work, cache, embedder, progress, bulk, started)
        finally:
            embedder.release_bulk()

    def _embed_chunks(self, work: list[tuple[int, str]], cache: VectorCache, embedder: Embedder,
                      progress: bool, bulk: bool, started: float) -> int | None:
        new_keys: list[int] = []
        new_vectors: list[np.ndarray] = []
        for start in range(0, len(work), CHUNK):
            if self._stop.is_set():
                if new_keys:  # what is done stays done
                    cache.add(new_keys, np.concatenate(new_vectors))
                return None
            chunk = work[start : start + CHUNK]
            new_vectors.append(embedder.embed([text for _, text in chunk], bulk=bulk, ordered=True))
            new_keys.extend(key for key, _ in chunk)
            if progress:
                _progress(start + len(chunk), len(work), started)
        # Never pruned here: vectors of edited-away texts are 1.5 KB each, and one cache
        # directory may serve several indexes of the same lists (a bot and a CLI test).
        cache.add(new_keys, np.concatenate(new_vectors))
        if progress:
            sys.stderr.write("\n")
        log.info("semantic search: embedded %d entries in %.1fs", len(work), time.perf_counter() - started)
        return len(work)

    @property
    def ready(self) -> bool:
        return self._dense is not None


def _align(cache: VectorCache, searcher: Any, keys: np.ndarray, dim: int) -> DenseVectors:
    rows = cache.find(keys)
    rows[keys == 0] = -1
    matrix = cache.vectors if len(cache) else np.zeros((0, dim), dtype=np.float32)
    return DenseVectors(searcher, matrix, rows, bool((rows[keys != 0] >= 0).all()))


def _warm(embedder: Embedder, dense: DenseVectors) -> None:
    """Pay the first query's one-off costs before search switches to vectors.

    onnxruntime's first run allocates its arenas (~100 ms), and the memory-mapped vectors
    are read from disk on the first product: a bot's first hybrid question would pay both.
    """
    counted = embedder.embedded
    dense.similarities(embedder.embed_query("warm up the sentence model"))
    embedder.embedded = counted  # not an entry: update() counts entries embedded


def _progress(done: int, total: int, started: float, write: Callable[[str], object] = sys.stderr.write) -> None:
    rate = done / max(time.perf_counter() - started, 1e-6)
    left = (total - done) / rate if done else 0.0
    write(f"\rembedding {done:,}/{total:,} entries ({rate:,.0f}/s, {left:,.0f}s left)")
    sys.stderr.flush()
