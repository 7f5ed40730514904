"""A lab member uses the web page in a real browser (headless Chromium via Playwright).

One browser for the module, the session's site (``lab_site``). Skipped cleanly where
Playwright or a system Chromium is missing; CI installs Debian's ``chromium``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from tests.web_site import LabSite

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = next((path for path in ("/usr/bin/chromium", shutil.which("chromium") or "") if path and Path(path).exists()), None)
if CHROMIUM is None:
    pytest.skip("no system Chromium (apt-get install chromium)", allow_module_level=True)

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
REPO_DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, lab_site: LabSite) -> Iterator[Any]:
    context = browser.new_context(base_url=lab_site.url, locale="en-GB", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"the browser reported errors (a CSP violation?): {errors}"


def test_a_lab_member_types_lesion_detection_into_the_search_box_and_sees_deeplesion_first(page: Any) -> None:
    page.goto("/")
    page.get_by_label("Search the lists").fill("lesion detection")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=lesion+detection")
    first = page.locator("ol.entries > li").first
    assert first.locator(".entry-title").inner_text().startswith("DeepLesion")
    assert page.title().startswith("lesion detection")


def test_she_pages_to_page_two_and_back_with_the_keyboard(page: Any) -> None:
    page.goto("/search?q=single+cell")
    first_page = page.locator(".entry-title").all_inner_texts()
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url("**page=2**")
    assert "Page 2 of" in page.locator(".pager-status").first.inner_text()
    second_page = page.locator(".entry-title").all_inner_texts()
    assert second_page and not set(first_page) & set(second_page)
    assert page.locator("ol.entries").get_attribute("start") == "11"
    page.get_by_role("link", name="‹ Previous").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**page=1**")
    assert page.locator(".entry-title").all_inner_texts() == first_page


def test_she_opens_an_entry_and_reads_its_card(page: Any) -> None:
    page.goto("/search?q=lesion+detection")
    page.locator(".entry-title a").first.click()
    page.wait_for_url("**/entry/**")
    assert page.locator("h1").inner_text().startswith("DeepLesion")
    facts = page.locator("dl.facts").inner_text()
    for label in ("Links", "Code", "Section", "Tags", "Year", "Lists"):
        assert label in facts
    assert page.locator("dl.facts a[href*='github.com/rsummers11/CADLab']").count() >= 1


def test_she_browses_the_topic_single_cell_in_chinese(page: Any) -> None:
    page.goto("/topics?lang=zh")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    page.get_by_role("link", name="2.3 单细胞 Single-Cell").first.click()
    assert page.locator("h1").inner_text() == "2.3 单细胞 Single-Cell"
    assert "共 30 条" in page.locator(".results-title").inner_text()
    assert page.locator("ol.entries > li").count() == 10
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "2.3 单细胞 Single-Cell"


def test_the_feed_parses_and_healthz_is_json(page: Any) -> None:
    feed = page.request.get("/feed.atom")
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
    assert not feedparser.parse(feed.body()).bozo
    health = page.request.get("/healthz")
    figures = json.loads(health.text())
    assert figures["index_ready"] is True and figures["entries"] > 100


def test_a_list_entry_with_a_script_and_a_javascript_link_is_shown_inert(page: Any) -> None:
    page.goto("/search?q=Sneaky+script+title")
    title = page.locator(".entry-title").first.inner_text()
    assert "<script>window.pwned=4</script>" in title  # shown as text
    assert "[paper](javascript:window.pwned=5)" in title
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("main script, main img").count() == 0
    page.locator(".entry-title a").first.click()
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_the_keyboard_reaches_the_search_box_with_a_visible_focus_ring(page: Any) -> None:
    page.goto("/sources")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Skip to content"
    assert skip.evaluate("el => getComputedStyle(el).top") == "12px"  # shown when focused
    page.keyboard.press("Enter")  # the skip link moves focus to the main content
    assert page.evaluate("location.hash") == "#main"
    page.goto("/")
    page.keyboard.press("/")  # the small enhancement script
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.locator("#q").evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 860), ("phone", 390, 844)])
def test_screenshots_of_home_and_search_at_desktop_and_phone_width(browser: Any, lab_site: LabSite, name: str,
                                                                   width: int, height: int, tmp_path: Path) -> None:
    """Writes docs/web-*.png when MEDBOT_SCREENSHOTS=1; otherwise checks the phone layout has no sideways scroll."""
    import os

    context = browser.new_context(base_url=lab_site.url, locale="en-GB", viewport={"width": width, "height": height},
                                  device_scale_factor=1)
    tab = context.new_page()
    out = REPO_DOCS if os.environ.get("MEDBOT_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(exist_ok=True)
    for shot, path in [("home", "/"), ("search", "/search?q=single+cell")]:
        tab.goto(path)
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{shot} scrolls sideways"
        tab.screenshot(path=str(out / f"web-{shot}-{name}.png"), full_page=False)
    context.close()
