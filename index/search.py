"""The search index of all configured lists: building, updating, searching, browsing.

Flow: ``sync`` compares each source's fingerprint with the index meta and loads (parses)
only the lists that changed; a missing index, a new analyzer/schema version or
``rebuild=True`` means a full build into a fresh generation that is swapped in
atomically (see ``search_store``). ``search`` reads the query with ``search_query``
(never a syntax error), expands synonyms, scores every match with ``search_scorer``
(Whoosh's BM25F over weighted fields, computed as arrays) and corrects typos with
``search_rank``. One searcher stays open and is replaced after writes; a lock keeps one
writer, and one thread in Whoosh, at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from whoosh import query as wq
from whoosh import scoring
from whoosh.index import Index
from whoosh.searching import Searcher

from index import chinese
from index import search_store as store
from index.analysis import query_tokens
from index.model import ListDocument
from index.parse_cache import ParseCache
from index.search_browse import BrowseSearch
from index.search_build import SourceSnapshot, apply_changes, build_generation, load_all, want_progress
from index.search_ids import identifier_docnums
from index.search_intents import KindCache, prefer
from index.search_query import ParsedQuery, parse_query
from index.search_rank import IndexLexicon, Vocabulary
from index.search_results import Hit, SearchResult, empty_result, page_count
from index.search_scorer import K1, B, VectorScorer
from index.search_semantic import SemanticSearch
from index.search_synonyms import SynonymMap, load_synonyms
from index.search_topics import TopicNode, TopicTable
from index.semantic_index import SemanticLayer
from index.spelling import Correction, readable_suggestion, understand

__all__ = ["Hit", "SearchIndex", "SearchResult", "SourceSnapshot", "SyncReport", "TopicNode"]

FRESHNESS_SECONDS = 2.0
"""How often a long-running index looks for commits made by another process."""

FIELDS: tuple[tuple[str, float], ...] = (
    ("title", 3.0),
    ("section", 2.0),
    ("tags", 1.5),
    ("description", 1.0),
    ("links", 0.5),
)
PHRASE_FIELDS = frozenset({"title", "section", "tags", "description"})
RERANK_WINDOW = 100
CONCEPT_BONUS = 5.0


@dataclass(frozen=True)
class SyncReport:
    added_sources: tuple[str, ...]
    updated_sources: tuple[str, ...]
    removed_sources: tuple[str, ...]
    unchanged_sources: tuple[str, ...]
    entries: int
    seconds: float
    rebuilt: bool


class SearchIndex(BrowseSearch, SemanticSearch):
    """The index in ``index_dir``; see the module docstring.

    ``model`` (a model directory, a fastembed model name, or None/"none") adds dense
    retrieval beside Whoosh; vectors are cached in ``index_dir/vectors``.
    """

    def __init__(self, index_dir: Path, synonyms_path: Path | None = None, model: str | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._semantic = SemanticLayer(model, self.index_dir / "vectors", self.index_dir / "models")
        self._parsed = ParseCache(self.index_dir / "parsed")
        self._synonyms_path = synonyms_path
        self._synonyms: SynonymMap = load_synonyms(synonyms_path)
        self._lock = threading.RLock()
        self._ix: Index | None = None
        self._searcher: Searcher | None = None
        self._generation: str | None = None
        self._meta = store.Meta()
        self._topics: TopicTable | None = None
        self._source_topics: dict[str, tuple[TopicNode, ...]] | None = None
        self._scorer: VectorScorer | None = None
        self._vocabulary: tuple[Searcher, Vocabulary] | None = None
        self._kinds: tuple[Searcher, KindCache] | None = None
        self._checked_at = time.monotonic()

    def set_synonyms(self, synonyms: SynonymMap) -> None:
        """Swap the query-time synonyms (a running bot reloading an edited file)."""
        self._synonyms = synonyms

    @classmethod
    def open(cls, index_dir: Path, synonyms_path: Path | None = None, model: str | None = None) -> SearchIndex:
        """Open the served generation if there is a current one (building waits for sync)."""
        index = cls(index_dir, synonyms_path, model)
        index._reopen()
        return index

    # --- lifecycle ------------------------------------------------------------------

    def _reopen(self) -> None:
        retired = self._generation
        self._close_handles()
        if (opened := store.open_current(self.index_dir)) is None:
            return
        self._ix, pointer = opened  # leased: no rebuild elsewhere removes it while open
        self._generation = pointer.generation
        if retired not in (None, pointer.generation):  # we may have been its last reader
            store.remove_stale(self.index_dir, keep=pointer.generation)
        self._meta = store.Meta.load(self.index_dir / pointer.generation)
        self._searcher = self._ix.searcher(weighting=_weighting())

    def _check_fresh(self) -> None:
        """Reopen when another process changed the index (a cron ``medbot watch`` beside
        ``medbot serve``): a new generation, or a commit to this one. Checked at most
        every ``FRESHNESS_SECONDS``, so queries pay for it only once in a while."""
        now = time.monotonic()
        if now - self._checked_at < FRESHNESS_SECONDS:
            return
        self._checked_at = now
        pointer = store.read_pointer(self.index_dir)
        moved = pointer is not None and pointer.generation != self._generation
        if moved or (self._searcher is not None and not self._searcher.up_to_date()):
            self._reopen()

    def _close_handles(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._ix is not None:
            self._ix.close()
        self._ix = self._searcher = None
        self._generation = None
        self._meta = store.Meta()
        self._topics = self._source_topics = None
        self._scorer = None

    def close(self) -> None:
        self._semantic.stop()
        with self._lock:
            self._close_handles()

    def __del__(self) -> None:
        # A safety net for callers that drop an index without close(): open segment files and the lease.
        try:
            self._close_handles()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- building -------------------------------------------------------------------

    def sync(
        self, sources: Sequence[SourceSnapshot], *, progress: bool | None = None, rebuild: bool = False
    ) -> SyncReport:
        """Bring the index in line with ``sources``, loading only lists that changed."""
        started = time.perf_counter()
        with self._lock:
            pointer = store.read_pointer(self.index_dir)
            if pointer is not None and pointer.generation != self._generation:
                self._reopen()  # another process swapped generations
            before = {name: info.get("fingerprint") for name, info in self._meta.sources.items()}
            names = [source.name for source in sources]
            added = tuple(name for name in names if name not in before)
            removed = tuple(name for name in before if name not in names)
            changed = [s for s in sources if s.name not in before or before[s.name] != s.fingerprint]
            changed_names = {s.name for s in changed}
            updated = tuple(s.name for s in changed if s.name in before)
            unchanged = tuple(s.name for s in sources if s.name not in changed_names)
            if rebuild or self._ix is None:
                self._full_build(sources, want_progress(progress))
                kept = tuple(n for n in names if n in before)
                return SyncReport(added, kept, removed, (), self._doc_count(), time.perf_counter() - started, True)
            if changed or removed:
                loaded = dict(zip((s.name for s in changed), load_all(changed, self._parsed, every_source=False), strict=True))
                self._apply(loaded, removed, names, {s.name: s.fingerprint for s in changed})
            return SyncReport(
                added, updated, removed, unchanged, self._doc_count(), time.perf_counter() - started, False
            )

    def update_source(self, name: str, fingerprint: str, document: ListDocument) -> None:
        """Re-index one list the watcher has just fetched (one writer commit)."""
        with self._lock:
            if self._ix is None:
                self._full_build([SourceSnapshot(name, fingerprint, lambda: document)], False)
                return
            names = list(self._meta.sources) + ([name] if name not in self._meta.sources else [])
            self._apply({name: document}, (), names, {name: fingerprint})

    def _full_build(self, sources: Sequence[SourceSnapshot], progress: bool) -> None:
        build_generation(self.index_dir, sources, progress, self._parsed)
        self._reopen()

    def _apply(
        self,
        loaded: dict[str, ListDocument],
        removed: Sequence[str],
        names: Sequence[str],
        fingerprints: dict[str, str],
    ) -> None:
        assert self._ix is not None and self._searcher is not None and self._generation is not None
        searcher = self._searcher
        self._meta = apply_changes(self._ix, searcher, self._meta, loaded, removed, names, fingerprints)
        self._meta.save(self.index_dir / self._generation)
        # Not searcher.refresh(): it reuses segment readers and so misses new deletions.
        self._searcher = self._ix.searcher(weighting=_weighting())
        searcher.close()
        self._topics = None
        self._source_topics = None
        self._scorer = None

    def _doc_count(self) -> int:
        return self._searcher.doc_count() if self._searcher is not None else 0

    # --- searching ------------------------------------------------------------------

    def search(self, query: str, *, page: int = 1, per_page: int = 5, source: str | None = None) -> SearchResult:
        """Ranked entries for what a person typed; any text is a valid query."""
        page, per_page = max(1, page), max(1, min(per_page, 100))
        with self._lock:
            self._check_fresh()
            searcher = self._searcher
            if searcher is None:
                return empty_result(query, page, per_page)
            by_identifier = identifier_docnums(searcher, query)  # a pasted arXiv id, DOI, PMID, repo
            if by_identifier:
                found = tuple(self._hit(docnum, 1.0, source) for docnum in by_identifier)
                return SearchResult(query, len(found), 1, 1, per_page, None, False, found[:per_page])
            parsed = parse_query(query, self._synonyms, chinese.glossary)
            filter_query = self._filter_query(parsed, source)
            source = source or (self._resolve_source(parsed.sources[0]) if parsed.sources else None)
            if filter_query is False:
                return empty_result(query, page, per_page)
            if not parsed.concepts:
                if filter_query is None:
                    return empty_result(query, page, per_page)
                return self._listing(query, filter_query, page, per_page, source)
            parsed, corrections = understand(parsed, IndexLexicon(searcher, self._vocabulary_for(searcher)))
            total, ranked = self._ranked(searcher, parsed, filter_query, page * per_page, query)
            if not total and filter_query is not None:  # the filters say more than the words
                return replace(self._listing(query, filter_query, page, per_page, source), relaxed=True)
            if parsed.intents:
                ranked = prefer(ranked, parsed.intents, self._kinds_for(searcher))
            start = (page - 1) * per_page
            hits = tuple(self._hit(docnum, score, source) for docnum, score in ranked[start : start + per_page])
            helped = self._helpful(searcher, corrections, [docnum for docnum, _ in ranked[start : start + per_page]])
            suggestion = readable_suggestion(query, helped, self._sample_hits(ranked, hits)) if helped else None
            return SearchResult(
                query, total, page, page_count(total, per_page), per_page, suggestion, bool(helped), hits
            )

    def _helpful(self, searcher: Searcher, corrections: Sequence[Correction], docnums: Sequence[int]) -> list[Correction]:
        """The corrections that found the first shown entry: only those earn a "did you mean"."""
        scorer = self._scorer_for(searcher)
        first = list(docnums[:1])
        return [c for c in corrections if any(scorer.form_scores(((c.replacement,), 1.0, True))[first] > 0)]

    def _sample_hits(self, ranked: Sequence[tuple[int, float]], hits: Sequence[Hit]) -> list[Hit]:
        return list(hits) if hits else [self._hit(docnum, score) for docnum, score in ranked[:5]]

    def _ranked(
        self, searcher: Searcher, parsed: ParsedQuery, filter_query: wq.Query | None, needed: int,
        text: str | None = None,
    ) -> tuple[int, list[tuple[int, float]]]:
        lexical = self._scorer_for(searcher).rank(
            parsed.concepts, filter_query, max(RERANK_WINDOW, needed), CONCEPT_BONUS
        )
        return self._with_dense(searcher, parsed, filter_query, text, lexical, needed)

    def _vocabulary_for(self, searcher: Searcher) -> Vocabulary:
        """The typo vocabulary of this searcher, built on the first word that needs it."""
        if self._vocabulary is None or self._vocabulary[0] is not searcher:
            self._vocabulary = (searcher, Vocabulary(searcher))
        return self._vocabulary[1]

    def _kinds_for(self, searcher: Searcher) -> KindCache:
        """What kind of resource each document is (code, data, ...), remembered per searcher."""
        if self._kinds is None or self._kinds[0] is not searcher:
            load = lambda docnum: store.occurrences_from_blob(searcher.stored_fields(docnum)["blob"])  # noqa: E731
            self._kinds = (searcher, KindCache(load))
        return self._kinds[1]

    def _scorer_for(self, searcher: Searcher) -> VectorScorer:
        if self._scorer is None or self._scorer.searcher is not searcher:
            self._scorer = VectorScorer(searcher, FIELDS, PHRASE_FIELDS)
        return self._scorer

    def _listing(
        self,
        query: str,
        filter_query: wq.Query,
        page: int,
        per_page: int,
        source: str | None,
        topic_key: str | None = None,
    ) -> SearchResult:
        assert self._searcher is not None
        results = self._searcher.search_page(filter_query, page, pagelen=per_page, sortedby="order")
        total = len(results)
        hits = tuple(self._hit(hit.docnum, 0.0, source, topic_key) for hit in results)
        return SearchResult(query, total, min(page, max(1, results.pagecount)), page_count(total, per_page),
                            per_page, None, False, hits)

    def _filter_query(self, parsed: ParsedQuery, source: str | None) -> wq.Query | None | bool:
        """The filters as one query; None when there are none, False when nothing can match."""
        parts: list[wq.Query] = []
        source_names = ([source] if source else []) + list(parsed.sources)
        for name in source_names:
            resolved = self._resolve_source(name)
            if resolved is None:
                return False
            parts.append(wq.Term("source", resolved.lower()))
        for topic in parsed.topics:
            path = self.match_topic(topic)
            if path is None:
                return False
            parts.append(wq.Term("paths", store.path_key(path)))
        for years in parsed.years:
            parts.append(wq.NumericRange("year", years.low, years.high))
        for tag in parsed.tags:
            tag_terms = [token.term for token in query_tokens(tag)]
            if not tag_terms:
                continue
            parts.append(wq.Term("tags", tag_terms[0]) if len(tag_terms) == 1 else wq.Phrase("tags", tag_terms))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _resolve_source(self, name: str) -> str | None:
        wanted = name.strip().lower()
        names = list(self._meta.sources)
        for known in names:
            if known.lower() == wanted:
                return known
        partial = [known for known in names if wanted and wanted in known.lower()]
        return partial[0] if len(partial) == 1 else None

    def _hit(self, docnum: int, score: float, source: str | None = None, topic_key: str | None = None) -> Hit:
        """A document as a hit; the shown occurrence is the one in ``source``/the topic."""
        assert self._searcher is not None
        occurrences = store.occurrences_from_blob(self._searcher.stored_fields(docnum)["blob"])
        sources = tuple(dict.fromkeys(entry.source for entry in occurrences))
        entry = occurrences[0]
        if source:
            entry = next((e for e in occurrences if e.source.lower() == source.lower()), entry)
        if topic_key:
            entry = next((e for e in occurrences if store.in_topic(e, topic_key)), entry)
        return Hit(entry, sources, round(float(score), 4))

    def warm(self) -> None:
        """Build what the first queries after opening would otherwise build on demand.

        The section table (topic matching, autocomplete), the typo vocabulary, the scorer's
        field lengths and the Chinese glossary cost a few hundred milliseconds once; a
        long-running bot pays that at start-up instead of on a user's first question.
        """
        with self._lock:
            searcher = self._searcher
            if searcher is None:
                return
            self._table()
            self._vocabulary_for(searcher)
            self._scorer_for(searcher).warm()
            self._warm_dense(searcher)
            chinese.warm()
        self.start_semantic()  # vectors load or embed in the background; search is lexical until then

    def similar(self, id_or_url: str, limit: int = 5) -> list[Hit]:
        """Entries like the given one: nearest vectors, more-like-this, its own section first."""
        with self._lock:
            self._check_fresh()
            docnum = self._find(id_or_url)
            searcher = self._searcher
            if docnum is None or searcher is None:
                return []
            entry = store.occurrences_from_blob(searcher.stored_fields(docnum)["blob"])[0]
            text = " ".join([entry.title, entry.title, entry.description, " ".join(entry.section)])
            results = searcher.more_like(docnum, "title", text=text, top=max(30, limit), numterms=10)
            lexical = [(hit.docnum, float(hit.score)) for hit in results]
            return [self._hit(doc, score) for doc, score in self._similar_ranked(searcher, docnum, lexical, limit)]

def _weighting() -> scoring.WeightingModel:
    """Whoosh's own BM25F (``similar`` ranks with it) with the array scorer's parameters."""
    return scoring.BM25F(B=B, K1=K1)


