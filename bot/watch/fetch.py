"""Fetching one version of a list, politely and suspiciously.

A URL is read with a conditional GET (ETag, Last-Modified), a per-read timeout and an
overall deadline, streamed under a size cap; a local file by modification time. Anything
that is not plainly a new Markdown text (an error status, an HTML page, a body shorter
than its Content-Length, an empty body) raises ``FetchFailed``: the watcher then keeps
its last good snapshot and counts a failure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ["USER_AGENT", "FetchFailed", "Fetched", "check_text", "fetch_url", "read_path"]

USER_AGENT = "medbot-watcher/0.1 (awesome-list announcements)"
_ACCEPTED_TYPES = ("text/plain", "text/markdown", "text/x-markdown", "application/octet-stream", "binary/octet-stream")


class FetchFailed(Exception):
    """This poll of a source failed; the message says why, for logs and the operator."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful fetch: new text, or ``text=None`` when the server said 304."""

    text: str | None
    etag: str | None = None
    last_modified: str | None = None
    mtime: float | None = None


def _decode(data: bytes) -> str:
    return data.decode("utf-8-sig", errors="replace").replace("\x00", "")


async def fetch_url(
    client: httpx.AsyncClient, url: str, *, etag: str | None, last_modified: str | None, timeout: float, max_bytes: int
) -> Fetched:
    """Conditional GET with a size cap, streamed; raises ``FetchFailed`` on anything odd."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/markdown, text/plain;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(timeout * 3):  # the per-read timeout is httpx's; this bounds a trickle
            async with client.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as response:
                if response.status_code == 304:
                    return Fetched(None, etag, last_modified)
                if response.status_code != 200:
                    raise FetchFailed(f"HTTP {response.status_code}", _retry_after(response))
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if content_type and (content_type not in _ACCEPTED_TYPES and not content_type.startswith("text/")
                                     or "html" in content_type):
                    raise FetchFailed(f"unexpected content type {content_type!r}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchFailed(f"too large ({int(declared)} bytes, limit {max_bytes})")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > max_bytes:
                        raise FetchFailed(f"too large (over {max_bytes} bytes)")
                if declared and declared.isdigit() and response.num_bytes_downloaded != int(declared):
                    raise FetchFailed(f"truncated body ({response.num_bytes_downloaded} of {declared} bytes)")
                new_etag = response.headers.get("etag")
                new_modified = response.headers.get("last-modified")
    except TimeoutError:
        raise FetchFailed("timed out") from None
    except httpx.TimeoutException:
        raise FetchFailed("timed out") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
    return Fetched(_decode(bytes(body)), new_etag, new_modified)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def read_path(path: Path, known_mtime: float | None, max_bytes: int) -> Fetched:
    """A local list: unchanged (text None) when its modification time is the one we know."""
    try:
        stat = path.stat()
        if known_mtime is not None and stat.st_mtime == known_mtime:
            return Fetched(None, mtime=stat.st_mtime)
        if stat.st_size > max_bytes:
            raise FetchFailed(f"too large ({stat.st_size} bytes, limit {max_bytes})")
        return Fetched(_decode(path.read_bytes()), mtime=stat.st_mtime)
    except OSError as exc:
        raise FetchFailed(f"cannot read {path}: {exc.strerror or exc}") from None


def check_text(text: str) -> None:
    """Reject what is certainly not a new version of a Markdown list."""
    head = text.lstrip()[:512].lower()
    if not head:
        raise FetchFailed("empty body")
    if head.startswith(("<!doctype html", "<html", "<?xml")) or ("<head" in head and "<body" in head):
        raise FetchFailed("an HTML page, not a Markdown list")


