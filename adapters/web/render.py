"""Jinja2 with autoescape, and the few filters the templates need to stay safe.

List text is untrusted (anyone can send a pull request to an awesome list), so every
value is escaped by Jinja and a link becomes an ``<a>`` only when it is plain http(s);
anything else (``javascript:``, ``data:``, relative paths) is shown as text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from adapters.web.core_api import topic_value

__all__ = ["TEMPLATES_DIR", "STATIC_DIR", "make_environment", "safe_url", "topic_href"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f<>\"'`\\]")


def safe_url(url: object) -> str | None:
    """``url`` when it is an absolute http(s) link a browser opens as such, else None."""
    if not isinstance(url, str) or not url or len(url) > 2000 or _UNSAFE_CHARS.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    return url


def topic_href(path: tuple[str, ...] | list[str]) -> str:
    """The ``/topic/...`` address of a section: the core's exact name for it, quoted."""
    return "/topic/" + quote(topic_value(tuple(path)), safe="")


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    env.filters["safe_url"] = safe_url
    env.filters["topic_href"] = topic_href
    env.filters["when"] = when
    env.filters["iso"] = iso
    env.filters["quote"] = lambda text: quote(str(text), safe="")
    return env
