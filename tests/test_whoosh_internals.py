"""Search stays fast only while Whoosh's posting blocks and length column can be read
directly (index/whoosh_internals.py). If a Whoosh release changes them, this fails loudly
instead of letting search fall back, silently, to a per-document walk 100x slower."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from whoosh import query as wq

from index import search_store
from index.analysis import query_tokens
from index.parser import parse_file
from index.search import SearchIndex, SourceSnapshot
from index.search_build import WRITER_OPTIONS
from index.search_scorer import VectorScorer
from index.whoosh_internals import fast_paths, leaf_lengths, read_postings

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_fast_paths_work_with_the_installed_whoosh_and_agree_with_its_public_api(seed_index: SearchIndex) -> None:
    searcher = seed_index._searcher  # the fixture's open searcher (test code may look inside)
    assert searcher is not None
    leaf, _ = next(iter(searcher.reader().leaf_readers()))
    term = next(term for term, _ in leaf.iter_field("title"))
    assert fast_paths(leaf, "title", term) == {"postings": True, "lengths": True}
    ids, weights = read_postings(leaf.postings("title", term))
    walked = leaf.postings("title", term)
    public: list[tuple[int, float]] = []
    while walked.is_active():
        public.append((walked.id(), walked.weight()))
        walked.next()
    assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == public
    lengths = leaf_lengths(leaf, "title")
    expected = [leaf.doc_field_length(d, "title", 0) or 0 for d in range(leaf.doc_count_all())]
    assert np.allclose(lengths, expected)


def test_phrases_found_from_positions_are_exactly_whooshs_phrase_matches(tmp_path: Path) -> None:
    """Two- and three-word runs of the seed entries' texts, 150 in each phrase field, in an
    index with two segments and deleted documents (entries re-indexed after the build)."""
    lists = sorted((REPO_ROOT / "data" / "lists").glob("*.md"))
    index = SearchIndex.open(tmp_path / "index")
    index.sync([SourceSnapshot(p.stem, "v1", lambda p=p: parse_file(p)) for p in lists], progress=False)
    assert index._ix is not None and index._searcher is not None
    writer = index._ix.writer(**WRITER_OPTIONS)
    for docnum in range(3, index._searcher.doc_count_all(), 11):  # rewritten into a second segment, so deleted in the first
        fields = index._searcher.stored_fields(docnum)
        writer.update_document(**search_store.build_document(fields["id"], search_store.occurrences_from_blob(fields["blob"]), docnum))
    writer.commit(merge=False)
    index._reopen()
    searcher = index._searcher
    assert searcher is not None and searcher.reader().has_deletions() and len(list(searcher.reader().leaf_readers())) > 1
    scorer = VectorScorer(searcher, [("title", 1.0)], frozenset({"title"}))
    phrases: set[tuple[str, ...]] = set()
    for docnum in range(0, searcher.doc_count_all(), 7):
        if searcher.reader().is_deleted(docnum):
            continue
        entry = search_store.occurrences_from_blob(searcher.stored_fields(docnum)["blob"])[0]
        words = [token.term for token in query_tokens(" ".join((entry.title, *entry.section, entry.description[:200])))]
        phrases.update(tuple(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1))
    checked = 0
    for field in ("title", "section", "description", "tags"):
        for terms in random.Random(7).sample(sorted(phrases), 150):
            matcher = wq.Phrase(field, list(terms)).matcher(searcher)
            expected = sorted(matcher.all_ids()) if matcher.is_active() else []
            assert scorer._phrase_docs(field, terms).tolist() == expected, (field, terms)
            checked += bool(expected)
    assert checked > 100  # many runs are phrases of some field
    index.close()
