"""Fetching one version of a list, politely and suspiciously.

A URL is read with a conditional GET (ETag, Last-Modified), a per-read timeout and an
overall deadline, streamed under a size cap; a local file by modification time. Whatever
is not plainly a whole new Markdown text raises ``FetchFailed``: the watcher then keeps
its last good snapshot and counts a failure. "Whole" means three things here:

* **Framed.** A body counts only when its end is known: a matched Content-Length, the
  last chunk of a chunked body (httpx raises without it), an HTTP/2 stream end. A
  close-delimited body (no length; it ends when the server hangs up) looks exactly like
  a dropped connection, so it is taken only when its ETag is a hash of these very bytes
  or a second read brings the same bytes.
* **Decoded strictly.** UTF-8 (a BOM is fine), else the charset the server declares, and
  only if every byte decodes: a replaced character would turn one damaged URL into a
  "new" paper. A body that is mostly UTF-8 stays UTF-8 (damaged) whatever is declared. A UTF-16 body is read only when declared as such (GitHub serves every file
  as ``charset=utf-8``, so there a UTF-16 or GBK file fails rather than being garbled).
* **From where it was asked.** Redirects are followed on the same host (and port; an
  upgrade to https is fine) or to a host in ``watch.redirect_hosts``, never to https->http.

``Retry-After`` on 429 and 503, in seconds or as an HTTP-date, sets the earliest retry.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

__all__ = [
    "USER_AGENT",
    "FetchFailed",
    "Fetched",
    "check_text",
    "decode_body",
    "etag_names_body",
    "fetch_url",
    "may_follow",
    "read_path",
    "retry_after_seconds",
]

USER_AGENT = "medbot-watcher/0.1 (awesome-list announcements)"
_ACCEPTED_TYPES = ("text/plain", "text/markdown", "text/x-markdown", "application/octet-stream", "binary/octet-stream")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WIDE_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


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


@dataclass(frozen=True, slots=True)
class _Download:
    """One response read to its end: a 304, or a 200 body and whether its end was framed."""

    status: int
    body: bytes = b""
    framed: bool = True
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None


# --- decisions (pure) -------------------------------------------------------------------

def decode_body(data: bytes, content_type: str | None) -> str:
    """The text of a body, or ``FetchFailed``: never a replacement character, never a NUL.

    UTF-8 is tried first even when another charset is declared, because servers default
    to declaring Latin-1 for files that are UTF-8; the declared charset is the fallback.
    """
    declared = _declared_charset(content_type)
    wide = next((codec for bom, codec in _WIDE_BOMS if data.startswith(bom)), None)
    if wide is not None:
        if declared is None or not declared.startswith(wide):
            raise FetchFailed(f"a {wide.upper()} body (by its byte-order mark) served as {declared or 'undeclared'}")
        text = _strict(data, wide)
    elif declared is not None and declared.startswith(("utf-16", "utf-32")):
        text = _strict(data, declared)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if declared is None or declared == "utf-8" or _damaged_utf8(data):
                raise FetchFailed(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
            text = _strict(data, declared)
    if "\x00" in text:
        raise FetchFailed("NUL characters in the text (a binary file, or UTF-16 read as UTF-8)")
    return text.removeprefix("\ufeff")


def _damaged_utf8(data: bytes) -> bool:
    """UTF-8 with a few bad bytes, not another charset: more valid multi-byte characters than bad spots.

    Read as the Latin-1 a server declares, such a file would decode "fine", its one bad
    byte becoming a "new" link. Real Latin-1 text has almost no valid UTF-8 sequences,
    real GBK about one for every five bad ones.
    """
    decoded = data.decode("utf-8", errors="replace")
    bad = decoded.count("\ufffd")
    return sum(1 for ch in decoded if ord(ch) > 0x7F) - bad > bad


def _declared_charset(content_type: str | None) -> str | None:
    """The codec name the Content-Type's ``charset`` names (``"utf-8"``, ``"gbk"``...), or None."""
    if not content_type:
        return None
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"'):
            label = value.strip().strip('"')
            try:
                return codecs.lookup(label).name
            except LookupError:
                raise FetchFailed(f"unknown charset {label[:40]!r}") from None
    return None


def _strict(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise FetchFailed(f"not valid {codec} (at byte {exc.start})") from None


def etag_names_body(etag: str | None, body: bytes) -> bool:
    """Whether the ETag is the MD5, SHA-1 or SHA-256 of exactly ``body`` (then it proves the end)."""
    if not etag:
        return False
    tag = etag.removeprefix("W/").strip('"').lower()
    return any(tag == hashlib.new(name, body).hexdigest() for name in ("md5", "sha1", "sha256"))


def may_follow(origin: httpx.URL, target: httpx.URL, redirect_hosts: Collection[str] = ()) -> bool:
    """A redirect stays on the list's own host, or goes to one the config names; never to http."""
    if target.scheme not in _DEFAULT_PORTS or (origin.scheme == "https" and target.scheme == "http"):
        return False
    host = target.host.lower()
    if host in {allowed.lower() for allowed in redirect_hosts}:
        return True
    if host != origin.host.lower():
        return False
    same_port = (target.port or _DEFAULT_PORTS[target.scheme]) == (origin.port or _DEFAULT_PORTS[origin.scheme])
    upgrade = origin.scheme == "http" and target.scheme == "https" and origin.port is None and target.port is None
    return same_port or upgrade


def retry_after_seconds(value: str | None, *, server_date: str | None, now: datetime) -> float | None:
    """``Retry-After`` as a delay: seconds, or an HTTP-date measured from the server's own Date.

    Measuring from the response's Date header, not our clock, keeps a skewed clock on
    either side from turning "in two hours" into "now" or "tomorrow".
    """
    value = (value or "").strip()
    if value.isdigit():
        return float(value) or None
    when = _http_date(value)
    if when is None:
        return None
    base = _http_date(server_date or "") or now
    delay = (when - base).total_seconds()
    return delay if delay > 0 else None


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)  # HTTP-dates are GMT


