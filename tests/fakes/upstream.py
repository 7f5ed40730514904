"""A fake upstream for the watcher: successive versions of lists, with faults on demand.

An aiohttp server on 127.0.0.1 (port 0) serving ``/<name>.md`` like raw.githubusercontent
does: ``text/plain``, an ``ETag`` and ``Last-Modified`` per version, 304 to a matching
conditional GET. ``fault(mode)`` makes the next request(s) misbehave the ways real
upstreams do: 404, 500, 429 with Retry-After, a hang (timeout), an HTML error page (as
text/html, or as text/plain), a body cut short of its Content-Length, and a 50 MB body.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Self

from aiohttp import web

from tests.fakes.loopback import serve_on_loopback

__all__ = ["FAULTS", "FakeUpstream", "Request"]

FAULTS = ("404", "500", "429", "timeout", "html", "html-as-text", "truncated", "huge", "huge-declared", "empty")

ERROR_PAGE = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><h1>Bad Gateway</h1><p>The upstream server returned an invalid response.</p>
<ul><li><a href="https://status.example.org">Status page</a></li></ul></body></html>
"""


@dataclass(frozen=True, slots=True)
class Request:
    """One request the watcher made, and what it got."""

    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int


@dataclass
class _List:
    text: str
    etag: str
    last_modified: str


@dataclass
class FakeUpstream:
    """``async with FakeUpstream() as upstream: upstream.publish("list", text)``."""

    huge_bytes: int = 50 * 1024 * 1024
    requests: list[Request] = field(default_factory=list)
    root_url: str = ""
    _lists: dict[str, _List] = field(default_factory=dict)
    _faults: dict[str, list[str]] = field(default_factory=dict)
    _clock: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{name}.md", self._serve)
        self._runner, self.root_url = await serve_on_loopback(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        return self.root_url

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def url(self, name: str) -> str:
        return f"{self.root_url}/{name}.md"

    def publish(self, name: str, text: str) -> None:
        """A new version of a list (a commit upstream): new ETag, later Last-Modified."""
        self._clock += timedelta(minutes=5)
        etag = '"' + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16] + '"'
        self._lists[name] = _List(text, etag, format_datetime(self._clock, usegmt=True))

    def fault(self, name: str, mode: str, times: int = 1) -> None:
        """The next ``times`` requests for ``name`` misbehave as ``mode`` (one of ``FAULTS``)."""
        assert mode in FAULTS, mode
        self._faults.setdefault(name, []).extend([mode] * times)

    def statuses(self, name: str) -> list[int]:
        return [r.status for r in self.requests if r.path == f"/{name}.md"]

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        faults = self._faults.get(name)
        mode = faults.pop(0) if faults else None
        response = await self._respond(request, name, mode)
        self.requests.append(
            Request(request.path, request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"), response.status)
        )
        return response

    async def _respond(self, request: web.Request, name: str, mode: str | None) -> web.StreamResponse:
        current = self._lists.get(name)
        if mode == "404" or current is None:
            return web.Response(status=404, text="404: Not Found")
        if mode == "500":
            return web.Response(status=500, text="500: Internal Server Error")
        if mode == "429":
            return web.Response(status=429, text="slow down", headers={"Retry-After": "120"})
        if mode == "timeout":
            await self._release.wait()
            return web.Response(status=504, text="too late")
        if mode == "html":
            return web.Response(status=200, text=ERROR_PAGE, content_type="text/html")
        if mode == "html-as-text":
            return web.Response(status=200, text=ERROR_PAGE, content_type="text/plain")
        if mode == "empty":
            return web.Response(status=200, text="", content_type="text/plain")
        if mode == "truncated":
            return await self._truncated(request, current.text)
        if mode in {"huge", "huge-declared"}:
            return await self._huge(request, current.text, declared=mode == "huge-declared")
        if request.headers.get("If-None-Match") == current.etag or request.headers.get("If-Modified-Since") == current.last_modified:
            return web.Response(status=304, headers={"ETag": current.etag, "Last-Modified": current.last_modified})
        return web.Response(
            status=200, text=current.text, content_type="text/plain", charset="utf-8",
            headers={"ETag": current.etag, "Last-Modified": current.last_modified},
        )

    async def _truncated(self, request: web.Request, text: str) -> web.StreamResponse:
        """Promise the whole body, send a third of it, hang up (a dropped connection)."""
        body = text.encode("utf-8")
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain; charset=utf-8"})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 3])
        assert request.transport is not None
        request.transport.close()
        return response

    async def _huge(self, request: web.Request, text: str, *, declared: bool) -> web.StreamResponse:
        """A list padded to 50 MB (a runaway generator upstream), streamed in chunks."""
        chunk = ("* Padding entry [`link`](https://example.org/pad)\n" * 1300).encode("utf-8")
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain; charset=utf-8"})
        if declared:
            response.content_length = len(text.encode("utf-8")) + self.huge_bytes
        await response.prepare(request)
        sent = 0
        try:
            await response.write(text.encode("utf-8"))
            while sent < self.huge_bytes:
                piece = chunk[: self.huge_bytes - sent]
                await response.write(piece)
                sent += len(piece)
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            pass  # the watcher hung up at its size cap, as it should
        return response
