"""Figures into words: targets met or missed, ratios against the baselines, a chart.

Pure functions over the figures dict that ``benchmarks.run`` assembles, except
``draw_chart``, which writes a PNG when matplotlib is installed (an optional,
bench-time dependency) and otherwise says why it did not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["TARGETS", "check_targets", "draw_chart", "format_table", "ratios"]

# (name, figure path, limit, unit): a figure meets its target when it is <= the limit.
TARGETS: tuple[tuple[str, str, float, str], ...] = (
    ("query p50 through core.handle", "handle.p50_ms", 5.0, "ms"),
    ("query p99 through core.handle", "handle.p99_ms", 25.0, "ms"),
    ("full build (parse + index)", "build_s", 15.0, "s"),
    ("one changed list re-indexed", "incremental_s", 1.0, "s"),
    ("cold start to first answer", "cold_start.first_answer_s", 1.0, "s"),
    ("peak RSS (build and query)", "peak_rss_mb", 250.0, "MB"),
    ("web /search p50 server time", "web.server.p50_ms", 20.0, "ms"),
)

BASELINES = ("sqlite-fts5", "whoosh-defaults")


def lookup(figures: dict[str, Any], dotted: str) -> Any:
    value: Any = figures
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


# Checked when the bench ran with a sentence model (search.model other than none).
HYBRID_TARGETS: tuple[tuple[str, str, float, str], ...] = (
    ("hybrid: query p50 through core.handle", "hybrid.handle.p50_ms", 15.0, "ms"),
    ("hybrid: query p99 through core.handle", "hybrid.handle.p99_ms", 50.0, "ms"),
    ("hybrid: first pass p99, fresh process", "hybrid.search_first_pass.p99_ms", 50.0, "ms"),
    ("first full embedding of the haystack", "embedding.embed_first_s", 120.0, "s"),
    ("rebuild with cached vectors", "embedding.rebuild_cached_s", 20.0, "s"),
    ("peak RSS of serve with the model", "hybrid.peak_rss_query_mb", 400.0, "MB"),
)


def check_targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    targets = TARGETS + (HYBRID_TARGETS if figures.get("hybrid") else ())
    for name, path, limit, unit in targets:
        value = lookup(figures, path)
        rows.append({"target": name, "figure": path, "limit": limit, "unit": unit, "value": value,
                     "met": None if value is None else bool(value <= limit)})
    return rows


def _ratio(mine: Any, theirs: Any) -> float | None:
    if not isinstance(mine, (int, float)) or not isinstance(theirs, (int, float)) or theirs <= 0:
        return None
    return round(mine / theirs, 3)


def ratios(figures: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """medbot / baseline for build, size and search percentiles (below 1: medbot is better)."""
    result: dict[str, dict[str, float | None]] = {}
    for name in BASELINES:
        base = figures.get("baselines", {}).get(name)
        if not base:
            continue
        row = {
            "build_s": _ratio(figures.get("build_s"), base.get("build_s")),
            "index_bytes": _ratio(figures.get("index_bytes"), base.get("index_bytes")),
        }
        for pct in ("p50_ms", "p95_ms", "p99_ms"):
            row[f"search_{pct}"] = _ratio(lookup(figures, f"search.{pct}"), lookup(base, f"search.{pct}"))
        for pct in ("p50_ms", "p99_ms"):
            row[f"first_pass_{pct}"] = _ratio(lookup(figures, f"search_first_pass.{pct}"), lookup(base, f"search_first_pass.{pct}"))
        row["peak_rss_mb"] = _ratio(figures.get("peak_rss_mb"), base.get("peak_rss_mb"))
        result[name] = row
    return result


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _mb(value: Any) -> str:
    return "—" if not isinstance(value, (int, float)) else f"{value / 1e6:.1f}"


def format_table(figures: dict[str, Any]) -> str:
    """The text form of ``medbot bench``: targets, then the engines side by side."""
    corpus = figures.get("corpus", {})
    out = [
        f"medbot bench — {corpus.get('lists')} lists, {corpus.get('entries')} entries parsed, "
        f"{figures.get('indexed_entries')} indexed; {figures.get('queries')} queries × {figures.get('passes')} passes",
        f"corpus: {corpus.get('dir')}",
        f"machine: {figures.get('machine', {}).get('summary', '')}",
        "",
        f"{'target':34} {'value':>10} {'limit':>8}  met",
    ]
    for row in figures.get("targets", []):
        out.append(f"{row['target']:34} {_fmt(row['value'], 3):>10} {_fmt(row['limit'], 0):>8}  {_fmt(row['met'])}  ({row['unit']})")
    out += ["", f"{'engine':18} {'build s':>8} {'index MB':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'hit@5':>6} {'RSS MB':>7}"]
    engines = [("medbot", figures), ("medbot handle", {"search": figures.get("handle", {})}),
               ("medbot 1st pass", {"search": figures.get("search_first_pass", {})})]
    hybrid = figures.get("hybrid") or {}
    if hybrid:
        engines += [("hybrid", hybrid), ("hybrid handle", {"search": hybrid.get("handle", {})}),
                    ("hybrid 1st pass", {"search": hybrid.get("search_first_pass", {})})]
    engines += [(name, figures.get("baselines", {}).get(name) or {}) for name in BASELINES]
    for name, data in engines:
        out.append(
            f"{name:18} {_fmt(data.get('build_s')):>8} {_mb(data.get('index_bytes')):>9} "
            f"{_fmt(lookup(data, 'search.p50_ms')):>8} {_fmt(lookup(data, 'search.p95_ms')):>8} "
            f"{_fmt(lookup(data, 'search.p99_ms')):>8} {_fmt(lookup(data, 'relevance.hit_at_5'), 3):>6} "
            f"{_fmt(data.get('peak_rss_mb'), 0):>7}"
        )
    out += ["", "medbot / baseline (below 1 is better for medbot):"]
    for name, row in figures.get("ratios", {}).items():
        out.append(f"  {name:16} " + "  ".join(f"{key}={_fmt(value, 2)}" for key, value in row.items()))
    other = [
        ("parse all lists", figures.get("parse_s"), "s"),
        ("one changed list (largest list)", figures.get("incremental_largest_s"), "s"),
        ("python interpreter start", lookup(figures, "cold_start.python_startup_s"), "s"),
        ("diff of a 5,000-entry list", lookup(figures, "diff.diff_s"), "s"),
        ("watcher poll of all sources", lookup(figures, "poll.poll_s"), "s"),
        ("watcher first poll (baselines)", lookup(figures, "poll.first_poll_s"), "s"),
        ("delivery, 1 worker (PostgreSQL)", lookup(figures, "delivery.workers_1.msgs_per_s"), "msg/s"),
        ("delivery, 3 workers (PostgreSQL)", lookup(figures, "delivery.workers_3.msgs_per_s"), "msg/s"),
        ("peak RSS, build process", figures.get("peak_rss_build_mb"), "MB"),
        ("peak RSS, build's largest child", figures.get("peak_rss_build_child_mb"), "MB"),
        ("peak RSS, query process", figures.get("peak_rss_query_mb"), "MB"),
        ("peak RSS, cold `medbot search`", figures.get("peak_rss_cold_start_mb"), "MB"),
        ("peak RSS, build + embedding", figures.get("peak_rss_embed_mb"), "MB"),
        ("hybrid: vectors ready after warm", lookup(figures, "hybrid.semantic_ready_s"), "s"),
        ("embedded texts: first / rebuild", f"{lookup(figures, 'embedding.embedded_first')} / "
         f"{lookup(figures, 'embedding.embedded_on_rebuild')}", ""),
        ("added 1,000-entry list: embedded", lookup(figures, "embedding.embedded_on_add"), "texts"),
        ("added 1,000-entry list: sync+embed", lookup(figures, "embedding.add_list_s"), "s"),
    ]
    out += ["", "other figures:"]
    out += [f"  {label:34} {_fmt(value, 4):>10} {unit}" for label, value, unit in other]
    out += [f"  poll: {lookup(figures, 'poll.sources')} sources, {lookup(figures, 'poll.not_modified')} not modified"]
    out += _relevance_table(figures)
    slow = figures.get("slowest_queries") or []
    if slow:
        out += ["", "slowest queries (medbot search, median ms): " + "; ".join(f"{q['query']!r} p{q['page']} {q['ms']}" for q in slow)]
    for note in figures.get("notes", []):
        out.append(f"note: {note}")
    if figures.get("chart"):
        out.append(f"chart: {figures['chart']}")
    return "\n".join(out)


def _relevance_table(figures: dict[str, Any]) -> list[str]:
    """hit@5 / MRR per group, per relevance set, per engine, bundled and haystack."""
    out: list[str] = []
    places = (("haystack", figures.get("relevance_sets") or {}), ("bundled", figures.get("relevance_bundled") or {}))
    for place, engines in places:
        for engine, sets in engines.items():
            for set_name, modes in (sets or {}).items():
                for mode, summary in modes.items():
                    groups = sorted(key.removeprefix("hit_at_5_") for key in summary if key.startswith("hit_at_5_"))
                    cells = " ".join(f"{g}={summary[f'hit_at_5_{g}']:.2f}/{summary[f'mrr_{g}']:.2f}" for g in groups)
                    out.append(f"  {place:8} {set_name:6} {engine + ' ' + mode:24} all={summary['hit_at_5']:.3f}/"
                               f"{summary['mrr']:.3f}  {cells}")
    return ["", "relevance (hit@5/MRR):", *out] if out else []


def draw_chart(samples_ms: dict[str, list[float]], path: Path) -> str | None:
    """A latency distribution per engine (empirical CDF, log scale); None when skipped."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    for name, values in samples_ms.items():
        if not values:
            continue
        ordered = sorted(values)
        share = [(number + 1) / len(ordered) * 100 for number in range(len(ordered))]
        axis.plot(ordered, share, label=f"{name} (p50 {ordered[len(ordered) // 2]:.1f} ms)")
    axis.set_xscale("log")
    axis.set_xlabel("latency per query, ms (log scale)")
    axis.set_ylabel("queries answered within, %")
    for limit, label in ((5, "p50 target"), (25, "p99 target")):
        axis.axvline(limit, color="black", linewidth=0.7, linestyle="--")
        axis.text(limit * 1.08, 55, label, fontsize=7, rotation=90)
    axis.axhline(99, color="grey", linewidth=0.6, linestyle=":")
    axis.axhline(50, color="grey", linewidth=0.6, linestyle=":")
    axis.set_title("medbot bench: query latency per engine (same queries, same run)")
    axis.grid(True, which="both", linewidth=0.3)
    axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return str(path)
