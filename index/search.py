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

import random as random_module
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from whoosh import query as wq
from whoosh import scoring
from whoosh.index import Index
from whoosh.searching import Searcher

from index import search_store as store
from index.analysis import query_tokens, stem_word, words
from index.model import Entry, ListDocument, entry_id, normalise_url
from index.search_build import SourceSnapshot, apply_changes, build_generation, want_progress
from index.search_query import ParsedQuery, parse_query
from index.search_rank import Correction, Vocabulary, correct_word
from index.search_scorer import K1, B, VectorScorer
from index.search_synonyms import SynonymMap, load_synonyms
from index.search_topics import TopicNode, TopicTable

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
class Hit:
    entry: Entry
    sources: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class SearchResult:
    query: str
    total: int
    page: int
    pages: int
    per_page: int
    suggestion: str | None
    fuzzy: bool
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class SyncReport:
    added_sources: tuple[str, ...]
    updated_sources: tuple[str, ...]
    removed_sources: tuple[str, ...]
    unchanged_sources: tuple[str, ...]
    entries: int
    seconds: float
    rebuilt: bool


class SearchIndex:
    """The index in ``index_dir``; see the module docstring."""

    def __init__(self, index_dir: Path, synonyms_path: Path | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._synonyms_path = synonyms_path
        self._synonyms: SynonymMap = load_synonyms(synonyms_path)
        self._lock = threading.RLock()
        self._ix: Index | None = None
        self._searcher: Searcher | None = None
        self._generation: str | None = None
        self._meta = store.Meta()
        self._topics: TopicTable | None = None
        self._scorer: VectorScorer | None = None
        self._vocabulary: tuple[Searcher, Vocabulary] | None = None
        self._checked_at = time.monotonic()

    def set_synonyms(self, synonyms: SynonymMap) -> None:
        """Swap the query-time synonyms (a running bot reloading an edited file)."""
        self._synonyms = synonyms

    @classmethod
    def open(cls, index_dir: Path, synonyms_path: Path | None = None) -> SearchIndex:
        """Open the served generation if there is a current one (building waits for sync)."""
        index = cls(index_dir, synonyms_path)
        index._reopen()
        return index

    # --- lifecycle ------------------------------------------------------------------

    def _reopen(self) -> None:
        pointer = store.read_pointer(self.index_dir)
        self._close_handles()
        if pointer is None or not pointer.current:
            return
        self._ix = store.open_index(self.index_dir, pointer)
        self._generation = pointer.generation
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
        if pointer is not None and pointer.generation != self._generation:
            self._reopen()
        elif self._searcher is not None and not self._searcher.up_to_date():
            self._reopen()

    def _close_handles(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._ix is not None:
            self._ix.close()
        self._ix = self._searcher = None
        self._generation = None
        self._meta = store.Meta()
        self._topics = None
        self._scorer = None

    def close(self) -> None:
        with self._lock:
            self._close_handles()

    def __del__(self) -> None:
        # A safety net for callers that drop an index without close(): the segment
        # files are real open files (not in-memory copies) and would leak until exit.
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
                return SyncReport(
                    added, tuple(n for n in names if n in before), removed, (), self._doc_count(),
                    time.perf_counter() - started, True,
                )
            if changed or removed:
                loaded = {source.name: source.load() for source in changed}
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
        build_generation(self.index_dir, sources, progress)
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
                return _empty(query, page, per_page)
            parsed = parse_query(query, self._synonyms)
            filter_query = self._filter_query(parsed, source)
            source = source or (self._resolve_source(parsed.sources[0]) if parsed.sources else None)
            if filter_query is False:
                return _empty(query, page, per_page)
            if not parsed.concepts:
                if filter_query is None:
                    return _empty(query, page, per_page)
                return self._listing(query, filter_query, page, per_page, source)
            vocabulary = partial(self._vocabulary_for, searcher)
            corrections = [c for c in (correct_word(searcher, c, vocabulary) for c in parsed.concepts) if c]
            suggestion = _apply_corrections(query, corrections) if corrections else None
            fuzzy = any(not correction.known for correction in corrections)
            effective = parse_query(suggestion, self._synonyms) if fuzzy and suggestion else parsed
            total, ranked = self._ranked(searcher, effective, filter_query, page * per_page)
            if not fuzzy and suggestion and total < per_page:
                fuzzy_total, fuzzy_ranked = self._ranked(
                    searcher, parse_query(suggestion, self._synonyms), filter_query, page * per_page
                )
                if fuzzy_total > total:
                    total, ranked, fuzzy = fuzzy_total, fuzzy_ranked, True
            start = (page - 1) * per_page
            hits = tuple(self._hit(docnum, score, source) for docnum, score in ranked[start : start + per_page])
            if suggestion:
                suggestion = _readable_suggestion(query, corrections, self._sample_hits(ranked, hits))
            return SearchResult(query, total, page, _pages(total, per_page), per_page, suggestion, fuzzy, hits)

    def _sample_hits(self, ranked: Sequence[tuple[int, float]], hits: Sequence[Hit]) -> list[Hit]:
        return list(hits) if hits else [self._hit(docnum, score) for docnum, score in ranked[:5]]

    def _ranked(
        self, searcher: Searcher, parsed: ParsedQuery, filter_query: wq.Query | None, needed: int
    ) -> tuple[int, list[tuple[int, float]]]:
        return self._scorer_for(searcher).rank(
            parsed.concepts, filter_query, max(RERANK_WINDOW, needed), CONCEPT_BONUS
        )

    def _vocabulary_for(self, searcher: Searcher) -> Vocabulary:
        """The typo vocabulary of this searcher, built on the first word that needs it."""
        if self._vocabulary is None or self._vocabulary[0] is not searcher:
            self._vocabulary = (searcher, Vocabulary(searcher))
        return self._vocabulary[1]

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
        return SearchResult(query, total, min(page, max(1, results.pagecount)), _pages(total, per_page),
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
            entry = next((e for e in occurrences if _in_topic(e, topic_key)), entry)
        return Hit(entry, sources, round(float(score), 4))

    # --- browsing -------------------------------------------------------------------

    def _table(self) -> TopicTable:
        if self._topics is None:
            assert self._searcher is not None
            reader = self._searcher.reader()
            sections = [info.get("sections", []) for info in self._meta.sources.values()]
            # one scan of each segment's section keys beats a lookup per section
            counts: dict[str, int] = {}
            for leaf, _ in reader.leaf_readers():
                for term, info in leaf.iter_field("paths"):
                    key = term.decode("utf-8")
                    counts[key] = counts.get(key, 0) + info.doc_frequency()
            self._topics = TopicTable(sections, lambda key: counts.get(key, 0))
        return self._topics

    def warm(self) -> None:
        """Build what the first queries after opening would otherwise build on demand.

        The section table (topic matching, autocomplete), the typo vocabulary and the
        scorer's per-field lengths cost a few hundred milliseconds once; a long-running
        bot pays that at start-up instead of on a user's first question.
        """
        with self._lock:
            searcher = self._searcher
            if searcher is None:
                return
            self._table()
            self._vocabulary_for(searcher)
            self._scorer_for(searcher).warm()

    def topics(self) -> tuple[TopicNode, ...]:
        """The section tree of all lists merged by name, with entry counts."""
        with self._lock:
            self._check_fresh()
            return self._table().roots if self._searcher is not None else ()

    def match_topic(self, name: str) -> tuple[str, ...] | None:
        """The best section for a name: English or Chinese, numbering ignored, typos forgiven."""
        with self._lock:
            self._check_fresh()
            return self._table().match(name) if self._searcher is not None else None

    def complete_topics(self, prefix: str, limit: int = 25) -> list[tuple[str, tuple[str, ...]]]:
        with self._lock:
            self._check_fresh()
            return self._table().complete(prefix, limit) if self._searcher is not None else []

    def topic_entries(self, path: tuple[str, ...], *, page: int = 1, per_page: int = 5) -> SearchResult:
        """The entries of a section (and its subsections) in list order."""
        page, per_page = max(1, page), max(1, min(per_page, 100))
        label = " › ".join(path)
        with self._lock:
            self._check_fresh()
            if self._searcher is None or not path:
                return _empty(label, page, per_page)
            key = store.path_key(path)
            return self._listing(label, wq.Term("paths", key), page, per_page, None, key)

    def random(self, topic: str | None = None, rng: random_module.Random | None = None) -> Hit | None:
        """One entry at random, from a section when ``topic`` names one (or a › path)."""
        chooser = rng or random_module.Random()
        with self._lock:
            self._check_fresh()
            searcher = self._searcher
            if searcher is None:
                return None
            key = None
            if topic:
                path = self._topic_path(topic)
                if path is None:
                    return None
                key = store.path_key(path)
                docnums = sorted(searcher.docs_for_query(wq.Term("paths", key)))
            else:
                reader = searcher.reader()
                docnums = [n for n in range(reader.doc_count_all()) if not reader.is_deleted(n)]
            return self._hit(chooser.choice(docnums), 0.0, topic_key=key) if docnums else None

    def _topic_path(self, topic: str) -> tuple[str, ...] | None:
        assert self._searcher is not None
        if " › " in topic:
            path = tuple(part.strip() for part in topic.split(" › "))
            if self._searcher.reader().doc_frequency("paths", store.path_key(path)):
                return path
        return self._table().match(topic)

    def get(self, id_or_url: str) -> Hit | None:
        """An entry by its id or by any of its links (normalised)."""
        with self._lock:
            self._check_fresh()
            docnum = self._find(id_or_url)
            return self._hit(docnum, 0.0) if docnum is not None else None

    def _find(self, id_or_url: str) -> int | None:
        searcher = self._searcher
        ref = (id_or_url or "").strip()
        if searcher is None or not ref:
            return None
        docnum = searcher.document_number(id=ref.lower())
        if docnum is None and not re.fullmatch(r"[0-9a-f]{10}", ref.lower()):
            key = normalise_url(ref)
            if key:
                docnum = searcher.document_number(id=entry_id(key))
                if docnum is None:
                    docnum = searcher.document_number(urls=store.keyword(key))
        return docnum

    def similar(self, id_or_url: str, limit: int = 5) -> list[Hit]:
        """Entries like the given one (Whoosh more-like-this on its title and text)."""
        with self._lock:
            self._check_fresh()
            docnum = self._find(id_or_url)
            if docnum is None or self._searcher is None:
                return []
            entry = store.occurrences_from_blob(self._searcher.stored_fields(docnum)["blob"])[0]
            text = " ".join([entry.title, entry.title, entry.description, " ".join(entry.section)])
            results = self._searcher.more_like(docnum, "title", text=text, top=limit, numterms=10)
            return [self._hit(hit.docnum, hit.score) for hit in results]

    def source_counts(self) -> dict[str, int]:
        """Entries per configured source (as parsed, duplicates within a list counted once)."""
        with self._lock:
            self._check_fresh()
            return {name: int(info.get("entries", 0)) for name, info in self._meta.sources.items()}


def _weighting() -> scoring.WeightingModel:
    """Whoosh's own BM25F (``similar`` ranks with it) with the array scorer's parameters."""
    return scoring.BM25F(B=B, K1=K1)


def _apply_corrections(query: str, corrections: Sequence[Correction]) -> str:
    text = query
    for correction in corrections:
        text = re.sub(rf"(?i)\b{re.escape(correction.word)}\b", correction.replacement, text)
    return text


def _readable_suggestion(query: str, corrections: Sequence[Correction], hits: Sequence[Hit]) -> str:
    """The corrected query with each corrected stem shown as a word the entries use."""
    surface: dict[str, str] = {}
    for hit in hits:
        for word, _ in words(f"{hit.entry.title} {hit.entry.description} {' '.join(hit.entry.section)}"):
            surface.setdefault(stem_word(word), word)
    readable = [replace(c, replacement=surface.get(c.replacement, c.replacement)) for c in corrections]
    return _apply_corrections(query, readable)


def _in_topic(entry: Entry, topic_key: str) -> bool:
    return any(store.path_key(entry.section[: depth + 1]) == topic_key for depth in range(len(entry.section)))


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def _empty(query: str, page: int, per_page: int) -> SearchResult:
    return SearchResult(query, 0, page, 1, per_page, None, False, ())
