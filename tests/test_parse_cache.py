"""An operator rebuilds the index: lists whose bytes have not changed are not parsed again.

Real files, the real parser and a real Whoosh index; the only thing counted is how often
a list's parser runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index import parse_cache
from index.model import ListDocument
from index.parse_cache import ParseCache
from index.parser import parse_file
from index.search import SearchIndex, SourceSnapshot

IMAGING = """# Awesome Imaging

## Lesion Detection
* DeepLesion: automated mining of large-scale lesion annotations [`arxiv 2018`](https://arxiv.org/abs/1710.01766)
* Universal Lesion Detection with 3D context [`MICCAI 2018`](https://arxiv.org/abs/1806.09648)
"""

GENOMICS = """# Genomics

## Single-Cell
- [scVI: deep generative modeling for single-cell omics](https://github.com/YosefLab/scVI)
"""


class Lab:
    """A data dir with list files, and a count of the parses each rebuild runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.parsed: list[str] = []
        self.index = SearchIndex.open(root / "index")

    def write(self, name: str, text: str) -> None:
        (self.root / f"{name}.md").write_text(text, encoding="utf-8")

    def snapshots(self) -> list[SourceSnapshot]:
        snapshots = []
        for path in sorted(self.root.glob("*.md")):
            def load(path: Path = path) -> ListDocument:
                self.parsed.append(path.stem)
                return parse_file(path)

            stamp = f"{path.stat().st_mtime_ns}:{path.stat().st_size}"
            snapshots.append(SourceSnapshot(path.stem, stamp, load, content=path.read_bytes))
        return snapshots

    def rebuild(self) -> list[str]:
        self.parsed.clear()
        self.index.sync(self.snapshots(), rebuild=True, progress=False)
        return sorted(self.parsed)

    def titles(self, query: str) -> list[str]:
        return [hit.entry.title for hit in self.index.search(query).hits]


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    lab = Lab(tmp_path)
    lab.write("imaging", IMAGING)
    lab.write("genomics", GENOMICS)
    yield lab
    lab.index.close()


def test_a_rebuild_parses_only_the_list_that_changed(lab: Lab) -> None:
    assert lab.rebuild() == ["genomics", "imaging"]
    first = lab.titles("lesion detection")
    assert lab.rebuild() == []
    assert lab.titles("lesion detection") == first  # the same index from the cached parses
    lab.write("imaging", IMAGING + "* Lung nodule screening in chest CT [`MICCAI 2019`](https://example.org/nodules)\n")
    assert lab.rebuild() == ["imaging"]
    assert "Lung nodule screening in chest CT" in lab.titles("nodule")
    assert lab.titles("scvi") == ["scVI: deep generative modeling for single-cell omics"]


def test_a_list_updated_between_rebuilds_is_parsed_once_and_kept_once(lab: Lab) -> None:
    lab.rebuild()
    for number in range(3):  # the watcher or an editor changes the list three times
        lab.write("imaging", IMAGING + f"* Nodule study number {number} [`2019`](https://example.org/n{number})\n")
        lab.parsed.clear()
        lab.index.sync(lab.snapshots(), progress=False)
        assert lab.parsed == ["imaging"]
    assert lab.rebuild() == []
    assert lab.titles("nodule study") == ["Nodule study number 2"]
    assert len(list((lab.root / "index" / "parsed").glob("*.parsed"))) == 2  # one per list


def test_a_damaged_cached_parse_is_parsed_again_without_an_error(lab: Lab) -> None:
    lab.rebuild()
    cached = sorted((lab.root / "index" / "parsed").glob("*.parsed"))
    assert len(cached) == 2
    for path in cached:
        path.write_bytes(path.read_bytes()[:40])  # a crash mid-write on another machine
    assert lab.rebuild() == ["genomics", "imaging"]
    assert lab.titles("scvi") == ["scVI: deep generative modeling for single-cell omics"]
    assert lab.rebuild() == []  # and the fresh parses were kept


def test_a_list_no_longer_configured_leaves_no_cached_parse(lab: Lab) -> None:
    lab.rebuild()
    (lab.root / "genomics.md").unlink()
    lab.rebuild()
    assert len(list((lab.root / "index" / "parsed").glob("*.parsed"))) == 1


def test_a_new_parser_never_reads_an_old_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ParseCache(tmp_path)
    old = cache.key(b"# A list", "lab")
    assert old == cache.key(b"# A list", "lab")
    assert old != cache.key(b"# A list!", "lab")
    assert old != cache.key(b"# A list", "other")  # entries carry their source name
    monkeypatch.setattr(parse_cache, "parser_code_digest", lambda: b"an edited parser")
    assert cache.key(b"# A list", "lab") != old


def test_an_unwritable_cache_only_costs_a_parse(tmp_path: Path) -> None:
    blocker = tmp_path / "parsed"
    blocker.write_text("a file where the cache directory should be", encoding="utf-8")
    cache = ParseCache(blocker)
    document = parse_file_text(tmp_path, IMAGING)
    cache.put("k", document)  # logs and carries on
    assert cache.get("k") is None


def parse_file_text(root: Path, text: str) -> ListDocument:
    path = root / "list.md"
    path.write_text(text, encoding="utf-8")
    return parse_file(path)
