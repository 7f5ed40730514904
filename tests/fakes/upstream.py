"""A fake upstream for the watcher: successive versions of lists, with faults on demand.

An aiohttp server on 127.0.0.1 (port 0) serving ``/<name>.md`` like raw.githubusercontent
does: ``text/plain``, an ``ETag`` and ``Last-Modified`` per version, 304 to a matching
conditional GET. ``fault(mode)`` makes the next request(s) misbehave the ways real
upstreams do: 404, 500, 429 with Retry-After (seconds or an HTTP-date; 503 too), a hang
(timeout), an HTML error page (as text/html, or as text/plain), a body cut short of its
Content-Length, a 50 MB body, a close-delimited body (no Content-Length, the connection
closed at the end) cut at 70%, the list in GBK or UTF-16 under a wrong or missing
charset, one invalid byte inside a URL, and a redirect to another host (a second server,
``elsewhere``, on 127.0.0.2). ``fault(name, "cut-at", at=n)`` serves a file the server
itself holds cut at byte ``n``, whole by every HTTP measure. ``HARMLESS`` modes are
unusual but sound (a close-delimited body, UTF-16 declared as such, a same-host redirect).
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

__all__ = ["FAULTS", "HARMLESS", "FakeUpstream", "Request"]

FAULTS = (
    "404", "500", "429", "timeout", "html", "html-as-text", "truncated", "huge", "huge-declared", "empty",
    "429-date", "503-date", "close-delimited-cut", "gbk", "gbk-as-utf8", "utf-16", "utf-16-no-bom", "invalid-byte",
    "redirect-away",
)
"""Each makes one poll fail: nothing of that response may be believed."""

HARMLESS = ("close-delimited", "close-delimited-hashed", "utf-16-declared", "redirect-here")
"""Odd but sound responses: the version they carry is the real one."""

RETRY_AFTER = timedelta(hours=2)
"""What ``429-date`` and ``503-date`` ask for, as an HTTP-date that far after their Date header."""

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


@dataclass(frozen=True, slots=True)
class _Fault:
    mode: str
    at: int | None = None


@dataclass
class FakeUpstream:
    """``async with FakeUpstream() as upstream: upstream.publish("list", text)``."""

    huge_bytes: int = 50 * 1024 * 1024
    requests: list[Request] = field(default_factory=list)
    root_url: str = ""
    elsewhere_url: str = ""
    _lists: dict[str, _List] = field(default_factory=dict)
    _elsewhere: dict[str, str] = field(default_factory=dict)
    _faults: dict[str, list[_Fault]] = field(default_factory=dict)
    _clock: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    stalling: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a request is hanging in ``timeout`` mode (the client is waiting on it now)."""
    _runner: web.AppRunner | None = None
    _elsewhere_runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{name}.md", self._serve)
        self._runner, self.root_url = await serve_on_loopback(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._start_elsewhere()
        return self.root_url

    async def _start_elsewhere(self) -> None:
        """Another host: 127.0.0.2 (all of 127/8 is loopback on Linux), else "localhost"."""
        app = web.Application()
        app.router.add_get("/{name}.md", self._serve_elsewhere)
        self._elsewhere_runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._elsewhere_runner.setup()
        for host, name in (("127.0.0.2", "127.0.0.2"), ("127.0.0.1", "localhost")):
            site = web.TCPSite(self._elsewhere_runner, host, 0)
            try:
                await site.start()
            except OSError:
                continue
            server = site._server
            assert server is not None
            port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.elsewhere_url = f"http://{name}:{port}"
            return

    @property
    def elsewhere_host(self) -> str:
        return self.elsewhere_url.split("//", 1)[1].rsplit(":", 1)[0]

    async def stop(self) -> None:
        self._release.set()
        for runner in (self._runner, self._elsewhere_runner):
            if runner is not None:
                await runner.cleanup()

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

    def publish_elsewhere(self, name: str, text: str) -> None:
        """What the other host serves for ``name`` (a hijacked copy, a mirror)."""
        self._elsewhere[name] = text

    def fault(self, name: str, mode: str, times: int = 1, *, at: int | None = None) -> None:
        """The next ``times`` requests for ``name`` misbehave as ``mode`` (``FAULTS``, ``HARMLESS`` or "cut-at")."""
        assert mode in (*FAULTS, *HARMLESS, "cut-at"), mode
        assert (mode == "cut-at") == (at is not None), "cut-at, and only cut-at, takes an offset"
        self._faults.setdefault(name, []).extend([_Fault(mode, at)] * times)

    def statuses(self, name: str) -> list[int]:
        return [r.status for r in self.requests if r.path == f"/{name}.md"]

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        faults = self._faults.get(name)
        fault = faults.pop(0) if faults else _Fault("")
        response = await self._respond(request, name, fault.mode or None, fault.at)
        self.requests.append(
            Request(request.path, request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"), response.status)
        )
        return response

    async def _serve_elsewhere(self, request: web.Request) -> web.StreamResponse:
        text = self._elsewhere.get(request.match_info["name"])
        if text is None:
            return web.Response(status=404, text="404: Not Found")
        return web.Response(status=200, text=text, content_type="text/plain", charset="utf-8")

    async def _respond(self, request: web.Request, name: str, mode: str | None, at: int | None = None) -> web.StreamResponse:
        current = self._lists.get(name)
        if mode == "404" or current is None:
            return web.Response(status=404, text="404: Not Found")
        if mode == "500":
            return web.Response(status=500, text="500: Internal Server Error")
        if mode == "429":
            return web.Response(status=429, text="slow down", headers={"Retry-After": "120"})
        if mode in {"429-date", "503-date"}:
            return web.Response(status=int(mode[:3]), text="come back later", headers={
                "Date": format_datetime(self._clock, usegmt=True),
                "Retry-After": format_datetime(self._clock + RETRY_AFTER, usegmt=True),
            })
        if mode in {"close-delimited-cut", "close-delimited", "close-delimited-hashed"}:
            return await self._close_delimited(request, current, mode)
        if mode == "cut-at":
            assert at is not None
            return self._body(current.text.encode("utf-8")[:at], "text/plain; charset=utf-8", own_version=True)
        if mode in {"gbk", "gbk-as-utf8"}:
            content_type = "text/plain" if mode == "gbk" else "text/plain; charset=utf-8"
            return self._body(current.text.encode("gbk"), content_type, current)
        if mode in {"utf-16", "utf-16-declared"}:
            content_type = "text/plain; charset=utf-8" if mode == "utf-16" else "text/plain; charset=utf-16"
            return self._body(current.text.encode("utf-16"), content_type, current)
        if mode == "utf-16-no-bom":
            return self._body(current.text.encode("utf-16-le"), "text/plain", current)
        if mode == "invalid-byte":
            return self._body(_damage_a_url(current.text.encode("utf-8")), "text/plain; charset=utf-8", current)
        if mode == "redirect-away":
            return web.Response(status=302, headers={"Location": f"{self.elsewhere_url}/{name}.md"})
        if mode == "redirect-here":
            return web.Response(status=301, headers={"Location": f"/{name}.md?moved=1"})
        if mode == "timeout":
            self.stalling.set()
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

    def _body(self, body: bytes, content_type: str, version: _List | None = None, *, own_version: bool = False) -> web.Response:
        """Bytes as given, with a right Content-Length: the damage is in the file, not the transfer."""
        if own_version:  # a cut file on the server is a version of its own, with its own validators
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            version = _List("", etag, format_datetime(self._clock + timedelta(minutes=1), usegmt=True))
        assert version is not None
        response = web.Response(status=200, body=body, headers={"ETag": version.etag, "Last-Modified": version.last_modified})
        response.headers["Content-Type"] = content_type
        return response

    async def _close_delimited(self, request: web.Request, current: _List, mode: str) -> web.StreamResponse:
        """No Content-Length, no chunks: the body ends when the server closes the connection.

        aiohttp would chunk such a response, so the bytes go straight to the socket, the way
        an old proxy or a hand-written server answers. ``-cut`` hangs up at 70%.
        """
        body = current.text.encode("utf-8")
        etag = f'"{hashlib.sha256(body).hexdigest()}"' if mode == "close-delimited-hashed" else current.etag
        if mode == "close-delimited-cut":
            body = body[: len(body) * 7 // 10]
        head = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                f"ETag: {etag}\r\nLast-Modified: {current.last_modified}\r\n\r\n")
        assert request.transport is not None
        request.transport.write(head.encode("ascii") + body)
        request.transport.close()
        return web.Response(status=200)  # never sent: the connection is gone

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


def _damage_a_url(body: bytes) -> bytes:
    """One byte inside the first link after the middle of the list becomes 0xFF (never UTF-8)."""
    link = body.index(b"](https://", len(body) // 2)
    damaged = bytearray(body)
    damaged[link + 14] = 0xFF
    return bytes(damaged)
