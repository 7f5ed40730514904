"""Loopback fakes of the services the enricher and the link checker talk to, in their wire formats.

One aiohttp server on 127.0.0.1 (port 0) with a path prefix per service:
``/arxiv/api/query`` (Atom feed, an ``Error`` entry for a malformed id, ``Rate exceeded.``
with 503 when throttling), ``/crossref/works/{doi}`` (``{"status": "ok", "message-type":
"work", "message": {...}}``, plain-text 404 "Resource not found."), ``/eutils/efetch.fcgi``
(``PubmedArticleSet`` XML; 429 with a JSON error like NCBI's), ``/github/repos/{o}/{r}``
(repository JSON with ETag; 403 with ``X-RateLimit-Remaining: 0`` when limited) and
``/links/...`` for link checks (200, 404, 301). Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Self
from xml.sax.saxutils import escape

from aiohttp import web

from tests.fakes.loopback import serve_on_loopback

__all__ = ["FakeScholarly", "Seen"]

ATOM_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
             'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">\n'
             '  <title type="html">ArXiv Query: id_list={ids}</title>\n'
             '  <id>http://arxiv.org/api/fake</id>\n  <updated>2026-12-01T00:00:00-05:00</updated>\n'
             '  <opensearch:totalResults>{total}</opensearch:totalResults>\n'
             '  <opensearch:startIndex>0</opensearch:startIndex>\n  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n')


@dataclass(frozen=True)
class Seen:
    service: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    method: str = "GET"
    at: float = 0.0


@dataclass
class _Failure:
    status: int
    headers: dict[str, str]
    body: str
    times: int


@dataclass
class FakeScholarly:
    arxiv: dict[str, dict[str, Any]] = field(default_factory=dict)
    crossref: dict[str, dict[str, Any]] = field(default_factory=dict)
    pubmed: dict[str, dict[str, Any]] = field(default_factory=dict)
    github: dict[str, dict[str, Any]] = field(default_factory=dict)
    commits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "owner/repo" -> newest first
    links: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # path -> (status, Location)
    seen: list[Seen] = field(default_factory=list)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    gate: asyncio.Event | None = None  # when set to an unset event, every answer waits for it
    base: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/arxiv/api/query", self._arxiv)
        app.router.add_get("/crossref/works/{doi:.+}", self._crossref)
        app.router.add_get("/eutils/efetch.fcgi", self._efetch)
        app.router.add_get("/github/repos/{owner}/{repo}", self._github)
        app.router.add_get("/github/repos/{owner}/{repo}/commits", self._commit_list)
        app.router.add_get("/github/repos/{owner}/{repo}/commits/{sha}", self._commit)
        app.router.add_get("/github/repos/{owner}/{repo}/commits/{sha}/pulls", self._pulls)
        app.router.add_route("*", "/links/{tail:.*}", self._link)
        self._runner, self.base = await serve_on_loopback(app, access_log=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, service: str) -> str:
        return {"arxiv": f"{self.base}/arxiv/api/query", "crossref": f"{self.base}/crossref",
                "ncbi": f"{self.base}/eutils", "github": f"{self.base}/github"}[service]

    def fail(self, service: str, status: int, *, headers: dict[str, str] | None = None, body: str = "", times: int = 1) -> None:
        """Answer the next ``times`` requests to ``service`` with this error."""
        self.failures.setdefault(service, []).append(_Failure(status, headers or {}, body, times))

    def requests_to(self, service: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.service == service]

    async def _start(self, service: str, request: web.Request) -> web.Response | None:
        loop = asyncio.get_running_loop()
        self.seen.append(Seen(service, request.path, dict(request.query), dict(request.headers), request.method, loop.time()))
        if self.gate is not None:
            await self.gate.wait()
        queue = self.failures.get(service) or []
        if queue:
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            content_type = "application/json" if failure.body.startswith("{") else "text/plain"
            return web.Response(status=failure.status, text=failure.body, headers=failure.headers, content_type=content_type)
        return None

    # --- arXiv ------------------------------------------------------------------------------
    async def _arxiv(self, request: web.Request) -> web.Response:
        failed = await self._start("arxiv", request)
        if failed is not None:
            return failed
        wanted = request.query.get("id_list", "")
        head = ATOM_HEAD.format(ids=escape(wanted), total=1)
        record = self.arxiv.get(wanted)
        if record is None and not wanted.replace(".", "").replace("/", "").replace("-", "").isalnum():
            body = head + ('  <entry>\n    <id>http://arxiv.org/api/errors#incorrect_id_format_for_' + escape(wanted) + '</id>\n'
                           '    <title>Error</title>\n    <summary>incorrect id format for ' + escape(wanted) + '</summary>\n'
                           '    <updated>2026-12-01T00:00:00-05:00</updated>\n  </entry>\n</feed>\n')
            return web.Response(text=body, content_type="application/atom+xml")
        if record is None:
            return web.Response(text=ATOM_HEAD.format(ids=escape(wanted), total=0) + "</feed>\n", content_type="application/atom+xml")
        authors = "".join(f"    <author>\n      <name>{escape(name)}</name>\n    </author>\n" for name in record["authors"])
        journal = f"    <arxiv:journal_ref>{escape(record['journal_ref'])}</arxiv:journal_ref>\n" if record.get("journal_ref") else ""
        body = head + (
            f"  <entry>\n    <id>http://arxiv.org/abs/{wanted}v2</id>\n    <updated>{record['published']}</updated>\n"
            f"    <published>{record['published']}</published>\n    <title>{escape(record['title'])}</title>\n"
            f"    <summary>  {escape(record['summary'])}\n</summary>\n{authors}{journal}"
            f'    <link href="http://arxiv.org/abs/{wanted}v2" rel="alternate" type="text/html"/>\n'
            f'    <link title="pdf" href="http://arxiv.org/pdf/{wanted}v2" rel="related" type="application/pdf"/>\n'
            '    <arxiv:primary_category term="cs.CV" scheme="http://arxiv.org/schemas/atom"/>\n  </entry>\n</feed>\n'
        )
        return web.Response(text=body, content_type="application/atom+xml")

    # --- Crossref ---------------------------------------------------------------------------
    async def _crossref(self, request: web.Request) -> web.Response:
        failed = await self._start("crossref", request)
        if failed is not None:
            return failed
        doi = request.match_info["doi"].lower()
        record = self.crossref.get(doi)
        if record is None:
            return web.Response(status=404, text="Resource not found.", content_type="text/plain")
        message = {"DOI": doi, "type": "journal-article", **record}
        body = {"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": message}
        return web.Response(text=json.dumps(body), content_type="application/json")

    # --- NCBI E-utilities -------------------------------------------------------------------
    async def _efetch(self, request: web.Request) -> web.Response:
        failed = await self._start("pubmed", request)
        if failed is not None:
            return failed
        pmid = request.query.get("id", "")
        record = self.pubmed.get(pmid)
        head = '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" ' \
               '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
        if record is None:
            return web.Response(text=head + "</PubmedArticleSet>\n", content_type="text/xml")
        authors = "".join(
            f'<Author ValidYN="Y"><LastName>{escape(last)}</LastName><ForeName>{escape(fore)}</ForeName>'
            f"<Initials>{escape(fore[:1])}</Initials></Author>" for fore, last in record["authors"]
        )
        abstract = "".join(f'<AbstractText Label="{escape(label)}">{escape(text)}</AbstractText>' if label
                           else f"<AbstractText>{escape(text)}</AbstractText>" for label, text in record["abstract"])
        body = head + (
            f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
            f'<Article PubModel="Print-Electronic"><Journal><JournalIssue CitedMedium="Internet"><Volume>12</Volume>'
            f"<PubDate><Year>{record['year']}</Year><Month>Oct</Month></PubDate></JournalIssue>"
            f"<Title>{escape(record['journal'])}</Title></Journal><ArticleTitle>{escape(record['title'])}</ArticleTitle>"
            f'<Abstract>{abstract}</Abstract><AuthorList CompleteYN="Y">{authors}</AuthorList></Article>'
            "</MedlineCitation></PubmedArticle>\n</PubmedArticleSet>\n"
        )
        return web.Response(text=body, content_type="text/xml")

    # --- GitHub -----------------------------------------------------------------------------
    async def _github(self, request: web.Request) -> web.Response:
        failed = await self._start("github", request)
        if failed is not None:
            return failed
        full_name = f"{request.match_info['owner']}/{request.match_info['repo']}".lower()
        record = self.github.get(full_name)
        limits = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59", "X-RateLimit-Used": "1",
                  "X-RateLimit-Resource": "core"}
        if record is None:
            body = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
                    "status": "404"}
            return web.Response(status=404, text=json.dumps(body), content_type="application/json", headers=limits)
        etag = f'W/"{abs(hash(json.dumps(record, sort_keys=True))):x}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={**limits, "ETag": etag})
        body = {"id": 1, "name": full_name.split("/")[1], "full_name": full_name, "private": False,
                "html_url": f"https://github.com/{full_name}", **record}
        return web.Response(text=json.dumps(body), content_type="application/json", headers={**limits, "ETag": etag})

    def _commit_json(self, full_name: str, commit: dict[str, Any]) -> dict[str, Any]:
        return {
            "sha": commit["sha"], "node_id": "C_" + commit["sha"][:8],
            "commit": {"author": {"name": commit["login"].title(), "email": f"{commit['login']}@example.org", "date": commit["date"]},
                       "committer": {"name": "GitHub", "email": "noreply@github.com", "date": commit["date"]},
                       "message": commit.get("message", "Update README.md")},
            "author": {"login": commit["login"], "id": 1, "type": "User"},
            "html_url": f"https://github.com/{full_name}/commit/{commit['sha']}",
        }

    async def _commit_list(self, request: web.Request) -> web.Response:
        failed = await self._start("github", request)
        if failed is not None:
            return failed
        full_name = f"{request.match_info['owner']}/{request.match_info['repo']}".lower()
        path = request.query.get("path", "")
        listed = [self._commit_json(full_name, c) for c in self.commits.get(full_name, [])
                  if any(f["filename"] == path for f in c["files"])]
        etag = f'W/"{abs(hash(json.dumps(listed, sort_keys=True))):x}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(text=json.dumps(listed), content_type="application/json", headers={"ETag": etag})

    def _find_commit(self, request: web.Request) -> tuple[str, dict[str, Any] | None]:
        full_name = f"{request.match_info['owner']}/{request.match_info['repo']}".lower()
        sha = request.match_info["sha"]
        return full_name, next((c for c in self.commits.get(full_name, []) if c["sha"] == sha), None)

    async def _commit(self, request: web.Request) -> web.Response:
        failed = await self._start("github", request)
        if failed is not None:
            return failed
        full_name, commit = self._find_commit(request)
        if commit is None:
            return web.Response(status=422, text=json.dumps({"message": "No commit found for SHA"}), content_type="application/json")
        files = [{"sha": "0" * 40, "filename": f["filename"], "status": "modified", "additions": f["patch"].count("\n+"),
                  "deletions": 0, "changes": 1, "patch": f["patch"]} for f in commit["files"]]
        return web.Response(text=json.dumps({**self._commit_json(full_name, commit), "files": files}), content_type="application/json")

    async def _pulls(self, request: web.Request) -> web.Response:
        failed = await self._start("github", request)
        if failed is not None:
            return failed
        full_name, commit = self._find_commit(request)
        pulls = [{"number": pull["number"], "state": "closed", "title": pull.get("title", "Add a paper"),
                  "user": {"login": pull["login"], "id": 2, "type": "User"},
                  "html_url": f"https://github.com/{full_name}/pull/{pull['number']}", "merged_at": "2026-11-30T10:00:00Z"}
                 for pull in (commit or {}).get("pulls", [])]
        return web.Response(text=json.dumps(pulls), content_type="application/json")

    # --- links ------------------------------------------------------------------------------
    async def _link(self, request: web.Request) -> web.Response:
        failed = await self._start("links", request)
        if failed is not None:
            return failed
        status, location = self.links.get(request.path, (200, None))
        headers = {"Location": location} if location else {}
        if status == 405:  # a server that refuses HEAD but serves GET
            return web.Response(status=405) if request.method == "HEAD" else web.Response(text="page")
        return web.Response(status=status, headers=headers, text="" if request.method == "HEAD" else "page")
