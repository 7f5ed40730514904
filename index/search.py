"""The search index of all configured lists: building, updating, searching, browsing.

Flow: ``sync`` compares each source's fingerprint with the index meta and loads (parses)
only the lists that changed; a missing index, a new analyzer/schema version or
``rebuild=True`` means a full build into a fresh generation that is swapped in
atomically (see ``search_store``). ``search`` reads the query with ``search_query``
(never a syntax error), expands synonyms, asks Whoosh (BM25F over weighted fields) and
re-ranks with ``search_rank``. One searcher stays open and is refreshed after writes;
a lock keeps one writer, and one thread in Whoosh, at a time.
"""

from __future__ import annotations

import random as random_module
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from whoosh import query as wq
from whoosh import scoring
from whoosh.index import Index
from whoosh.searching import Searcher

from index import search_store as store
from index.model import Entry, ListDocument, normalise_url
from index.search_query import ParsedQuery, concept_query, parse_query
from index.search_rank import coordinate, correct_word
from index.search_synonyms import SynonymMap, load_synonyms
from index.search_topics import TopicNode, TopicTable

__all__ = ["Hit", "SearchIndex", "SearchResult", "SourceSnapshot", "SyncReport", "TopicNode"]

FIELDS: tuple[tuple[str, float], ...] = (
    ("title", 3.0),
    ("section", 2.0),
    ("tags", 1.5),
    ("description", 1.0),
    ("links", 0.5),
)
PHRASE_FIELDS = frozenset({"title", "section", "tags", "description"})
RERANK_WINDOW = 100
WRITER_TIMEOUT = 30.0


