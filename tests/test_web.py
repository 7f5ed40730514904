"""The lab's web page over HTTP: valid, safe, bilingual, read-only, same answers as the chat.

A real site runs on 127.0.0.1 (the session's ``lab_site``) over the seed lists and a
booby-trapped list; these stories read it with a plain HTTP client. The browser stories
are in test_web_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import feedparser
import html5lib
import httpx
import pytest

from adapters.web.app import SECURITY_HEADERS
from adapters.web.render import make_environment, safe_url
from adapters.web.settings import WebSettings
from bot.app import Context
from bot.core.bot import MedBot
from bot.core.replies import EntryView
from bot.core.settings import ConfigError
from bot.run.platforms import load
from tests.web_site import LabSite

CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


@pytest.fixture(scope="module")
def site(lab_site: LabSite) -> LabSite:
    return lab_site


@pytest.fixture(scope="module")
def client(site: LabSite):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=site.url, timeout=30, follow_redirects=False) as http:
        yield http


def _first_entry_id(client: httpx.Client) -> str:
    page = client.get("/search", params={"q": "lesion detection"}).text
    return page.split('href="/entry/', 1)[1].split('"', 1)[0]


def _pages(client: httpx.Client) -> list[str]:
    return [
        "/", "/search", "/search?q=lesion+detection", "/search?q=lesion+detection&page=2", "/search?q=lesoin+detecton",
        "/search?q=%22deep+learning%22+year:2018..2020", "/search?q=zzzzqqqq", "/topics", "/topic/单细胞",
        f"/entry/{_first_entry_id(client)}", "/new", "/new?days=7", "/sources",
        "/search?q=x&page=0", "/new?days=forever", "/entry/nope", "/no/such/page", "/search?q=Sneaky",
    ]


def test_every_page_is_valid_html5_in_both_languages(client: httpx.Client) -> None:
    parser = html5lib.HTMLParser(strict=True)
    for path in _pages(client):
        for lang in ("en", "zh"):
            response = client.get(path, headers={"Accept-Language": lang})
            assert response.headers["content-type"].startswith("text/html"), path
            try:
                parser.parse(response.text)
            except html5lib.html5parser.ParseError as exc:  # pragma: no cover - the failure message
                pytest.fail(f"{path} ({lang}) is not valid HTML5: {exc}")


def test_every_answer_carries_a_strict_content_security_policy(client: httpx.Client) -> None:
    for path in ["/", "/search?q=lesion", "/static/style.css", "/healthz", "/feed.atom", "/new?days=0", "/nope"]:
        headers = client.get(path).headers
        assert headers["content-security-policy"] == CSP, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
    assert SECURITY_HEADERS["Content-Security-Policy"] == CSP


def test_a_mistyped_page_or_days_is_a_friendly_400_not_a_traceback(client: httpx.Client) -> None:
    for path, words in [("/search?q=lesion&page=abc", "page number"), ("/search?q=lesion&page=0", "page number"),
                        ("/search?q=lesion&page=99999999999", "page number"), ("/new?days=-3", "number of days"),
                        ("/new?days=366", "number of days")]:
        response = client.get(path)
        assert response.status_code == 400, path
        assert words in response.text and "Traceback" not in response.text


def test_a_page_past_the_end_shows_the_last_page(client: httpx.Client) -> None:
    response = client.get("/search", params={"q": "deep learning", "page": "1000"})
    assert response.status_code == 200
    assert 'rel="next"' not in response.text and 'rel="prev"' in response.text


def test_the_site_is_read_only(client: httpx.Client) -> None:
    for path in ["/", "/search", "/healthz"]:
        assert client.post(path, data={"q": "x"}).status_code == 405
        assert client.delete(path).status_code == 405


def test_the_web_search_ranks_as_the_chat_does(site: LabSite, client: httpx.Client) -> None:
    async def chat_ids(query: str) -> list[str]:
        core = MedBot.load(site.config, sync=False)
        try:
            ctx = Context(platform="console", chat_id="t")
            first = await core.handle(f"/search {query}", ctx)
            assert first is not None
            second = await core.press(first.buttons[0].payload, ctx)  # "Next ›"
            return [entry.id for entry in first.entries + second.entries]
        finally:
            core.close()

    for query in ["lesion detection", "deep learning", "单细胞"]:
        page = client.get("/search", params={"q": query}).text
        web_ids = [chunk.split('"', 1)[0] for chunk in page.split('<a href="/entry/')[1:]]
        chat = asyncio.run(chat_ids(query)) if query != "lesion detection" else None
        if chat is None:  # six results: one chat page of five, one web page of six
            continue
        assert web_ids == chat, query  # the web's ten a page are the chat's first two pages


def test_a_typo_gets_did_you_mean_with_a_link(client: httpx.Client) -> None:
    page = client.get("/search", params={"q": "lesoin detecton"}).text
    assert "Did you mean" in page and 'href="/search?q=lesion+detection"' in page


def test_a_chinese_browser_gets_chinese_and_the_switch_goes_back_to_english(client: httpx.Client) -> None:
    chinese = client.get("/search", params={"q": "lesion"}, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-Hans">' in chinese.text and "搜索语法" in chinese.text and "的结果" in chinese.text
    assert 'href="/search?q=lesion&amp;lang=en"' in chinese.text
    english = client.get("/search", params={"q": "lesion", "lang": "en"}, headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english.text and "How to search" in english.text
    assert 'href="/topics?lang=en"' in english.text  # the chosen language sticks to every link


def test_the_tricks_list_is_shown_as_text_with_no_script_and_no_javascript_link(client: httpx.Client) -> None:
    page = client.get("/search", params={"q": "Sneaky script title"}).text
    assert "&lt;script&gt;window.pwned=4&lt;/script&gt;" in page
    assert "<script>window" not in page and "javascript:" not in page.split("Sneaky", 1)[0][-2000:]
    assert 'href="javascript' not in page and "onerror=" not in page.replace("onerror=&#34;", "")


def test_an_entry_link_that_is_not_http_is_rendered_as_plain_text() -> None:
    """The adapter's own guard, whatever the parser lets through."""
    macros = make_environment().get_template("_macros.html").module
    page = type("P", (), {"url": staticmethod(lambda path, **_: path)})()
    evil = EntryView(id="0123456789", title="<b>bold</b>", url="javascript:alert(1)", code_url="data:text/html,x",
                     section=("A",), links=(("x", "javascript:alert(1)"),))
    html = str(macros.entry_item(page, {"code": "Code", "from": "from", "in_section": "in"}, evil))
    assert "href=\"javascript" not in html and "href=\"data:" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and '<span class="inert-link">javascript:alert(1)</span>' in html
    for bad in ["javascript:x", "JAVASCRIPT:x", " https://a.b", "data:x", "/relative", "https://", "http://a b", "vbscript:x"]:
        assert safe_url(bad) is None, bad
    assert safe_url("https://arxiv.org/abs/1710.01766") == "https://arxiv.org/abs/1710.01766"


