"""Small measuring helpers: percentiles, peak memory, and a timing loop.

On a shared two-core machine single numbers lie; every figure is a median or a
percentile over many samples, and comparisons are ratios taken within one run.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence

__all__ = ["latency_summary", "peak_rss_mb", "percentile", "time_each", "timed"]


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile by linear interpolation (numpy's default method)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(samples_s: Sequence[float]) -> dict[str, float | int]:
    """p50/p95/p99/mean/max in milliseconds over timing samples given in seconds."""
    ms = [s * 1000.0 for s in samples_s]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(max(ms), 3),
    }


def peak_rss_mb(children: bool = False) -> float:
    """This process's peak resident set size so far, in MiB (or its largest child's)."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def timed(work: Callable[[], object]) -> float:
    """Seconds one call of ``work`` takes (perf_counter, wall clock)."""
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def time_each(items: Sequence[object], work: Callable[[object], object], passes: int, warmup: bool = True) -> list[float]:
    """Per-call seconds of ``work`` over ``items``, ``passes`` times (after one untimed pass).

    The warm-up pass fills caches the way a running bot has them filled; the timed passes
    then give many samples per engine for the percentiles.
    """
    if warmup:
        for item in items:
            work(item)
    samples: list[float] = []
    clock = time.perf_counter
    for _ in range(passes):
        for item in items:
            start = clock()
            work(item)
            samples.append(clock() - start)
    return samples
