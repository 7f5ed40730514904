"""The web page as an aiohttp application built around one ``MedBot``.

Each handler reads its parameters, asks the core (the same ``search_page`` and
``topic_page`` the chat buttons use, the same ``/new``), and renders the ``Reply`` or
records it gets with a template. Read-only: only GET and HEAD routes exist. Two
middlewares wrap every response: errors become friendly pages (400 for a bad
parameter, never a traceback), and every answer carries the security headers and a
``Server-Timing`` figure the benchmark reads.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from adapters.web.core_api import (
    Context,
    MedBot,
    entry_card,
    feed_xml,
    health,
    list_topics,
    new_entries,
    resolve_topic,
    search_page,
    source_statuses,
    topic_page,
)
from adapters.web.i18n import choose_language, strings
from adapters.web.render import STATIC_DIR, make_environment

__all__ = ["CORE_KEY", "PER_PAGE", "SECURITY_HEADERS", "build_app"]

log = logging.getLogger(__name__)

PER_PAGE = 10
MAX_PAGE = 1000
MAX_QUERY = 300
CORE_KEY: web.AppKey[MedBot] = web.AppKey("core", MedBot)
_ENV_KEY: web.AppKey[Any] = web.AppKey("jinja", object)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class BadParameter(Exception):
    """A query parameter the page cannot use; its key names the message to show."""

    def __init__(self, message_key: str) -> None:
        super().__init__(message_key)
        self.message_key = message_key


@dataclass(frozen=True)
class Page:
    """Per-request facts every template uses: language, words, how to build links."""

    lang: str
    explicit: bool
    path: str
    raw_path: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def s(self) -> dict[str, str]:
        return strings(self.lang)

    def url(self, path: str, **params: object) -> str:
        """A link inside the site that keeps an explicitly chosen language."""
        query = {key: str(value) for key, value in params.items() if value not in (None, "")}
        if self.explicit:
            query["lang"] = self.lang
        return path + ("?" + urlencode(query) if query else "")

    @property
    def switch_url(self) -> str:
        query = {key: value for key, value in self.params.items() if key != "lang"}
        query["lang"] = "en" if self.lang == "zh" else "zh"
        return self.raw_path + "?" + urlencode(query)


def _page(request: web.Request) -> Page:
    explicit = request.query.get("lang")
    lang = choose_language(explicit, request.headers.get("Accept-Language"))
    raw_path = request.rel_url.raw_path
    return Page(lang, explicit == lang, request.path, raw_path, {key: request.query[key] for key in request.query})


def _context(page: Page) -> Context:
    return Context(platform="web", chat_id="web", user_id="", language=page.lang, chat_type="private")


def _number(request: web.Request, name: str, default: int, high: int, message_key: str) -> int:
    text = request.query.get(name, "").strip()
    if not text:
        return default
    if not (text.isdecimal() and len(text) <= 6 and 1 <= int(text) <= high):
        raise BadParameter(message_key)
    return int(text)


def _render(request: web.Request, template: str, page: Page, status: int = 200, **values: Any) -> web.Response:
    html = request.app[_ENV_KEY].get_template(template).render(page=page, s=page.s, **values)
    response = web.Response(text=html, content_type="text/html", charset="utf-8", status=status)
    response.headers["Content-Language"] = "zh-Hans" if page.lang == "zh" else "en"
    response.headers["Vary"] = "Accept-Language"
    return response


# --- pages -------------------------------------------------------------------------------


async def home(request: web.Request) -> web.Response:
    core, page = request.app[CORE_KEY], _page(request)
    fresh = await new_entries(core, "30", _context(page))
    statuses = await source_statuses(core)
    return _render(request, "home.html", page, fresh=fresh, statuses=statuses, query="")


async def search(request: web.Request) -> web.Response:
    core, page = request.app[CORE_KEY], _page(request)
    number = _number(request, "page", 1, MAX_PAGE, "bad_page")
    query = " ".join(request.query.get("q", "").split())[: MAX_QUERY * 2]
    reply = await search_page(core, query, number, _context(page), per_page=PER_PAGE) if query else None
    return _render(request, "search.html", page, reply=reply, query=query, pager=_pager(reply))


async def topics(request: web.Request) -> web.Response:
    core, page = request.app[CORE_KEY], _page(request)
    trees = await list_topics(core)
    return _render(request, "topics.html", page, trees=trees, query="")


async def topic(request: web.Request) -> web.Response:
    core, page = request.app[CORE_KEY], _page(request)
    number = _number(request, "page", 1, MAX_PAGE, "bad_page")
    name = request.match_info["name"].strip()[:200]
    path = await core.run_index(lambda: resolve_topic(core.index, name)) if name else None
    if path is None:
        raise web.HTTPNotFound()
    reply = await topic_page(core, path, number, _context(page), per_page=PER_PAGE)
    return _render(request, "topic.html", page, reply=reply, path=path, pager=_pager(reply), query="")


async def entry(request: web.Request) -> web.Response:
    core, page = request.app[CORE_KEY], _page(request)
    view = await entry_card(core, request.match_info["entry_id"])
    if view is None:
        raise web.HTTPNotFound()
    return _render(request, "entry.html", page, entry=view, query="")


async def new(request: web.Request) -> web.Response:
    core, page = request.app[CORE_KEY], _page(request)
    days = _number(request, "days", 30, 365, "bad_days")
    reply = await new_entries(core, str(days), _context(page))
    return _render(request, "new.html", page, reply=reply, days=days, query="")


async def sources(request: web.Request) -> web.Response:
    core, page = request.app[CORE_KEY], _page(request)
    return _render(request, "sources.html", page, statuses=await source_statuses(core), query="")


async def feed(request: web.Request) -> web.Response:
    core = request.app[CORE_KEY]
    body = await feed_xml(core, feed_url=str(request.url.with_query(None)))
    return web.Response(body=body, content_type="application/atom+xml", charset="utf-8")


async def healthz(request: web.Request) -> web.Response:
    figures = await health(request.app[CORE_KEY])
    return web.Response(text=json.dumps(figures), content_type="application/json")


def _pager(reply: Any) -> dict[str, int] | None:
    """Page numbers of a paged reply (the core clamps a page past the end to the last)."""
    if reply is None or reply.page is None:
        return None
    return {"page": reply.page.number, "pages": reply.page.pages, "total": reply.page.total}


# --- middlewares and assembly ------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    if request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadParameter as exc:
        page = _page(request)
        return _render(request, "error.html", page, status=400, heading=page.s["bad_request"],
                       message=page.s[exc.message_key], query="")
    except web.HTTPNotFound:
        page = _page(request)
        return _render(request, "error.html", page, status=404, heading=page.s["not_found"],
                       message=page.s["not_found_text"], query="")
    except web.HTTPException:
        raise
    except Exception:
        log.exception("web page %s failed", request.path[:200])
        page = _page(request)
        return _render(request, "error.html", page, status=500, heading=page.s["server_error"],
                       message=page.s["server_error_text"], query="")


def build_app(core: MedBot) -> web.Application:
    """The read-only site over ``core``; the caller runs it (``adapters.web.server``)."""
    app = web.Application(middlewares=[headers_middleware, errors_middleware])
    app[CORE_KEY] = core
    app[_ENV_KEY] = make_environment()
    app.router.add_get("/", home)
    app.router.add_get("/search", search)
    app.router.add_get("/topics", topics)
    app.router.add_get("/topic/{name:.+}", topic)
    app.router.add_get("/entry/{entry_id}", entry)
    app.router.add_get("/new", new)
    app.router.add_get("/sources", sources)
    app.router.add_get("/feed.atom", feed)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
    return app
