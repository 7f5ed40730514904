"""The indexes relevance and /similar tests share: bundled lists, and the haystack.

Session-scoped, so the ~50k-entry haystack is parsed, indexed and embedded once per
run. Its vectors live in pytest's cache directory (``.pytest_cache``), keyed by the
embedded text, so only the first run on a machine pays for embedding the haystack
(minutes on two cores); later runs reuse every vector and embed only changed entries.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from index.parser import parse_file
from index.search import SearchIndex, SourceSnapshot

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared() -> Path:
    """``../shared`` (or $MEDBOT_SHARED), as ``conftest.shared_dir`` finds it (that module
    imports this one, so it cannot be imported from here)."""
    for candidate in (os.environ.get("MEDBOT_SHARED"), str(REPO_ROOT.parent / "shared")):
        if candidate and (Path(candidate) / "seeds").is_dir():
            return Path(candidate)
    return REPO_ROOT.parent / "shared"


SHARED = _shared()
CORPUS = SHARED / "corpus" / "lists"
MODEL = SHARED / "models" / "all-MiniLM-L6-v2"
SEEDS = sorted((REPO_ROOT / "data" / "lists").glob("*.md"))


def snapshots(paths: Sequence[Path]) -> list[SourceSnapshot]:
    return [SourceSnapshot(path.stem, f"{path.stat().st_mtime_ns}", lambda p=path: parse_file(p)) for path in paths]


def model_available() -> bool:
    try:
        import fastembed  # noqa: F401
    except ImportError:
        return False
    return (MODEL / "onnx" / "model.onnx").is_file()


EMBED_HAYSTACK = os.environ.get("MEDBOT_EMBED_HAYSTACK") == "1"
"""Embedding the ~50k haystack entries takes 5-16 minutes on two cores the first time, more
than CI's whole budget: only a run that asks for it (or ``medbot bench``) pays that."""


def open_embedded(index_dir: Path, paths: Sequence[Path], vectors: Path | None, label: str, *, embed: bool = True) -> SearchIndex:
    """An index over ``paths``, with the shared model (every entry embedded) when available."""
    index_dir.mkdir(parents=True, exist_ok=True)
    if vectors is not None:
        vectors.mkdir(parents=True, exist_ok=True)
        os.symlink(vectors, index_dir / "vectors")
    index = SearchIndex.open(index_dir, model=str(MODEL) if embed and model_available() else None)
    started = time.perf_counter()
    report = index.sync(snapshots(paths), progress=False)
    synced = time.perf_counter() - started
    embedded = index.embed()
    print(f"\n{label}: {report.entries} documents indexed in {synced:.1f}s, "
          f"{embedded} embedded in {time.perf_counter() - started - synced:.1f}s")
    return index


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """The bundled lists, with vectors when the model is here (``semantic_paused``: lexical)."""
    index = open_embedded(tmp_path_factory.mktemp("seed-index"), SEEDS, None, "bundled lists")
    yield index
    index.close()


@pytest.fixture(scope="session")
def corpus_index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    """The bundled lists among the shared corpus, vectors (when possible) cached across runs."""
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    vectors = Path(request.config.cache.mkdir("medbot-haystack-vectors"))
    paths = SEEDS + sorted(CORPUS.glob("*.md"))
    index = open_embedded(tmp_path_factory.mktemp("corpus-index"), paths, vectors, "haystack", embed=EMBED_HAYSTACK)
    yield index
    index.close()
