"""What ``SearchIndex`` does with vectors: hybrid ranking, ``similar``, keeping them ready.

A mixin so ``search.py`` stays about Whoosh: it calls ``_with_dense`` on each lexical
ranking and ``_similar_ranked`` for more-like-this; this module reads the index's
searcher only under its lock, and hands the ``SemanticLayer`` (``semantic_index``) the
two reads it needs to embed in the background.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from index import search_fusion
from index import search_store as store
from index.analysis import is_han
from index.search_fusion import fuse, similar_ranking, strip_filters
from index.search_query import ParsedQuery
from index.semantic import embedding_text
from index.semantic_index import SemanticLayer

if TYPE_CHECKING:
    from index.search_scorer import VectorScorer

__all__ = ["SemanticSearch"]

QUALITY_DOCS = 3
"""Lexical match quality is the best coverage among this many top keyword hits."""


class SemanticSearch:
    """Vectors beside Whoosh; see the module docstring."""

    _lock: threading.RLock
    _searcher: Searcher | None
    _semantic: SemanticLayer
    semantic_paused = False
    """Set to rank by keywords alone for a while (benchmarks compare both on one index)."""

    def _scorer_for(self, searcher: Searcher) -> VectorScorer:
        raise NotImplementedError

    # --- readiness ------------------------------------------------------------------

    @property
    def semantic_ready(self) -> bool:
        """Whether searches use vectors now (False: lexical only, or not embedded yet)."""
        with self._lock:
            searcher = self._searcher
            return searcher is not None and self._semantic.vectors_for(searcher, self) is not None

    @property
    def semantic_enabled(self) -> bool:
        """Whether a model is configured (it may still turn out to be unavailable)."""
        return self._semantic.enabled

    def start_semantic(self) -> None:
        """Embed what the cache lacks on a background thread, and keep following changes."""
        self._semantic.start(self)

    def embed(self, progress: bool = False) -> int:
        """Embed what the cache lacks now (``medbot index``); the number of texts embedded."""
        return self._semantic.update(self, progress)

    # --- what the layer reads -------------------------------------------------------

    def vector_keys(self) -> tuple[Any, np.ndarray] | None:
        """The open searcher and each document's text key (0: deleted)."""
        with self._lock:
            searcher = self._searcher
            if searcher is None:
                return None
            reader = searcher.reader()
            keys = np.fromiter(reader.column_reader("vkey"), dtype=np.int64, count=reader.doc_count_all())
            if reader.has_deletions():
                for docnum in range(len(keys)):
                    if reader.is_deleted(docnum):
                        keys[docnum] = 0
            return searcher, keys

    def embedding_texts(self, searcher: Any, docnums: Sequence[int]) -> list[str] | None:
        """The embedded text of each document, or None when the searcher was replaced."""
        with self._lock:
            current = self._searcher
            if current is None or searcher is not current:
                return None
            return [
                embedding_text(store.occurrences_from_blob(current.stored_fields(docnum)["blob"]))
                for docnum in docnums
            ]

    # --- ranking --------------------------------------------------------------------

    def _with_dense(
        self,
        searcher: Searcher,
        parsed: ParsedQuery,
        filter_query: wq.Query | None,
        text: str | None,
        lexical: tuple[int, list[tuple[int, float]]],
        needed: int,
    ) -> tuple[int, list[tuple[int, float]]]:
        """The lexical ranking fused with the dense one, when vectors are ready."""
        dense = None if self.semantic_paused else self._semantic.vectors_for(searcher, self)
        words = strip_filters(text or "")
        if dense is None or not words:
            return lexical
        scorer = self._scorer_for(searcher)
        total, ranked = lexical
        quality = self._match_quality(scorer, parsed, [doc for doc, _ in ranked[:QUALITY_DOCS]])
        han = sum(1 for char in words if is_han(char))
        han_share = han / max(1, sum(1 for char in words if not char.isspace()))
        multilingual = self._semantic.multilingual
        if not multilingual and han_share >= 0.999:
            return lexical  # the model cannot read it: its weight would be zero anyway
        if quality >= search_fusion.SKIP_QUALITY and len(ranked) >= needed:
            return lexical  # every rare word matched: the vectors would only reorder a little
        query_vector = self._semantic.embed_query(words)
        if query_vector is None:
            return lexical
        similarities = dense.similarities(query_vector)
        if filter_query is not None:
            similarities[~scorer.filter_mask(filter_query)] = -1.0
        fused = fuse(ranked, quality, similarities, han_share=han_share, multilingual=multilingual,
                     needed=needed, unreadable=None if multilingual else self._chinese_docs(searcher))
        lexical_docs = {doc for doc, _ in ranked}
        return total + sum(1 for doc, _ in fused if doc not in lexical_docs), fused

    def _warm_dense(self, searcher: Searcher) -> None:
        """Read the ``han`` column at start-up (~50 ms) rather than in a first question."""
        if self.semantic_enabled:
            self._chinese_docs(searcher)

    def _chinese_docs(self, searcher: Searcher) -> np.ndarray:
        """Which documents are written mostly in Chinese (the ``han`` column), per searcher."""
        cached = getattr(self, "_han_docs", None)
        if cached is None or cached[0] is not searcher:
            reader = searcher.reader()
            column = np.fromiter(reader.column_reader("han"), dtype=np.int8, count=reader.doc_count_all())
            cached = (searcher, column.astype(bool))
            self._han_docs: tuple[Searcher, np.ndarray] | None = cached
        return cached[1]

    @staticmethod
    def _match_quality(scorer: VectorScorer, parsed: ParsedQuery, docs: Sequence[int]) -> float:
        """The IDF-weighted share of the query's concepts the best of ``docs`` matches."""
        if not docs:
            return 0.0
        concepts = [c for c in parsed.concepts if not getattr(c, "soft", False)] or list(parsed.concepts)
        weights = np.zeros(len(concepts))
        matched = np.zeros((len(concepts), len(docs)), dtype=bool)
        chosen = np.asarray(docs, dtype=np.int64)
        for number, concept in enumerate(concepts):
            scores = scorer.concept_scores(concept)
            frequency = int(np.count_nonzero(scores))
            weights[number] = np.log1p(len(scores) / (1 + frequency))
            matched[number] = scores[chosen] > 0
        if weights.sum() <= 0:
            return 0.0
        return float((weights @ matched).max() / weights.sum())

    def _similar_ranked(self, searcher: Searcher, docnum: int, lexical: Sequence[tuple[int, float]],
                        limit: int) -> list[tuple[int, float]]:
        """Neighbours of ``docnum``: its vector's nearest, the lexical ones, its section first."""
        dense = self._semantic.vectors_for(searcher, self)
        similarities: np.ndarray | None = None
        if dense is not None and dense.present[docnum]:
            similarities = dense.similarities(dense.vector(docnum))
            similarities[docnum] = -1.0
        entry = store.occurrences_from_blob(searcher.stored_fields(docnum)["blob"])[0]
        reader = searcher.reader()
        same = np.zeros(reader.doc_count_all())
        depth = len(entry.section)
        for level in range(depth):
            key = store.path_key(entry.section[: level + 1])
            docs = np.fromiter(searcher.docs_for_query(wq.Term("paths", key)), dtype=np.int64)
            same[docs] = (level + 1) / depth
        same[docnum] = 0.0
        others = [(doc, score) for doc, score in lexical if doc != docnum]
        return similar_ranking(similarities, others, same, limit)
