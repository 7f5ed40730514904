"""Search stays fast only while Whoosh's posting blocks and length column can be read
directly (index/whoosh_internals.py). If a Whoosh release changes them, this fails loudly
instead of letting search fall back, silently, to a per-document walk 100x slower."""

from __future__ import annotations

import numpy as np

from index.search import SearchIndex
from index.whoosh_internals import fast_paths, leaf_lengths, read_postings


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
