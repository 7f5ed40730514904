"""Every command medbot answers, listed explicitly, and the buttons of the paged ones.

To add a command: write an ``@command``-tagged coroutine in one of these modules (or a
new one) and add it to ``COMMANDS``. Its position here is its position in menus and
``/help``. A command whose reply has page buttons also gets a ``Pager`` row: a new
one-letter payload code and the function that renders page N.
"""

from __future__ import annotations

from bot.core.commands import basics, browse, chat_settings, papers, recent, search, sources, subscriptions, why
from bot.core.registry import Handler, Pager

__all__ = ["COMMANDS", "PAGERS"]

COMMANDS: tuple[Handler, ...] = (
    basics.start,
    basics.help_command,
    search.search,
    browse.topic,
    browse.random_pick,
    recent.new_entries,
    recent.similar,
    sources.sources,
    papers.paper,
    papers.export_command,
    subscriptions.subscribe,
    subscriptions.unsubscribe,
    subscriptions.subscriptions,
    why.why,
    chat_settings.settings_command,
)

PAGERS: tuple[Pager, ...] = (
    Pager("search", "s", search.search_page),
    Pager("topic", "t", browse.topic_page_by_hash),
    Pager("random", "r", browse.random_again),
    Pager("paper", "p", papers.paper_page),
    Pager("new", "n", recent.new_page),
    Pager("sources", "l", sources.sources_page),
)
