"""The web page: a read-only, server-rendered site over the same core as the chats.

Flow: ``server`` runs ``app.build_app(core)`` (aiohttp) -> a handler asks the core
through ``core_api`` (the only module importing ``bot``) -> ``render`` fills a Jinja2
template (autoescaped, http(s)-only links) -> ``app``'s middleware adds the security
headers. Words of the page itself live in ``i18n``.
"""

from adapters.web.server import DEFAULT_PORT, run_web, start_site, web_main

__all__ = ["DEFAULT_PORT", "run_web", "start_site", "web_main"]