@dataclass(frozen=True)
class SourceSnapshot:
    """A configured list as the index sees it: a name, a cheap fingerprint, a parser."""

    name: str
    fingerprint: str
    load: Callable[[], ListDocument]


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

    @classmethod
    def open(cls, index_dir: Path, synonyms_path: Path | None = None) -> "SearchIndex":
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

    def _close_handles(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        if self._ix is not None:
            self._ix.close()
        self._ix = self._searcher = None
        self._generation = None
        self._meta = store.Meta()
        self._topics = None

    def close(self) -> None:
        with self._lock:
            self._close_handles()

    def __enter__(self) -> "SearchIndex":
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
                self._full_build(sources, _want_progress(progress))
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
        generation, building = store.new_generation(self.index_dir)
        try:
            documents = [(source, source.load()) for source in sources]
            ranks = {source.name: rank for rank, (source, _) in enumerate(documents)}
            grouped: dict[str, list[Entry]] = {}
            for source, document in documents:
                for entry in document.entries:
                    grouped.setdefault(entry.id, []).append(_with_source(entry, source.name))
            ix = store.create_index(building)
            writer = ix.writer(limitmb=256)
            try:
                for number, (doc_id, occurrences) in enumerate(grouped.items(), 1):
                    writer.add_document(**store.build_document(doc_id, occurrences, _order(occurrences, ranks)))
                    if progress and number % 2000 == 0:
                        _progress(number, len(grouped))
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            finally:
                ix.close()
            meta = store.Meta({s.name: _meta_entry(s.fingerprint, d) for s, d in documents})
            meta.save(building)
            if progress:
                _progress(len(grouped), len(grouped), finished=True)
        except BaseException:
            store.shutil.rmtree(building, ignore_errors=True)
            raise
        store.finish_generation(self.index_dir, generation, building)
        self._reopen()

    def _apply(
        self,
        loaded: dict[str, ListDocument],
        removed: Sequence[str],
        names: Sequence[str],
        fingerprints: dict[str, str],
    ) -> None:
        assert self._ix is not None and self._searcher is not None
        searcher = self._searcher
        ranks = {name: rank for rank, name in enumerate(names)}
        touched = set(loaded) | set(removed)
        pending: dict[str, list[Entry]] = {}
        for name in touched:
            for docnum in searcher.docs_for_query(wq.Term("source", name.lower())):
                fields = searcher.stored_fields(docnum)
                pending.setdefault(fields["id"], store.occurrences_from_blob(fields["blob"]))
        for doc_id in list(pending):
            pending[doc_id] = [entry for entry in pending[doc_id] if entry.source not in touched]
        for name, document in loaded.items():
            for entry in document.entries:
                if entry.id not in pending:
                    docnum = searcher.document_number(id=entry.id)
                    blob = searcher.stored_fields(docnum)["blob"] if docnum is not None else "[]"
                    pending[entry.id] = store.occurrences_from_blob(blob)
                pending[entry.id].append(_with_source(entry, name))
        writer = self._ix.writer(timeout=WRITER_TIMEOUT)
        try:
            for doc_id, occurrences in pending.items():
                if occurrences:
                    occurrences.sort(key=lambda e: (ranks.get(e.source, len(ranks)), e.line))
                    writer.update_document(**store.build_document(doc_id, occurrences, _order(occurrences, ranks)))
                else:
                    writer.delete_by_term("id", doc_id)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        sources = {name: self._meta.sources[name] for name in names if name in self._meta.sources}
        for name, document in loaded.items():
            sources[name] = _meta_entry(fingerprints[name], document)
        self._meta = store.Meta({name: sources[name] for name in names if name in sources})
        assert self._generation is not None
        self._meta.save(self.index_dir / self._generation)
        self._searcher = searcher.refresh()
        self._topics = None

    def _doc_count(self) -> int:
        return self._searcher.doc_count() if self._searcher is not None else 0

    # --- searching ------------------------------------------------------------------

    def search(self, query: str, *, page: int = 1, per_page: int = 5, source: str | None = None) -> SearchResult:
        """Ranked entries for what a person typed; any text is a valid query."""
        page, per_page = max(1, page), max(1, min(per_page, 100))
        with self._lock:
            searcher = self._searcher
            if searcher is None:
                return _empty(query, page, per_page)
            parsed = parse_query(query, self._synonyms)
            filter_query = self._filter_query(parsed, source)
            if filter_query is False:
                return _empty(query, page, per_page)
            if not parsed.concepts:
                if filter_query is None:
                    return _empty(query, page, per_page)
                return self._listing(query, filter_query, page, per_page, source)
            corrections = [c for c in (correct_word(searcher, concept) for concept in parsed.concepts) if c]
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
            return SearchResult(query, total, page, _pages(total, per_page), per_page, suggestion, fuzzy, hits)

    def _ranked(
        self, searcher: Searcher, parsed: ParsedQuery, filter_query: wq.Query | None, needed: int
    ) -> tuple[int, list[tuple[int, float]]]:
        queries = [concept_query(concept, FIELDS, PHRASE_FIELDS) for concept in parsed.concepts]
        if not queries:
            return 0, []
        combined = queries[0] if len(queries) == 1 else wq.Or(queries)
        window = max(RERANK_WINDOW, needed)
        results = searcher.search(combined, limit=window, filter=filter_query)
        scored = [(hit.docnum, hit.score) for hit in results]
        total = len(results)
        return total, coordinate(searcher, queries, scored)

    def _listing(
        self, query: str, filter_query: wq.Query, page: int, per_page: int, source: str | None
    ) -> SearchResult:
        assert self._searcher is not None
        results = self._searcher.search_page(filter_query, page, pagelen=per_page, sortedby="order")
        total = len(results)
        hits = tuple(self._hit(hit.docnum, 0.0, source) for hit in results)
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
            tag_terms = [token.term for token in _tokens(tag)]
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

    def _hit(self, docnum: int, score: float, source: str | None = None) -> Hit:
        assert self._searcher is not None
        occurrences = store.occurrences_from_blob(self._searcher.stored_fields(docnum)["blob"])
        sources = tuple(dict.fromkeys(entry.source for entry in occurrences))
        entry = occurrences[0]
        if source:
            entry = next((e for e in occurrences if e.source.lower() == source.lower()), entry)
        return Hit(entry, sources, round(float(score), 4))

    # --- browsing -------------------------------------------------------------------

    def _table(self) -> TopicTable:
        if self._topics is None:
            assert self._searcher is not None
            reader = self._searcher.reader()
            sections = [info.get("sections", []) for info in self._meta.sources.values()]
            self._topics = TopicTable(sections, lambda key: reader.doc_frequency("paths", key))
        return self._topics

    def topics(self) -> tuple[TopicNode, ...]:
        """The section tree of all lists merged by name, with entry counts."""
        with self._lock:
            return self._table().roots if self._searcher is not None else ()

    def match_topic(self, name: str) -> tuple[str, ...] | None:
        """The best section for a name: English or Chinese, numbering ignored, typos forgiven."""
        with self._lock:
            return self._table().match(name) if self._searcher is not None else None

    def complete_topics(self, prefix: str, limit: int = 25) -> list[tuple[str, tuple[str, ...]]]:
        with self._lock:
            return self._table().complete(prefix, limit) if self._searcher is not None else []

    def topic_entries(self, path: tuple[str, ...], *, page: int = 1, per_page: int = 5) -> SearchResult:
        """The entries of a section (and its subsections) in list order."""
        page, per_page = max(1, page), max(1, min(per_page, 100))
        label = " › ".join(path)
        with self._lock:
            if self._searcher is None or not path:
                return _empty(label, page, per_page)
            return self._listing(label, wq.Term("paths", store.path_key(path)), page, per_page, None)

    def random(self, topic: str | None = None, rng: random_module.Random | None = None) -> Hit | None:
        """One entry at random, from a section when ``topic`` names one (or a › path)."""
        chooser = rng or random_module.Random()
        with self._lock:
            searcher = self._searcher
            if searcher is None:
                return None
            if topic:
                path = self._topic_path(topic)
                if path is None:
                    return None
                docnums = sorted(searcher.docs_for_query(wq.Term("paths", store.path_key(path))))
            else:
                reader = searcher.reader()
                docnums = [n for n in range(reader.doc_count_all()) if not reader.is_deleted(n)]
            return self._hit(chooser.choice(docnums), 0.0) if docnums else None

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
            docnum = self._find(id_or_url)
            return self._hit(docnum, 0.0) if docnum is not None else None

    def _find(self, id_or_url: str) -> int | None:
        searcher = self._searcher
        ref = (id_or_url or "").strip()
        if searcher is None or not ref:
            return None
        docnum = searcher.document_number(id=ref.lower())
        if docnum is None and not re.fullmatch(r"[0-9a-f]{10}", ref.lower()):
            key = store._keyword(normalise_url(ref))
            if key:
                docnum = searcher.document_number(urls=key)
        return docnum

    def similar(self, id_or_url: str, limit: int = 5) -> list[Hit]:
        """Entries like the given one (Whoosh more-like-this on its title and text)."""
        with self._lock:
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
            return {name: int(info.get("entries", 0)) for name, info in self._meta.sources.items()}


def _weighting() -> scoring.WeightingModel:
    return scoring.BM25F(B=0.75, K1=1.2)


def _with_source(entry: Entry, name: str) -> Entry:
    if entry.source == name:
        return entry
    from dataclasses import replace

    return replace(entry, source=name)


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


def _tokens(text: str) -> tuple:  # type: ignore[type-arg]
    from index.analysis import query_tokens

    return query_tokens(text)


def _apply_corrections(query: str, corrections: Sequence) -> str:  # type: ignore[type-arg]
    text = query
    for correction in corrections:
        text = re.sub(rf"(?i)\b{re.escape(correction.word)}\b", correction.replacement, text)
    return text


def _pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def _empty(query: str, page: int, per_page: int) -> SearchResult:
    return SearchResult(query, 0, page, 1, per_page, None, False, ())


def _want_progress(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


def _progress(done: int, total: int, *, finished: bool = False) -> None:
    end = "\n" if finished else ""
    sys.stderr.write(f"\rindexing {done:,}/{total:,} entries{end}")
    sys.stderr.flush()
