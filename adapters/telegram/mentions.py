"""Group messages meant for medbot without a command: ``@medbot words`` or a reply to the bot.

Privacy mode lets these through (README, "Groups and privacy mode"), and a lab member
expects an answer: the words, with the mention removed, are a search.
"""

from __future__ import annotations

import re

from telegram import Message, MessageEntity

__all__ = ["addressed_words"]


def addressed_words(message: Message, username: str, bot_id: int) -> str | None:
    """The words addressed to the bot (mention stripped), or None when the message is not for it."""
    text = message.text or ""
    mentions = message.parse_entities([MessageEntity.MENTION]).values()
    mentioned = bool(username) and any(mention.lower() == "@" + username.lower() for mention in mentions)
    original = message.reply_to_message
    replied = original is not None and original.from_user is not None and original.from_user.id == bot_id
    if not (mentioned or replied):
        return None
    if username:
        text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())
