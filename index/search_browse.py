"""Browsing the index: the topic tree, topic matching, a section's entries, a random pick,
an entry by its id or link, and the entries per list.

A mixin of ``SearchIndex`` (``index/search.py``), which holds the searcher, the lock and
the metadata these methods read; kept apart so that module stays about searching.
"""

from __future__ import annotations

import random as random_module
import re
import threading
from typing import TYPE_CHECKING

from whoosh import query as wq

from index import search_store as store
from index.model import entry_id, normalise_url
from index.search_results import Hit, SearchResult, empty_result
from index.search_topics import TopicNode, TopicTable, source_section_counts

if TYPE_CHECKING:
    from whoosh.searching import Searcher

__all__ = ["BrowseSearch"]


class BrowseSearch:
    """Section browsing over the state ``SearchIndex`` keeps (declared here for the type checker)."""

    _lock: threading.RLock
    _searcher: Searcher | None
    _meta: store.Meta
    _topics: TopicTable | None
    _source_topics: dict[str, tuple[TopicNode, ...]] | None

    def _check_fresh(self) -> None:
        raise NotImplementedError

    def _hit(self, docnum: int, score: float, source: str | None = None, topic_key: str | None = None) -> Hit:
        raise NotImplementedError

    def _listing(self, query: str, filter_query: wq.Query, page: int, per_page: int, source: str | None,
                 topic_key: str | None = None) -> SearchResult:
        raise NotImplementedError

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

    def topics(self) -> tuple[TopicNode, ...]:
        """The section tree of all lists merged by name, with entry counts."""
        with self._lock:
            self._check_fresh()
            return self._table().roots if self._searcher is not None else ()

    def source_topics(self) -> dict[str, tuple[TopicNode, ...]]:
        """Each list's own section tree, counting that list's entries only (the web page
        shows lists side by side; ``topics`` merges them). Built once per searcher."""
        with self._lock:
            self._check_fresh()
            searcher = self._searcher
            if searcher is None:
                return {}
            if self._source_topics is None:
                names = list(self._meta.sources)
                counts = source_section_counts(searcher, names)
                trees: dict[str, tuple[TopicNode, ...]] = {}
                for name, info in self._meta.sources.items():
                    table = TopicTable([info.get("sections", [])], counts[name].__getitem__, matching=False)
                    trees[name] = table.roots
                self._source_topics = trees
            return self._source_topics

    def match_topic(self, name: str) -> tuple[str, ...] | None:
        """The best section for a name: English or Chinese, numbering ignored, typos forgiven."""
        with self._lock:
            self._check_fresh()
            return self._table().match(name) if self._searcher is not None else None

    def complete_topics(self, prefix: str, limit: int = 25) -> list[tuple[str, tuple[str, ...]]]:
        with self._lock:
            self._check_fresh()
            return self._table().complete(prefix, limit) if self._searcher is not None else []

    def topic_entries(self, path: tuple[str, ...], *, page: int = 1, per_page: int = 5, source: str | None = None) -> SearchResult:
        """The entries of a section (and its subsections) in list order; of one list when ``source``
        names it (two lists may both have "Datasets")."""
        page, per_page = max(1, page), max(1, min(per_page, 100))
        label = " › ".join(path)
        with self._lock:
            self._check_fresh()
            if self._searcher is None or not path:
                return empty_result(label, page, per_page)
            key = store.path_key(path)
            wanted: wq.Query = wq.Term("paths", key)
            if source:
                wanted = wq.And([wanted, wq.Term("source", source.lower())])
            return self._listing(label, wanted, page, per_page, source, key)

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
        return int(docnum) if docnum is not None else None

    def source_counts(self) -> dict[str, int]:
        """Entries per configured source (as parsed, duplicates within a list counted once)."""
        with self._lock:
            self._check_fresh()
            return {name: int(info.get("entries", 0)) for name, info in self._meta.sources.items()}
