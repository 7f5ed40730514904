"""The vector side of ``medbot bench``: embedding costs, and relevance of every engine.

- ``embedding_figures``: after the build, the first full embedding of the haystack,
  a rebuild that reuses every cached vector, and one added 1,000-entry list (how many
  texts it really embedded).
- ``relevance_figures``: hit@5 and MRR per group for each shared relevance set, by
  keywords alone and hybrid, on the index the query phase has open.
- ``bundled_relevance`` (a worker phase): the same on the two bundled lists alone, for
  medbot and both baselines, so every figure of the relevance table comes from one run.
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import SEEDS_DIR, generate_list
from benchmarks.relevance import hit_at_5, load_relevance
from benchmarks.stats import timed

__all__ = ["bench_model", "seed_vectors", "bundled_relevance", "embedding_figures", "relevance_figures", "wait_for_vectors"]

ADDED_ENTRIES = 1000


def bench_model() -> str:
    """The model the bench measures: $MEDBOT_SEARCH_MODEL, else the shared MiniLM copy."""
    import os

    from benchmarks.corpus import shared_dir

    chosen = os.environ.get("MEDBOT_SEARCH_MODEL")
    if chosen:
        return chosen
    shared = shared_dir()
    local = shared / "models" / "all-MiniLM-L6-v2" if shared else None
    return str(local) if local is not None and (local / "onnx" / "model.onnx").is_file() else "none"


def seed_vectors(vectors_dir: Path, model: str) -> bool:
    """Copy ``$MEDBOT_BENCH_VECTORS`` (a vector cache: keys.npy, vectors.npy) in, if set.

    The first embedding of the haystack takes many minutes on two cores; a maintainer
    who measured it once can skip it on later runs (the run says so in its notes).
    """
    import os
    import shutil

    from index.semantic import model_slug

    source = os.environ.get("MEDBOT_BENCH_VECTORS")
    if not source or model == "none" or not (Path(source) / "keys.npy").is_file():
        return False
    # the int8 copy of a local model (index/semantic_quant.py) has a cache of its own;
    # the seeded vectors must come from the variant the run will load
    variant = os.environ.get("MEDBOT_BENCH_VECTORS_VARIANT", "int8")
    target = vectors_dir / (model_slug(model) + (f"-{variant}" if variant else ""))
    target.mkdir(parents=True, exist_ok=True)
    for name in ("keys.npy", "vectors.npy"):
        shutil.copyfile(Path(source) / name, target / name)
    return True


def _embedded(index: Any) -> int:
    embedder = index._semantic.embedder
    return int(embedder.embedded) if embedder is not None else 0


def embedding_figures(core: Any, lists_dir: Path) -> dict[str, Any]:
    """First embedding, cached rebuild and one added list, on the freshly built index."""
    index = core.index
    if not index.semantic_enabled or index._semantic.embedder is None:
        return {"model": None}
    figures: dict[str, Any] = {"model": index._semantic.embedder.name}
    before = _embedded(index)
    figures["embed_first_s"] = round(timed(index.embed), 2)
    figures["embedded_first"] = _embedded(index) - before

    def rebuild() -> None:
        core.sync(rebuild=True, progress=False)
        index.embed()

    before = _embedded(index)
    figures["rebuild_cached_s"] = round(timed(rebuild), 2)
    figures["embedded_on_rebuild"] = _embedded(index) - before

    added = lists_dir / "bench-added-list.md"
    added.write_text(generate_list(ADDED_ENTRIES, seed=99, name="addedbench"), encoding="utf-8")
    before = _embedded(index)

    def add() -> None:
        from bot.core.config import load_settings

        # a glob source is expanded when settings load: read them again, as a restart would
        core.settings = load_settings(core.settings.config_path, core.settings.data_dir)
        core.sync(progress=False)
        index.embed()

    figures["add_list_s"] = round(timed(add), 2)
    figures["add_list_entries"] = ADDED_ENTRIES
    figures["embedded_on_add"] = _embedded(index) - before
    added.unlink()
    from bot.core.config import load_settings

    core.settings = load_settings(core.settings.config_path, core.settings.data_dir)
    core.sync(progress=False)
    index.embed()
    return figures


def wait_for_vectors(index: Any, timeout: float = 1800.0) -> float | None:
    """Seconds until the background thread has the vectors ready (None: never)."""
    if not index.semantic_enabled:
        return None
    started = time.perf_counter()
    while not index.semantic_ready:
        if time.perf_counter() - started > timeout or index._semantic._loaded and index._semantic.embedder is None:
            return None
        time.sleep(0.05)
    return round(time.perf_counter() - started, 3)


def _urls(hits: Any) -> list[tuple[str, ...]]:
    return [tuple(filter(None, [h.entry.url, *(link.url for link in h.entry.links)])) for h in hits]


def relevance_figures(index: Any, sets: dict[str, str], per_page: int = 5) -> dict[str, dict[str, Any]]:
    """{set: {"lexical": summary, "hybrid": summary}} (hybrid only with vectors ready)."""
    result: dict[str, dict[str, Any]] = {}
    for name, path in sets.items():
        judged = load_relevance(Path(path))

        def search(text: str) -> list[tuple[str, ...]]:
            return _urls(index.search(text, page=1, per_page=per_page).hits)

        modes: dict[str, Any] = {}
        if index.semantic_ready:
            modes["hybrid"] = hit_at_5(judged, search)
        index.semantic_paused = True
        try:
            modes["lexical"] = hit_at_5(judged, search)
        finally:
            index.semantic_paused = False
        result[name] = modes
    return result


def bundled_relevance(args: dict[str, Any]) -> dict[str, Any]:
    """Worker phase: every engine's relevance on the two bundled lists alone."""
    import os

    from benchmarks.baselines import Fts5Engine, WhooshDefaultEngine
    from index.parser import parse_file
    from index.search import SearchIndex, SourceSnapshot

    model = args.get("model") or None
    sets: dict[str, str] = args["sets"]
    seeds = sorted(SEEDS_DIR.glob("*.md"))
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="medbot-bench-bundled-") as scratch:
        root = Path(scratch)
        if args.get("vectors"):
            os.symlink(args["vectors"], root / "vectors")
        index = SearchIndex.open(root, model=model if model != "none" else None)
        snapshots = [SourceSnapshot(p.stem, str(p.stat().st_mtime_ns), functools.partial(parse_file, p)) for p in seeds]
        index.sync(snapshots, progress=False)
        index.embed()
        figures["medbot"] = relevance_figures(index, sets)
        index.close()
        entries = [entry for path in seeds for entry in parse_file(path).entries]
        for engine in (Fts5Engine(root / "fts5.sqlite3"), WhooshDefaultEngine(root / "whoosh")):
            engine.build(entries)
            figures[engine.name] = {
                name: {"lexical": hit_at_5(load_relevance(Path(path)), functools.partial(_top5, engine))}
                for name, path in sets.items()
            }
            engine.close()
    return figures


def _top5(engine: Any, text: str) -> Any:
    """A baseline engine's first five results for ``text`` (what hit@5 judges)."""
    return engine.search(text, 1, 5)
