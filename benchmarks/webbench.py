"""The web phase of ``medbot bench``: ``/search`` pages served by ``medbot web``'s app.

The site runs on a loopback port in this process (as ``medbot web`` runs it) and an
aiohttp client asks the query set as ``/search?q=...&page=N``, 10 results a page. Two
figures per request: the server time the app reports in its ``Server-Timing`` header
(from the request reaching the handler to the page rendered) and the client's round
trip, which adds HTTP over loopback.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks.corpus import BenchQuery
from benchmarks.stats import latency_summary

__all__ = ["web_search"]


def _server_ms(header: str) -> float:
    """``app;dur=1.23`` -> 1.23."""
    for part in header.split(";"):
        if part.strip().startswith("dur="):
            return float(part.strip()[4:])
    raise ValueError(f"no dur in Server-Timing {header!r}")


async def _run(core: Any, queries: list[BenchQuery], passes: int, warmup: bool) -> dict[str, Any]:
    import aiohttp

    from adapters.web.server import start_site

    runner, port = await start_site(core, "127.0.0.1", 0)
    server: list[float] = []
    round_trip: list[float] = []
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:

            async def one(query: BenchQuery) -> tuple[float, float]:
                started = time.perf_counter()
                async with session.get("/search", params={"q": query.text, "page": str(query.page)}) as response:
                    await response.read()
                    assert response.status == 200, (query, response.status)
                    return _server_ms(response.headers["Server-Timing"]) / 1000.0, time.perf_counter() - started

            for query in queries if warmup else ():
                await one(query)
            for _ in range(passes):
                for query in queries:
                    app_s, total_s = await one(query)
                    server.append(app_s)
                    round_trip.append(total_s)
    finally:
        await runner.cleanup()
    return {"server": latency_summary(server), "round_trip": latency_summary(round_trip), "per_page": 10}


def web_search(core: Any, queries: list[BenchQuery], passes: int, warmup: bool = True) -> dict[str, Any]:
    """Figures for the query set through the web page (``web.server`` and ``web.round_trip``)."""
    return asyncio.run(_run(core, queries, passes, warmup))
