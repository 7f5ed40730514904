"""The search index as a lab member and the bot's core meet it: real Whoosh, real files."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from index import search_store
from index.model import ListDocument
from index.parser import parse
from index.search import SearchIndex, SourceSnapshot

IMAGING = """# Awesome Imaging

## Lesion Detection
* DeepLesion: automated mining of large-scale lesion annotations [`arxiv 2018`](https://arxiv.org/abs/1710.01766) [`code`](https://github.com/rsna/deeplesion)
* Universal Lesion Detection with 3D context [`MICCAI 2018`](https://arxiv.org/abs/1806.09648)
* Lung nodule screening in chest CT [`MICCAI 2019`](https://example.org/nodules)

## Graph Reasoning
* Graph Neural Networks: A Review of Methods and Applications [`arxiv 2018`](https://arxiv.org/abs/1812.08434)
* Detection of objects in lesion-free scenes, a survey of detectors [`CVPR 2017`](https://example.org/objects)

## Datasets
* ChestX-ray14 radiographs [`CVPR 2017`](https://example.org/chestxray)
"""

GENOMICS = """# 医学机器学习

## 2. 基因 Genomics
### 2.3 单细胞 Single-Cell
- [Clustering single-cell RNA-seq data with deep learning](https://www.nature.com/articles/s42256-019-0037-0) Tian et al. 2019
#### 2.3.1 Single-Cell Software
- [scVI: deep generative modeling for single-cell omics](https://github.com/YosefLab/scVI)
### 2.4 表观基因组学 Epigenomes
- [Integrative analysis of 111 reference human epigenomes](https://www.nature.com/articles/nature14248) Nature 2015
- [Graph neural networks review](http://arxiv.org/pdf/1812.08434v2.pdf) cited again here

## 3 医学 Medicine
### 3.1 命名实体识别 Named entity recognition
- [CCKS 2017 电子病历命名实体识别](https://biendata.com/competition/CCKS2017_2/)

## Datasets
- [CellMarker: curated cell markers](http://biocc.hrbmu.edu.cn/CellMarker/)
"""


def _snapshot(name: str, text: str, fingerprint: str = "v1", calls: list[str] | None = None) -> SourceSnapshot:
    def load() -> ListDocument:
        if calls is not None:
            calls.append(name)
        return parse(text, source=name)

    return SourceSnapshot(name, fingerprint, load)


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    built = SearchIndex.open(tmp_path / "index")
    built.sync([_snapshot("imaging", IMAGING), _snapshot("genomics", GENOMICS)], progress=False)
    yield built
    built.close()


def _titles(result_hits: object) -> list[str]:
    return [hit.entry.title for hit in result_hits]  # type: ignore[attr-defined]


def test_a_lab_member_searching_lesion_detection_gets_the_lesion_papers_first(index: SearchIndex) -> None:
    result = index.search("lesion detection")
    titles = _titles(result.hits)
    assert set(titles[:2]) == {
        "DeepLesion: automated mining of large-scale lesion annotations",
        "Universal Lesion Detection with 3D context",
    }, "the two entries with both words come first"
    assert result.total >= 3 and result.suggestion is None and not result.fuzzy


def test_entries_with_every_word_rank_above_entries_with_one_word_many_times(index: SearchIndex) -> None:
    titles = _titles(index.search("lesion detection").hits)
    assert titles.index("Lung nodule screening in chest CT") > 1  # in the section only
    assert titles.index("Detection of objects in lesion-free scenes, a survey of detectors") < 4


def test_section_names_are_searchable_in_chinese(index: SearchIndex) -> None:
    assert _titles(index.search("单细胞 软件").hits)[0].startswith("scVI")
    assert _titles(index.search("表观基因组").hits)[0].startswith("Integrative analysis of 111")


def test_abbreviations_find_what_they_stand_for(index: SearchIndex) -> None:
    assert _titles(index.search("EMR NER").hits)[0].startswith("CCKS 2017")
    assert any("Graph Neural Networks" in title for title in _titles(index.search("GNN").hits))
    assert "ChestX-ray14 radiographs" in _titles(index.search("x-ray dataset").hits)


def test_a_quoted_phrase_must_appear_as_written(index: SearchIndex) -> None:
    assert _titles(index.search('"human epigenomes"').hits) == ["Integrative analysis of 111 reference human epigenomes"]
    assert index.search('"epigenomes human"').total == 0


def test_filters_narrow_by_year_source_tag_and_topic(index: SearchIndex) -> None:
    in_2018 = index.search("lesion year:2018")
    assert in_2018.total == 2 and all(hit.entry.year == 2018 for hit in in_2018.hits)
    assert index.search("detection year:2019..2020").total == 1
    assert all("imaging" in hit.sources for hit in index.search("graph source:imaging").hits)
    assert _titles(index.search("lesion tag:code").hits) == ["DeepLesion: automated mining of large-scale lesion annotations"]
    topical = index.search("deep topic:单细胞")
    assert topical.total == 2 and all("2.3 单细胞 Single-Cell" in hit.entry.section for hit in topical.hits)
    assert index.search("deep topic:nonexistent-section-xyz").total == 0
    listing = index.search("source:genomics")
    assert listing.total == 6 and all(hit.entry.source == "genomics" for hit in listing.hits)


def test_the_same_paper_in_two_lists_is_one_result_naming_both(index: SearchIndex) -> None:
    hits = [hit for hit in index.search("graph neural networks review").hits if "1812.08434" in (hit.entry.url or "")]
    assert len(hits) == 1
    assert set(hits[0].sources) == {"imaging", "genomics"}
    filtered = index.search("graph neural networks", source="genomics").hits[0]
    assert filtered.entry.source == "genomics" and filtered.entry.title == "Graph neural networks review"


def test_a_typo_gets_a_did_you_mean_and_fuzzy_results(index: SearchIndex) -> None:
    result = index.search("lesoin detection")
    assert result.suggestion == "lesion detection"
    assert result.fuzzy and "esion" in result.hits[0].entry.title


@pytest.mark.parametrize(
    "hostile",
    [
        "(lesion AND (detection",
        'lesion "detection',
        "NOT OR AND",
        "title: field:value :",
        "*",
        "les*on ?",
        "\\",
        "lesion " * 800,
        "🧬🔬 lesion 🩻",
        "\u202elesion\u202c \u200fdetection",
        "lesion\x00detection",
        "<script>alert(1)</script> <b>lesion</b>",
        "year:abcd year:2020..2010 topic: source:",
        "",
        "   ",
    ],
)
def test_hostile_input_is_searched_as_plain_words_never_an_error(index: SearchIndex, hostile: str) -> None:
    result = index.search(hostile)
    assert result.pages == max(1, -(-result.total // result.per_page)) and len(result.hits) <= result.per_page
    assert len(result.hits) == min(result.total, result.per_page)
    if "lesion" in hostile and "\x00" not in hostile:
        assert result.total > 0 and "esion" in result.hits[0].entry.title
    elif not any(ch.isalnum() for ch in hostile.replace("year", "").replace("topic", "").replace("source", "")):
        assert result.total == 0, "nothing searchable, nothing found"


def test_results_come_in_pages(index: SearchIndex) -> None:
    first = index.search("lesion detection graph", per_page=2)
    second = index.search("lesion detection graph", page=2, per_page=2)
    assert first.pages == -(-first.total // 2) and first.pages >= 2
    assert not set(_titles(first.hits)) & set(_titles(second.hits))


def test_topics_merge_the_lists_by_section_name(index: SearchIndex) -> None:
    roots = {node.name: node for node in index.topics()}
    assert roots["Datasets"].count == 2, "Datasets of both lists are one topic"
    genomics = roots["2. 基因 Genomics"]
    single_cell = {child.name: child for child in genomics.children}["2.3 单细胞 Single-Cell"]
    assert single_cell.count == 2 and single_cell.children[0].count == 1
    assert "Contents" not in roots


@pytest.mark.parametrize(
    ("typed", "expected_leaf"),
    [
        ("lesion detection", "Lesion Detection"),
        ("单细胞", "2.3 单细胞 Single-Cell"),
        ("Single-Cell", "2.3 单细胞 Single-Cell"),
        ("2.4", "2.4 表观基因组学 Epigenomes"),
        ("2.3.1 single-cell software", "2.3.1 Single-Cell Software"),
        ("表观基因组学", "2.4 表观基因组学 Epigenomes"),
        ("Lesoin Detecton", "Lesion Detection"),
        ("named entity recognition", "3.1 命名实体识别 Named entity recognition"),
    ],
)
def test_a_topic_is_found_however_it_is_typed(index: SearchIndex, typed: str, expected_leaf: str) -> None:
    path = index.match_topic(typed)
    assert path is not None and path[-1] == expected_leaf


def test_an_unknown_topic_is_none(index: SearchIndex) -> None:
    assert index.match_topic("quantum chromodynamics of bananas") is None
    assert index.match_topic("") is None


def test_topic_autocomplete_offers_english_and_chinese_prefixes(index: SearchIndex) -> None:
    assert any(path[-1] == "Lesion Detection" for _, path in index.complete_topics("les"))
    assert any(path[-1] == "2.3 单细胞 Single-Cell" for _, path in index.complete_topics("单细"))
    assert len(index.complete_topics("", limit=3)) == 3


def test_topic_entries_are_listed_in_list_order(index: SearchIndex) -> None:
    path = index.match_topic("lesion detection")
    assert path is not None
    result = index.topic_entries(path, per_page=2)
    assert result.total == 3 and result.pages == 2
    assert _titles(result.hits)[0].startswith("DeepLesion")


def test_random_within_a_topic_stays_in_the_topic(index: SearchIndex) -> None:
    rng = random.Random(7)
    for _ in range(10):
        hit = index.random("单细胞", rng=rng)
        assert hit is not None and "2.3 单细胞 Single-Cell" in hit.entry.section
    path_hit = index.random("2. 基因 Genomics › 2.4 表观基因组学 Epigenomes", rng=rng)
    assert path_hit is not None and path_hit.entry.section[-1] == "2.4 表观基因组学 Epigenomes"
    assert index.random(rng=rng) is not None
    assert index.random("no such topic anywhere zzz") is None


def test_an_entry_is_found_by_id_or_any_of_its_links(index: SearchIndex) -> None:
    first = index.search("DeepLesion").hits[0]
    assert index.get(first.entry.id) == index.get("https://arxiv.org/pdf/1710.01766v2.pdf")
    by_code = index.get("https://github.com/rsna/deeplesion/")
    assert by_code is not None and by_code.entry.id == first.entry.id
    assert index.get("https://nowhere.example/") is None and index.get("") is None


def test_similar_entries_share_the_subject_and_exclude_the_entry(index: SearchIndex) -> None:
    lesion = index.search("DeepLesion").hits[0]
    similar = index.similar(lesion.entry.id, limit=3)
    assert similar and lesion.entry.id not in {hit.entry.id for hit in similar}
    assert "Lesion" in similar[0].entry.title
    assert index.similar("unknown-id") == []


def test_source_counts_name_every_list(index: SearchIndex) -> None:
    assert index.source_counts() == {"imaging": 6, "genomics": 6}


# --- building, updating, surviving crashes ----------------------------------------------


def test_a_reopened_index_serves_without_parsing_anything(tmp_path: Path) -> None:
    calls: list[str] = []
    first = SearchIndex.open(tmp_path)
    first.sync([_snapshot("imaging", IMAGING, calls=calls)], progress=False)
    first.close()
    again = SearchIndex.open(tmp_path)
    report = again.sync([_snapshot("imaging", IMAGING, calls=calls)], progress=False)
    assert calls == ["imaging"] and report.unchanged_sources == ("imaging",) and not report.rebuilt
    assert again.search("lesion").total == 4
    again.close()


def test_only_the_changed_list_is_parsed_and_reindexed(index: SearchIndex) -> None:
    calls: list[str] = []
    changed = GENOMICS.replace("- [CellMarker", "- [Spatial transcriptomics atlas](https://example.org/atlas)\n- [CellMarker")
    changed = changed.replace("- [scVI: deep generative modeling for single-cell omics](https://github.com/YosefLab/scVI)\n", "")
    report = index.sync(
        [_snapshot("imaging", IMAGING, calls=calls), _snapshot("genomics", changed, "v2", calls=calls)], progress=False
    )
    assert calls == ["genomics"]
    assert report.updated_sources == ("genomics",) and report.unchanged_sources == ("imaging",) and not report.rebuilt
    assert _titles(index.search("spatial transcriptomics").hits)[0] == "Spatial transcriptomics atlas"
    assert index.search("scVI").total == 0
    assert index.search("DeepLesion").total == 1, "the other list is untouched"


def test_a_list_dropped_from_the_config_leaves_the_index(index: SearchIndex) -> None:
    report = index.sync([_snapshot("imaging", IMAGING)], progress=False)
    assert report.removed_sources == ("genomics",)
    assert index.search("CCKS").total == 0
    shared = [hit for hit in index.search("graph neural networks").hits if "1812.08434" in (hit.entry.url or "")]
    assert shared[0].sources == ("imaging",)
    assert [node.name for node in index.topics()] == ["Lesion Detection", "Graph Reasoning", "Datasets"]


def test_the_watcher_updates_one_list_in_place(index: SearchIndex) -> None:
    document = parse(IMAGING + "* Lesion segmentation with transformers [`MICCAI 2021`](https://example.org/seg)\n", source="imaging")
    index.update_source("imaging", "watcher:2", document)
    assert index.search("lesion segmentation transformers").hits[0].entry.year == 2021
    calls: list[str] = []
    index.sync([_snapshot("imaging", IMAGING, "watcher:2", calls=calls), _snapshot("genomics", GENOMICS, calls=calls)])
    assert calls == [], "the fingerprint the watcher stored is honoured"


def test_a_crash_mid_build_leaves_the_old_index_serving(index: SearchIndex) -> None:
    def broken() -> ListDocument:
        raise RuntimeError("disk on fire")

    before = index.search("lesion detection").total
    with pytest.raises(RuntimeError):
        index.sync([_snapshot("imaging", IMAGING), SourceSnapshot("genomics", "v9", broken)], rebuild=True)
    assert index.search("lesion detection").total == before
    reopened = SearchIndex.open(index.index_dir)
    assert reopened.search("lesion detection").total == before
    reopened.close()
    leftovers = [p.name for p in index.index_dir.iterdir() if p.name.endswith(".building")]
    assert leftovers == []


def test_a_full_rebuild_swaps_generations(index: SearchIndex) -> None:
    generations = lambda: sorted(p.name for p in index.index_dir.iterdir() if p.is_dir())  # noqa: E731
    before = generations()
    report = index.sync([_snapshot("imaging", IMAGING), _snapshot("genomics", GENOMICS)], rebuild=True)
    assert report.rebuilt and generations() != before and len(generations()) == 1
    assert index.search("lesion").total == 4


def test_a_new_analyzer_version_rebuilds_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    sources: Callable[[], list[SourceSnapshot]] = lambda: [_snapshot("imaging", IMAGING, calls=calls)]  # noqa: E731
    SearchIndex.open(tmp_path).sync(sources(), progress=False)
    monkeypatch.setattr(search_store, "ANALYZER_VERSION", search_store.ANALYZER_VERSION + 1)
    upgraded = SearchIndex.open(tmp_path)
    assert upgraded.search("lesion").total == 0, "an index of another analyzer is not served"
    report = upgraded.sync(sources(), progress=False)
    assert report.rebuilt and calls == ["imaging", "imaging"]
    assert upgraded.search("lesion").total == 4
    upgraded.close()


def test_an_empty_index_answers_politely(tmp_path: Path) -> None:
    empty = SearchIndex.open(tmp_path / "nothing")
    assert empty.search("lesion").total == 0
    assert empty.topics() == () and empty.match_topic("x") is None and empty.random() is None
    assert empty.get("abc") is None and empty.similar("abc") == [] and empty.source_counts() == {}


def test_adding_one_entry_to_a_big_list_rewrites_only_that_entry(tmp_path: Path) -> None:
    lines = "\n".join(f"* [Tool number {n}](https://example.org/tool-{n})" for n in range(300))
    index = SearchIndex.open(tmp_path / "index")
    index.sync([_snapshot("tools", f"# Tools\n\n## All\n{lines}\n")], progress=False)
    assert index._searcher is not None
    written_before = index._searcher.reader().doc_count_all()
    more = f"# Tools\n\n## All\n{lines}\n* [A brand new tool](https://example.org/new-tool)\n"
    index.sync([_snapshot("tools", more, fingerprint="v2")], progress=False)
    assert index._searcher is not None
    assert index._searcher.reader().doc_count_all() == written_before + 1
    assert index.search("brand new tool").hits[0].entry.url == "https://example.org/new-tool"
    assert index.search("tool number 7").total >= 1
    index.close()


def test_warming_an_index_changes_no_answer(tmp_path) -> None:
    """The bot warms its index at start-up; what it answers must be the same either way."""
    from index.parser import parse_file
    from index.search import SearchIndex, SourceSnapshot
    from tests.conftest import REPO_ROOT

    lists = sorted((REPO_ROOT / "data" / "lists").glob("*.md"))
    snapshots = [SourceSnapshot(p.stem, "v1", lambda p=p: parse_file(p)) for p in lists]
    cold = SearchIndex.open(tmp_path / "index")
    cold.sync(snapshots)
    before = [(h.entry.id, h.score) for h in cold.search("single cell clustering").hits]
    topic_before = cold.match_topic("单细胞")
    cold.close()
    warm = SearchIndex.open(tmp_path / "index")
    warm.warm()
    assert [(h.entry.id, h.score) for h in warm.search("single cell clustering").hits] == before
    assert warm.match_topic("单细胞") == topic_before is not None
    warm.close()


def test_a_serving_index_sees_what_another_process_committed(tmp_path, monkeypatch) -> None:
    """`medbot serve` keeps its index open while a cron `medbot watch --once` updates a list."""
    import index.search as search_module
    from index.parser import parse
    from index.search import SearchIndex, SourceSnapshot

    first = "# Lab\n\n## Fish\n- [Zebrafish lesion atlas](https://example.org/zf-atlas)\n"
    added = first + "- [Medaka heart regeneration](https://example.org/medaka)\n"
    writer = SearchIndex.open(tmp_path / "index")
    writer.sync([SourceSnapshot("lab", "v1", lambda: parse(first, source="lab"))])
    serving = SearchIndex.open(tmp_path / "index")
    assert serving.search("medaka").total == 0

    writer.update_source("lab", "v2", parse(added, source="lab"))  # the other process commits

    monkeypatch.setattr(search_module, "FRESHNESS_SECONDS", 0.0)
    assert [hit.entry.title for hit in serving.search("medaka").hits] == ["Medaka heart regeneration"]
    assert serving.source_counts() == {"lab": 2}
    writer.close()
    serving.close()


def test_two_builds_at_once_do_not_share_scratch_files(tmp_path) -> None:
    """A bot and a CLI (or two test runs) may build at the same moment on one machine.

    Whoosh's in-memory storage keeps a writer's scratch files in <tmp>/MAIN.tmp, shared
    by every process, so one build deleted the other's files mid-commit. Ours are private
    and removed when the build is done.
    """
    import tempfile

    store = search_store
    first, second = store.create_ram_index(), store.create_ram_index()
    one = first.storage.temp_storage("MAIN.tmp").folder
    other = second.storage.temp_storage("MAIN.tmp").folder
    assert one != other
    assert Path(tempfile.gettempdir(), "MAIN.tmp") not in {Path(one), Path(other)}
    store.release_scratch(first)
    store.release_scratch(second)
    assert not Path(one).exists() and not Path(other).exists()

    text = "# Lab\n\n## Fish\n- [Zebrafish lesion atlas](https://example.org/zf-atlas)\n"
    index = SearchIndex.open(tmp_path / "index")
    before = set(Path(tempfile.gettempdir()).glob("medbot-whoosh-*"))
    index.sync([SourceSnapshot("lab", "v1", lambda: parse(text, source="lab"))])
    assert set(Path(tempfile.gettempdir()).glob("medbot-whoosh-*")) <= before  # nothing left behind
    assert index.search("zebrafish").total == 1
    index.close()
