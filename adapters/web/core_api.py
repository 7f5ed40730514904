"""Everything the web adapter takes from the core, imported in this one place.

The rest of ``adapters/web`` imports from here only, so moving the core's modules means
changing these lines and nothing else.
"""

from __future__ import annotations

from bot.app import Context, MedBot
from bot.core.commands.browse import resolve_topic, topic_page, topic_value
from bot.core.commands.common import PER_PAGE
from bot.core.commands.recent import new_entries
from bot.core.commands.search import search_page
from bot.core.pages import SourceStatus, entry_card, feed_xml, health, list_topics, source_statuses
from bot.core.replies import EntryView, Reply
from index.search import TopicNode

__all__ = [
    "PER_PAGE",
    "Context",
    "EntryView",
    "MedBot",
    "Reply",
    "SourceStatus",
    "TopicNode",
    "entry_card",
    "feed_xml",
    "health",
    "list_topics",
    "new_entries",
    "resolve_topic",
    "search_page",
    "source_statuses",
    "topic_page",
    "topic_value",
]
