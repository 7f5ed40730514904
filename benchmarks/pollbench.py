"""One watcher poll over many sources served from a loopback HTTP server, mostly 304.

A child process serves ``/list/N.md`` on 127.0.0.1 (port 0) with ETags, answering 304
to a matching ``If-None-Match``. The first poll takes the baselines (repeated until every
source has one); then one list in a hundred gains an entry upstream, and the timed poll
is a watcher's steady state: a thousand conditional GETs, a few changed lists parsed and
diffed, their new entries logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.corpus import REPO, generate_list, new_entry_line

__all__ = ["poll_sources", "serve"]

CHANGED_EVERY = 100
ENTRIES_PER_LIST = 20


def _versions(number: int) -> tuple[bytes, bytes]:
    first = generate_list(ENTRIES_PER_LIST, seed=number, name=f"polled{number}")
    second = first + new_entry_line(number) + "\n" if number % CHANGED_EVERY == 0 else first
    return first.encode("utf-8"), second.encode("utf-8")


def serve(count: int) -> None:
    """Serve ``count`` lists until stdin closes; print the port first."""
    bumped = threading.Event()
    bodies = {number: _versions(number) for number in range(count)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/bump":  # the upstream commit: some lists gain an entry
                bumped.set()
                self._answer(200, b"bumped")
                return
            name = self.path.rsplit("/", 1)[-1].removesuffix(".md")
            if not name.isdigit() or int(name) not in bodies:
                self._answer(404, b"not found")
                return
            number = int(name)
            body = bodies[number][1 if bumped.is_set() else 0]
            etag = '"' + hashlib.blake2s(body, digest_size=8).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                self._answer(304, b"", etag)
            else:
                self._answer(200, body, etag)

        def _answer(self, status: int, body: bytes, etag: str | None = None) -> None:
            self.send_response(status)
            if etag:
                self.send_header("ETag", etag)
            if status != 304:
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
            return

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # the default backlog of 5 drops a watcher's burst of connects

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


def poll_sources(count: int) -> dict[str, Any]:
    """Figures of one steady-state poll over ``count`` sources."""
    import httpx

    from benchmarks.phases import child_env
    from bot.core.config import Settings, SourceConfig
    from bot.store.sqlite import Store
    from bot.watch.poll import poll_once

    server = subprocess.Popen([sys.executable, "-m", "benchmarks.pollbench", "serve", str(count)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=child_env(), cwd=REPO, text=True)
    assert server.stdout is not None and server.stdin is not None
    try:
        port = int(server.stdout.readline())
        with tempfile.TemporaryDirectory(prefix="medbot-poll-") as scratch:
            sources = tuple(SourceConfig(name=f"list{n}", url=f"http://127.0.0.1:{port}/list/{n}.md") for n in range(count))
            settings = Settings(sources=sources, data_dir=Path(scratch))
            store = Store(Path(scratch) / "state.sqlite3")
            quiet = logging.getLogger("bot")
            level = quiet.level
            quiet.setLevel(logging.CRITICAL)  # failures are counted in the figures, not logged one by one
            try:
                return asyncio.run(_polls(store, settings, poll_once, httpx, f"http://127.0.0.1:{port}"))
            finally:
                quiet.setLevel(level)
                store.close()
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def _polls(store: Any, settings: Any, poll_once: Any, httpx: Any, base: str) -> dict[str, Any]:
    """First polls until every source has its baseline, then one upstream change, then the timed poll."""
    async with httpx.AsyncClient(timeout=settings.watch.timeout, follow_redirects=True) as client:
        started = time.perf_counter()
        first = await poll_once(store, settings, client, force=True)
        first_s = time.perf_counter() - started
        first_failed = sum(1 for source in first.sources if source.outcome == "failed")
        failed, baseline_polls = first_failed, 1
        while failed and baseline_polls < 4:  # sources that failed get their baseline now
            again = await poll_once(store, settings, client, force=True)
            failed, baseline_polls = sum(1 for source in again.sources if source.outcome == "failed"), baseline_polls + 1
        await client.get(f"{base}/bump")
        started = time.perf_counter()
        steady = await poll_once(store, settings, client, force=True)
        poll_s = time.perf_counter() - started
    outcomes = [source.outcome for source in steady.sources]
    return {
        "sources": len(settings.sources),
        "first_poll_s": round(first_s, 3),
        "first_poll_failed": first_failed,
        "baseline_polls": baseline_polls,
        "poll_s": round(poll_s, 3),
        "not_modified": outcomes.count("unchanged"),
        "changed": sum(outcome in {"changed", "held", "confirmed"} for outcome in outcomes),
        "failed": outcomes.count("failed"),
        "other": sum(outcome not in {"unchanged", "changed", "held", "confirmed", "failed"} for outcome in outcomes),
        "new_entries": len(steady.new_entries),
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        print("usage: python -m benchmarks.pollbench serve COUNT", file=sys.stderr)
        sys.exit(2)
