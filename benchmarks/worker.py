"""One benchmark phase in a fresh process, so its peak memory is its own.

``python -m benchmarks.worker PHASE ARGS_JSON`` runs one phase and prints its figures as
one JSON object on the last line of stdout. The phases:

- ``medbot-build``: a full ``sync(rebuild=True)`` of the configured lists, the index
  size, then one list changed and re-synced (the incremental figure).
- ``medbot-query``: the index opened as the bot opens it, then the query set through
  ``SearchIndex.search`` and through ``core.handle`` (and ``core.press`` for later pages).
- ``baseline``: one baseline engine built from the parsed entries and queried.
- ``diff`` and ``poll``: the large-list diff and the watcher poll, away from the
  bench process's heap (its parsed entries would slow the garbage collector).
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import BenchQuery, load_queries, new_entry_line
from benchmarks.relevance import hit_at_5, load_relevance
from benchmarks.stats import latency_summary, peak_rss_mb, time_each, timed

__all__ = ["main"]

PER_PAGE = 5


def _use_model(args: dict[str, Any]) -> None:
    """The phase's search.model (the bench names it; "none" = lexical only)."""
    os.environ["MEDBOT_SEARCH_MODEL"] = str(args.get("model") or "none")


def medbot_build(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.semantic_phases import embedding_figures
    from bot.core.bot import MedBot

    _use_model(args)
    started = time.perf_counter()
    core = MedBot.load(args["config"], args["data_dir"], sync=False)
    open_s = time.perf_counter() - started
    report = None

    def rebuild() -> None:
        nonlocal report
        report = core.sync(rebuild=True, progress=False)

    build_s = timed(rebuild)
    rss_build = peak_rss_mb()
    index_dir = core.settings.index_dir
    size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    figures: dict[str, Any] = {
        "open_s": round(open_s, 4),
        "build_s": round(build_s, 3),
        "indexed_entries": getattr(report, "entries", None),
        "index_bytes": size,
        "index_files": sum(1 for p in index_dir.rglob("*") if p.is_file()),
        "peak_rss_build_mb": rss_build,
    }
    for key, path_text in args["changed"].items():
        path = Path(path_text)
        extra = new_entry_line(seed=len(figures) + time.time_ns() % 1000)
        path.write_text(path.read_text(encoding="utf-8") + "\n" + extra + "\n", encoding="utf-8")
        figures[key] = round(timed(lambda: core.sync(progress=False)), 4)
    figures["peak_rss_build_mb"] = peak_rss_mb()
    figures["peak_rss_build_child_mb"] = peak_rss_mb(children=True)  # a writer process, if the build forks one
    if args.get("lists_dir"):  # after the lexical figures: the model's memory is its own figure
        figures["embedding"] = embedding_figures(core, Path(args["lists_dir"]))
        figures["peak_rss_embed_mb"] = peak_rss_mb()
    core.close()
    return figures


def unlimited(core: Any) -> None:
    """No command budget: 807 commands from one member would be 797 "slow down" replies
    (bot/core/budget.py), and the figures would time those instead of searches."""
    from bot.core.budget import CommandBudget

    endless = (1e12, 1.0)
    core.budget = CommandBudget(per_member=endless, per_member_in_group=endless, per_chat=endless)


def medbot_query(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.semantic_phases import relevance_figures, wait_for_vectors
    from bot.app import Context
    from bot.core.bot import MedBot
    from bot.core.paging import Action, encode

    _use_model(args)
    started = time.perf_counter()
    core = MedBot.load(args["config"], args["data_dir"])
    unlimited(core)
    figures: dict[str, Any] = {"open_s": round(time.perf_counter() - started, 4)}
    # `medbot serve` warms the index before it takes questions; so does this phase.
    figures["warm_s"] = round(timed(core.index.warm), 4)
    # ...and then answers lexically until the background thread has the vectors ready
    figures["semantic_ready_s"] = wait_for_vectors(core.index)
    figures["semantic"] = core.index.semantic_ready
    queries = load_queries(Path(args["queries"]))
    passes = int(args["passes"])
    warmup = bool(args.get("warmup", True))  # for core.handle, whose first pass follows the search passes

    def search(item: object) -> object:
        query = item if isinstance(item, BenchQuery) else BenchQuery(str(item))
        return core.index.search(query.text, page=query.page, per_page=PER_PAGE)

    # The first pass in a fresh process is timed on its own: no term postings or topic
    # matches are cached yet, as for a bot's first questions after a restart.
    first = time_each(queries, search, 1, warmup=False)
    figures["search_first_pass"] = latency_summary(first)
    figures["search_first_pass_samples_ms"] = _ms(first)
    samples = time_each(queries, search, passes, warmup=False)
    figures["search"] = latency_summary(samples)
    figures["search_samples_ms"] = _ms(samples)
    figures["slowest_queries"] = _slowest(queries, samples, passes)

    ctx = Context(platform="console", chat_id="bench", user_id="bench", is_admin=True, language="en")

    async def one(query: BenchQuery) -> str:
        if query.page == 1:
            reply = await core.handle(f"/search {query.text}", ctx)
        else:
            reply = await core.press(encode(Action("search", query.text, query.page), core.tokens), ctx)
        return reply.plain_text() if reply is not None else ""

    async def all_passes() -> list[float]:
        for query in queries if warmup else ():  # as time_each does
            await one(query)
        clock = time.perf_counter
        handle_samples: list[float] = []
        for _ in range(passes):
            for query in queries:
                start = clock()
                await one(query)
                handle_samples.append(clock() - start)
        return handle_samples

    handle_samples = asyncio.run(all_passes())
    figures["handle"] = latency_summary(handle_samples)
    figures["handle_samples_ms"] = _ms(handle_samples)
    if args.get("relevance"):
        judged = load_relevance(Path(args["relevance"]))

        def urls(text: str) -> list[tuple[str, ...]]:
            hits = core.index.search(text, page=1, per_page=PER_PAGE).hits
            return [tuple(filter(None, [h.entry.url, *(link.url for link in h.entry.links)])) for h in hits]

        figures["relevance"] = hit_at_5(judged, urls)
    try:
        from benchmarks.webbench import web_search

        figures["web"] = web_search(core, queries, passes, warmup)
    except ImportError:  # medbot installed without the [web] extra
        figures["web"] = None
    if args.get("sets"):
        figures["relevance_sets"] = relevance_figures(core.index, args["sets"], PER_PAGE)
    figures["peak_rss_query_mb"] = peak_rss_mb()
    core.close()
    return figures


def baseline(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.baselines import Fts5Engine, WhooshDefaultEngine

    with open(args["entries"], "rb") as handle:
        entries = pickle.load(handle)
    work = Path(args["work_dir"])
    work.mkdir(parents=True, exist_ok=True)
    engine = Fts5Engine(work / "fts5.sqlite3") if args["engine"] == "sqlite-fts5" else WhooshDefaultEngine(work / "whoosh")
    figures: dict[str, Any] = {"index_s": round(timed(lambda: engine.build(entries)), 3), "index_bytes": engine.size_bytes()}
    figures["peak_rss_build_mb"] = peak_rss_mb()
    queries = load_queries(Path(args["queries"]))

    def search(item: object) -> object:
        assert isinstance(item, BenchQuery)
        return engine.search(item.text, item.page, PER_PAGE)

    first = time_each(queries, search, 1, warmup=False)
    figures["search_first_pass"] = latency_summary(first)
    samples = time_each(queries, search, int(args["passes"]), warmup=False)
    figures["search"] = latency_summary(samples)
    figures["search_samples_ms"] = _ms(samples)
    if args.get("relevance"):
        judged = load_relevance(Path(args["relevance"]))
        figures["relevance"] = hit_at_5(judged, lambda text: engine.search(text, 1, PER_PAGE))
    for name, path in (args.get("sets") or {}).items():
        found = hit_at_5(load_relevance(Path(path)), lambda text: engine.search(text, 1, PER_PAGE))
        figures.setdefault("relevance_sets", {})[name] = {"lexical": found}
    figures["peak_rss_query_mb"] = peak_rss_mb()
    engine.close()
    return figures


def _bundled_relevance(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.semantic_phases import bundled_relevance

    return bundled_relevance(args)


def _ms(samples: list[float]) -> list[float]:
    return [round(s * 1000.0, 3) for s in samples]


def _slowest(queries: list[BenchQuery], samples: list[float], passes: int, count: int = 5) -> list[dict[str, Any]]:
    """The queries with the worst median time: where the tail comes from."""
    per_query: list[tuple[float, BenchQuery]] = []
    for number, query in enumerate(queries):
        times = sorted(samples[number + k * len(queries)] for k in range(passes))
        per_query.append((times[len(times) // 2], query))
    per_query.sort(key=lambda item: item[0], reverse=True)
    return [{"query": q.text, "page": q.page, "ms": round(t * 1000, 2)} for t, q in per_query[:count]]


def diff_phase(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.phases import diff_large_list

    return diff_large_list(int(args["entries"]), int(args["repetitions"]))


def poll_phase(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.pollbench import poll_sources

    return poll_sources(int(args["sources"]))


def delivery_phase(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.deliverybench import delivery_phase as run

    return run(args)


PHASES = {
    "medbot-build": medbot_build,
    "medbot-query": medbot_query,
    "baseline": baseline,
    "bundled-relevance": _bundled_relevance,
    "diff": diff_phase,
    "poll": poll_phase,
    "delivery": delivery_phase,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in PHASES:
        print(f"usage: python -m benchmarks.worker {{{','.join(PHASES)}}} ARGS_JSON", file=sys.stderr)
        return 2
    figures = PHASES[argv[0]](json.loads(argv[1]))
    sys.stdout.flush()
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
