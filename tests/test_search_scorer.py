"""The array scorer gives the scores Whoosh's own query tree gives, only faster.

Ranking quality was tuned on Whoosh's BM25F; these stories check that the vectorised
scorer is the same ranking function per field: the same documents, the same scores, a
concept's best form counting (not the sum of its forms), deletions and filters honoured.
Where it departs from Whoosh on purpose (a term's other fields damped, coordination
weighted by IDF) the stories say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import query as wq

from index import search_scorer
from index.parser import parse
from index.search import FIELDS, PHRASE_FIELDS, SearchIndex, SourceSnapshot
from index.search_query import Concept, parse_query
from index.search_scorer import VectorScorer
from index.search_synonyms import load_synonyms

LIST = """# Awesome Graphs

## Graph Neural Networks
* Graph neural networks: a review of methods [`arxiv 2018`](https://arxiv.org/abs/1812.08434)
* Neural networks on graphs, with attention [`ICLR 2018`](https://github.com/PetarV-/GAT)
* A network of neural graph ideas [`blog 2020`](https://example.org/ideas)

## Imaging
* Lesion detection in chest CT with neural networks [`MICCAI 2019`](https://example.org/ct)
* Graph cuts for lesion segmentation [`TMI 2010`](https://example.org/cuts)
"""

MORE = """# More

## Tools
* Graph toolkit for networks [`2021`](https://example.org/toolkit)
"""


def _source(name: str, text: str, fingerprint: str = "v1") -> SourceSnapshot:
    return SourceSnapshot(name, fingerprint, lambda: parse(text, source=name))


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    built = SearchIndex.open(tmp_path / "index")
    built.sync([_source("graphs", LIST), _source("more", MORE)], progress=False)
    yield built
    built.close()


def _whoosh_scores(index: SearchIndex, q: wq.Query) -> dict[int, float]:
    searcher = index._searcher
    assert searcher is not None
    return {hit.docnum: hit.score for hit in searcher.search(q, limit=None, optimize=False)}


def _whoosh_form(terms: tuple[str, ...], weight: float, exact: bool) -> wq.Query:
    """One form of a concept as the Whoosh query the array scorer stands for."""
    if len(terms) == 1:
        return wq.Or([wq.Term(name, terms[0], boost=fw * weight) for name, fw in FIELDS])
    if exact:
        return wq.Or([wq.Phrase(name, list(terms), boost=fw * weight) for name, fw in FIELDS if name in PHRASE_FIELDS])
    # every word somewhere in the entry, each in its best field
    return wq.And([wq.Or([wq.Term(name, term, boost=fw * weight) for name, fw in FIELDS]) for term in terms])


def _vector_scores(index: SearchIndex, concept: Concept) -> dict[int, float]:
    assert index._searcher is not None
    scores = VectorScorer(index._searcher, FIELDS, PHRASE_FIELDS).concept_scores(concept)
    return {doc: float(scores[doc]) for doc in range(len(scores)) if scores[doc] > 0}


@pytest.mark.parametrize(
    "alternative",
    [
        (("graph",), 1.0, True),  # one word, many fields
        (("neural", "network"), 1.0, True),  # a phrase: only adjacent words match
        (("neural", "network"), 0.6, False),  # all of these words, anywhere
        (("lesion",), 0.4, True),
    ],
)
def test_each_form_of_a_concept_scores_exactly_as_whoosh_bm25f(
    index: SearchIndex, alternative: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_scorer, "OTHER_FIELDS", 1.0)  # Whoosh sums every field in full
    concept = Concept("x", (alternative,))  # type: ignore[arg-type]
    expected = _whoosh_scores(index, _whoosh_form(*alternative))  # type: ignore[misc]
    got = _vector_scores(index, concept)
    assert expected and got.keys() == expected.keys()
    for doc, score in expected.items():
        assert got[doc] == pytest.approx(score, rel=1e-6)


def test_a_concept_written_several_ways_counts_its_best_form_per_entry(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_scorer, "OTHER_FIELDS", 1.0)
    forms = ((("graph",), 1.0, True), (("lesion",), 0.9, True))
    single = [_whoosh_scores(index, _whoosh_form(*form)) for form in forms]
    got = _vector_scores(index, Concept("x", forms))
    assert got.keys() == single[0].keys() | single[1].keys()
    for doc, score in got.items():
        assert score == pytest.approx(max(found.get(doc, 0.0) for found in single), rel=1e-6)


def test_entries_removed_by_an_update_are_neither_ranked_nor_counted(index: SearchIndex) -> None:
    before = index.search("graph toolkit")
    assert before.hits[0].entry.title.startswith("Graph toolkit")
    index.sync([_source("graphs", LIST), _source("more", "# More\n", "v2")], progress=False)
    after = index.search("graph toolkit")
    assert all("toolkit" not in hit.entry.title for hit in after.hits)
    assert after.total == before.total - 1


def test_a_filter_keeps_only_its_entries_in_the_ranking_and_the_count(index: SearchIndex) -> None:
    result = index.search("graph year:2018")
    assert result.total == 2
    assert {hit.entry.year for hit in result.hits} == {2018}


def test_a_query_of_several_concepts_puts_entries_with_all_of_them_first(index: SearchIndex) -> None:
    synonyms = load_synonyms(None)
    parsed = parse_query("lesion graph", synonyms)
    assert len(parsed.concepts) == 2
    titles = [hit.entry.title for hit in index.search("lesion graph").hits]
    assert titles[0].startswith("Graph cuts for lesion")


def test_a_word_repeated_in_every_field_counts_its_best_field_in_full_and_the_rest_damped(index: SearchIndex) -> None:
    """A generic word in the title, the repository name and the description of a tool
    ("bubble-table") once outscored a rare word said once in a title."""
    summed = Concept("x", ((("graph",), 1.0, True),))
    got = _vector_scores(index, summed)
    per_field = {
        name: _whoosh_scores(index, wq.Term(name, "graph", boost=weight)) for name, weight in FIELDS
    }
    for doc, score in got.items():
        fields = [found[doc] for found in per_field.values() if doc in found]
        best = max(fields)
        assert score == pytest.approx(best + (sum(fields) - best) * search_scorer.OTHER_FIELDS, rel=1e-6)
    assert any(len([1 for found in per_field.values() if doc in found]) > 1 for doc in got), "the fixture repeats 'graph'"