def check_text(text: str) -> None:
    """Reject what is certainly not a new version of a Markdown list."""
    head = text.lstrip()[:512].lower()
    if not head:
        raise FetchFailed("empty body")
    if head.startswith(("<!doctype html", "<html", "<?xml")) or ("<head" in head and "<body" in head):
        raise FetchFailed("an HTML page, not a Markdown list")


# --- I/O ----------------------------------------------------------------------------------

async def fetch_url(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    redirect_hosts: Collection[str] = (),
) -> Fetched:
    """Conditional GET with a size cap, streamed; raises ``FetchFailed`` on anything odd."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/markdown, text/plain;q=0.9, */*;q=0.1"}
    conditional = dict(headers)
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    try:
        first = await _download(client, url, conditional, timeout, max_bytes, redirect_hosts)
        if first.status == 304:
            return Fetched(None, etag, last_modified)
        if not first.framed and not etag_names_body(first.etag, first.body):
            again = await _download(client, url, headers, timeout, max_bytes, redirect_hosts)
            if again.status != 200 or again.body != first.body:
                raise FetchFailed(f"a body without a length ({len(first.body)} bytes) and a second read differs: cut short?")
    except httpx.TimeoutException:
        raise FetchFailed("timed out") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
    return Fetched(decode_body(first.body, first.content_type), first.etag, first.last_modified)


async def _download(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], timeout: float, max_bytes: int,
    redirect_hosts: Collection[str],
) -> _Download:
    """One GET, following only the redirects ``may_follow`` allows, read to its end."""
    origin = current = httpx.URL(url)
    try:
        async with asyncio.timeout(timeout * 3):  # the per-read timeout is httpx's; this bounds a trickle
            for _ in range(MAX_REDIRECTS + 1):
                async with client.stream("GET", current, headers=headers, timeout=timeout, follow_redirects=False) as response:
                    location = response.headers.get("location")
                    if response.status_code not in _REDIRECTS or not location:
                        return await _read(response, max_bytes)
                target = current.join(location)
                if not may_follow(origin, target, redirect_hosts):
                    where = f"{target.scheme}://{target.netloc.decode('ascii', 'replace')}"
                    raise FetchFailed(f"redirected to {where}, not followed (another host: allow it in watch.redirect_hosts)")
                current = target
    except TimeoutError:
        raise FetchFailed("timed out") from None
    raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")


async def _read(response: httpx.Response, max_bytes: int) -> _Download:
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    if response.status_code == 304:
        return _Download(304, etag=etag, last_modified=modified)
    if response.status_code != 200:
        delay = None
        if response.status_code in (429, 503):
            delay = retry_after_seconds(response.headers.get("retry-after"), server_date=response.headers.get("date"),
                                        now=datetime.now(UTC))
        raise FetchFailed(f"HTTP {response.status_code}", delay)
    content_type = response.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type and (media_type not in _ACCEPTED_TYPES and not media_type.startswith("text/") or "html" in media_type):
        raise FetchFailed(f"unexpected content type {media_type!r}")
    declared = response.headers.get("content-length", "")
    length = int(declared) if declared.isdigit() else None
    if length is not None and length > max_bytes:
        raise FetchFailed(f"too large ({length} bytes, limit {max_bytes})")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise FetchFailed(f"too large (over {max_bytes} bytes)")
    if length is not None and response.num_bytes_downloaded != length:
        raise FetchFailed(f"truncated body ({response.num_bytes_downloaded} of {length} bytes)")
    chunked = "chunked" in response.headers.get("transfer-encoding", "").lower()
    framed = length is not None or chunked or response.http_version.startswith("HTTP/2")
    return _Download(200, bytes(body), framed, content_type, etag, modified)


def read_path(path: Path, known_mtime: float | None, max_bytes: int) -> Fetched:
    """A local list: unchanged (text None) when its modification time is the one we know."""
    try:
        stat = path.stat()
        if known_mtime is not None and stat.st_mtime == known_mtime:
            return Fetched(None, mtime=stat.st_mtime)
        if stat.st_size > max_bytes:
            raise FetchFailed(f"too large ({stat.st_size} bytes, limit {max_bytes})")
        return Fetched(decode_body(path.read_bytes(), None), mtime=stat.st_mtime)
    except OSError as exc:
        raise FetchFailed(f"cannot read {path}: {exc.strerror or exc}") from None