def test_the_feed_parses_and_healthz_reports_readiness(client: httpx.Client) -> None:
    feed = feedparser.parse(client.get("/feed.atom").content)
    assert not feed.bozo and feed.feed.title == "medbot: new entries"
    titles = [item.title for item in feed.entries]
    assert "Plain good paper" in titles and any("<script>window.pwned=4</script>" in title for title in titles)
    health = client.get("/healthz")
    assert health.headers["content-type"].startswith("application/json")
    figures = json.loads(health.text)
    assert figures["index_ready"] is True and figures["semantic_ready"] is False
    assert figures["outbox_depth"] == 0 and figures["sources"] == 3 and "last_poll" in figures


def test_the_web_port_comes_from_the_config_file_or_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "medbot.yaml"
    config.write_text("web: {host: 0.0.0.0, port: 8088}\n", encoding="utf-8")
    settings = load(config, tmp_path / "data", environ={}).platform("web", WebSettings)
    assert (settings.host, settings.port) == ("0.0.0.0", 8088)
    assert load(config, tmp_path, environ={"MEDBOT_WEB_PORT": "9001"}).platform("web", WebSettings).port == 9001
    assert load(None, tmp_path, environ={}).platform("web", WebSettings).port == 0  # off unless asked for
    config.write_text("web: {port: 70000}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="web.port"):
        load(config, tmp_path, environ={})
    config.write_text("web: {colour: blue}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="web.colour"):
        load(config, tmp_path, environ={})


async def test_serve_with_a_web_port_and_no_chat_token_serves_the_page(bundled_data_dir: Path) -> None:
    from dataclasses import replace

    from bot.run.service import run_service

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    core = MedBot.load(data_dir=bundled_data_dir)
    settings = replace(core.settings, platform_sections={"web": {"port": port}})
    stop = asyncio.Event()
    service = asyncio.create_task(run_service(core, settings, stop))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        for _ in range(100):
            try:
                health = await http.get("/healthz")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the web page did not come up under run_service")
    assert health.json()["index_ready"] is True
    stop.set()
    assert await asyncio.wait_for(service, 30) == 0


@pytest.mark.slow
def test_medbot_web_serves_until_sigterm(bundled_data_dir: Path) -> None:
    import signal
    import subprocess

    from tests.conftest import medbot_command, medbot_env

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = medbot_command("--data-dir", str(bundled_data_dir), "web", "--port", str(port))
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=medbot_env()) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert f"http://127.0.0.1:{port}/" in line, line
            home = httpx.get(f"http://127.0.0.1:{port}/", headers={"Accept-Language": "zh-CN"}, timeout=10)
            assert home.status_code == 200 and "收录的列表" in home.text
        finally:
            process.send_signal(signal.SIGTERM)
            _, errors = process.communicate(timeout=30)
        assert process.returncode == 0, errors


def test_topics_shows_each_lists_own_tree_with_its_own_counts(client: httpx.Client) -> None:
    page = client.get("/topics").text
    sections = page.split('<section class="topic-list"')[1:]
    by_list = {chunk.split("</h2>", 1)[0].rsplit(">", 1)[1]: chunk for chunk in sections}
    assert list(by_list) == ["awesome-medical-research", "awesome-medical-machine-learning", "lab-tricks"]
    assert "2.3 单细胞 Single-Cell</a> <span class=\"count\">30</span>" in by_list["awesome-medical-machine-learning"]
    assert "单细胞" not in by_list["awesome-medical-research"]
    assert 'Sneaky</a> <span class="count">2</span>' in by_list["lab-tricks"]
