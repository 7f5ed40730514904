"""``medbot bench``: every speed and memory figure of medbot, with its baselines, in one run.

The run: copy the seeds and the corpus into a scratch workspace; parse every list
(timed, and kept for the baselines); build medbot's index from scratch and re-sync one
changed list (child process); start ``medbot search`` cold a few times; run the query
set through ``SearchIndex.search`` and ``core.handle`` (child process); build and query
SQLite FTS5 and plain Whoosh on the same entries (one child each); diff a 5,000-entry
list; poll many sources on a loopback server; deliver announcements with 1 and 3 workers
on PostgreSQL. Then compare, check the targets, print.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpus import QUERIES_PATH, Workspace, default_corpus_dir, load_queries, prepare_workspace
from benchmarks.phases import PhaseFailed, cold_start, run_worker
from benchmarks.relevance import relevance_path, relevance_sets
from benchmarks.report import BASELINES, check_targets, draw_chart, format_table, ratios
from benchmarks.semantic_phases import bench_model, seed_vectors

__all__ = ["bench_main", "run_bench"]


def bench_main(args: argparse.Namespace) -> int:
    """Entry point of ``medbot bench``; returns the exit status."""
    corpus = Path(args.corpus).expanduser() if getattr(args, "corpus", None) else default_corpus_dir()
    if corpus is not None and not corpus.is_dir():
        print(f"medbot: bench: no such corpus directory: {corpus}", file=sys.stderr)
        return 2
    quick = bool(getattr(args, "quick", False))
    out_dir = _output_dir(getattr(args, "data_dir", None))
    if not getattr(args, "json", False):
        print(f"medbot bench: measuring{' (quick)' if quick else ''}; this takes {'a minute' if quick else 'a few minutes'}…",
              file=sys.stderr)
    try:
        figures = run_bench(corpus, quick=quick, out_dir=out_dir)
    except PhaseFailed as exc:
        print(f"medbot: bench: {exc}", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        print(format_table(figures))
    return 0


def run_bench(corpus: Path | None, *, quick: bool, out_dir: Path | None) -> dict[str, Any]:
    """Every phase in order; returns the figures (also saved as ``out_dir/last.json``)."""
    passes = 1 if quick else 3
    notes: list[str] = []
    wall: dict[str, float] = {}
    samples: dict[str, list[float]] = {}

    def phase(name: str, started: float) -> None:
        wall[name] = round(time.perf_counter() - started, 2)

    with _scratch_dir() as scratch:
        started = time.perf_counter()
        workspace = prepare_workspace(scratch, corpus)
        queries = load_queries()
        figures: dict[str, Any] = {"machine": _machine(), "queries": len(queries), "passes": passes, "quick": quick}
        entries, parse_s = _parse_all(workspace)
        entries_path = scratch / "entries.pickle"
        entries_path.write_bytes(pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL))
        entry_count = len(entries)
        del entries  # the phases below run in children; keep this process's heap small
        figures["corpus"] = {
            "dir": workspace.corpus_label,
            "lists": len(workspace.files),
            "entries": entry_count,
            "bytes": sum(path.stat().st_size for path in workspace.files),
        }
        figures["parse_s"] = round(parse_s, 3)
        phase("parse", started)

        started = time.perf_counter()
        changed = {"incremental_s": str(_seed_list(workspace))}
        if not quick:
            changed["incremental_largest_s"] = str(max(workspace.files, key=lambda p: p.stat().st_size))
        model = bench_model()
        figures["model"] = model
        if seed_vectors(workspace.data_dir / "index" / "vectors", model):
            notes.append("vector cache seeded from $MEDBOT_BENCH_VECTORS: embed_first_s is not a first embedding")
        build = run_worker("medbot-build", {"config": str(workspace.config_path), "data_dir": str(workspace.data_dir),
                                            "changed": changed, "model": model, "lists_dir": str(workspace.lists_dir)})
        figures["embedding"] = build.get("embedding")
        figures["peak_rss_embed_mb"] = build.get("peak_rss_embed_mb")
        for key in ("build_s", "indexed_entries", "index_bytes", "index_files", "incremental_s", "incremental_largest_s"):
            figures[key] = build.get(key)
        phase("medbot build", started)

        started = time.perf_counter()
        figures["cold_start"] = cold_start(workspace, runs=2 if quick else 5)
        phase("cold start", started)

        started = time.perf_counter()
        relevance = relevance_path()
        if relevance is None:
            notes.append("relevance-dev.yaml not found: hit@5 skipped")
        query_args = {
            "config": str(workspace.config_path),
            "data_dir": str(workspace.data_dir),
            "queries": str(QUERIES_PATH),
            "passes": passes,
            "warmup": not quick,
            "relevance": str(relevance) if relevance else None,
            "sets": relevance_sets(),
        }
        served = run_worker("medbot-query", {**query_args, "model": "none"})
        samples["medbot (search)"] = served.pop("search_samples_ms")
        samples["medbot (core.handle)"] = served.pop("handle_samples_ms")
        samples["medbot (first pass, fresh process)"] = served.pop("search_first_pass_samples_ms")
        for key in ("search", "search_first_pass", "handle", "relevance", "slowest_queries", "web"):
            figures[key] = served.get(key)
        figures["index_open_s"] = served.get("open_s")
        figures["index_warm_s"] = served.get("warm_s")
        figures["peak_rss_build_mb"] = build.get("peak_rss_build_mb")
        figures["peak_rss_build_child_mb"] = build.get("peak_rss_build_child_mb")
        figures["peak_rss_query_mb"] = served.get("peak_rss_query_mb")
        figures["peak_rss_cold_start_mb"] = figures["cold_start"]["peak_rss_mb"]
        figures["peak_rss_mb"] = max(figures["peak_rss_build_mb"] or 0, figures["peak_rss_query_mb"] or 0)
        figures["relevance_sets"] = {"medbot": served.get("relevance_sets")}
        phase("medbot queries", started)

        if model != "none":
            started = time.perf_counter()
            hybrid = run_worker("medbot-query", {**query_args, "model": model})
            samples["medbot hybrid (core.handle)"] = hybrid.pop("handle_samples_ms")
            samples["medbot hybrid (first pass, fresh process)"] = hybrid.pop("search_first_pass_samples_ms")
            hybrid.pop("search_samples_ms")
            figures["hybrid"] = hybrid
            figures["relevance_sets"]["medbot"] = hybrid.get("relevance_sets")
            phase("medbot hybrid queries", started)

        figures["baselines"] = {}
        for engine in BASELINES:
            started = time.perf_counter()
            work_dir = str(scratch / engine)
            base = run_worker("baseline", {**query_args, "engine": engine, "entries": str(entries_path), "work_dir": work_dir})
            samples[engine] = base.pop("search_samples_ms")
            base["build_s"] = round(base["index_s"] + parse_s, 3)
            base["peak_rss_mb"] = max(base["peak_rss_build_mb"], base["peak_rss_query_mb"])
            figures["baselines"][engine] = base
            figures["relevance_sets"][engine] = base.get("relevance_sets")
            phase(engine, started)

        started = time.perf_counter()
        vectors = workspace.data_dir / "index" / "vectors"
        figures["relevance_bundled"] = run_worker("bundled-relevance", {
            "model": model, "sets": relevance_sets(), "vectors": str(vectors) if vectors.is_dir() else None})
        phase("bundled relevance", started)

        started = time.perf_counter()
        figures["diff"] = run_worker("diff", {"entries": 1000 if quick else 5000, "repetitions": 2 if quick else 7})
        phase("diff", started)
        started = time.perf_counter()
        figures["poll"] = run_worker("poll", {"sources": 50 if quick else 1000})
        phase("poll", started)
        started = time.perf_counter()
        figures["delivery"] = run_worker("delivery", {"messages": 150 if quick else 600, "chats": 30 if quick else 60,
                                                      "latency_ms": 20, "workers": [1, 3]})
        if figures["delivery"].get("skipped"):
            notes.append(f"delivery skipped: {figures['delivery']['skipped']}")
        phase("delivery", started)

    figures["ratios"] = ratios(figures)
    figures["targets"] = check_targets(figures)
    figures["notes"] = notes + [
        "baseline build_s = the same parse_s + the engine's own index time; medbot's build_s is a full "
        "sync(rebuild=True), which parses every list itself",
        "peak RSS is per child process: the build (full build plus the incremental syncs) and the query "
        "phase (index open, the query set through search and core.handle) are measured separately; "
        "peak_rss_build_child_mb is the build's largest child process (parse forks or Whoosh's writer)",
        "web is /search of `medbot web` on a loopback port, 10 results a page, after the core.handle passes: "
        "server = the app's Server-Timing (handler to rendered page), round_trip adds loopback HTTP",
        "delivery is announcements a second through `deliver` with 1 and 3 worker processes on one local "
        "PostgreSQL, a 20 ms send and no flood limits (one message in flight per worker)",
        "search is the steady state (after a first pass over the query set in a fresh process); "
        "search_first_pass is that first pass, with nothing cached yet",
    ]
    figures["phase_wall_s"] = wall
    figures["chart"] = draw_chart(samples, out_dir / "latency.png") if out_dir else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "last.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    return figures


@contextlib.contextmanager
def _scratch_dir() -> Iterator[Path]:
    """A temporary workspace, or ``$MEDBOT_BENCH_KEEP`` (kept, for benchmarks.profile)."""
    keep = os.environ.get("MEDBOT_BENCH_KEEP")
    if keep:
        path = Path(keep).expanduser()
        if path.exists() and any(path.iterdir()):
            if not (path / "medbot.yaml").is_file():  # never wipe a directory we did not write
                raise PhaseFailed(f"MEDBOT_BENCH_KEEP={keep} is not empty and not a bench workspace")
            shutil.rmtree(path)
        path.mkdir(parents=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="medbot-bench-") as scratch:
        yield Path(scratch)


def _parse_all(workspace: Workspace) -> tuple[list[Any], float]:
    from index.parser import parse_file

    entries: list[Any] = []
    started = time.perf_counter()
    for path in workspace.files:
        entries.extend(parse_file(path, source=path.stem).entries)
    return entries, time.perf_counter() - started


def _seed_list(workspace: Workspace) -> Path:
    """The list whose change we time: the first seed (what the watcher updates most)."""
    for path in workspace.files:
        if path.stem == "awesome-medical-research":
            return path
    return workspace.files[0]


def _output_dir(data_dir: str | None) -> Path | None:
    """Where the chart and last.json go: ``<data dir>/bench``."""
    try:
        from bot.core.config import load_settings

        return load_settings(None, data_dir).data_dir / "bench"
    except Exception:  # the bench still prints its figures without a place to save them
        return None


def _machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (None, None, None)
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    cpus = os.cpu_count()
    summary = f"{cpus} CPUs, {memory} GiB, {platform.python_implementation()} {platform.python_version()}, load {load[0]:.2f}"
    return {"cpus": cpus, "memory_gib": memory, "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "load_1min": load[0], "summary": summary}
