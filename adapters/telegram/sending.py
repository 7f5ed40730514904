"""Telegram's send path: a core ``Reply`` as HTML messages, into a chat or one of its forum topics.

Shared by answers (``bot.py``) and the watcher's announcements (``TelegramSender``). A
forum topic is addressed by ``message_thread_id``; when Telegram answers "message thread
not found" the topic was deleted, which is ``ThreadGone`` (the chat itself is fine).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, InputFile, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from adapters.telegram.render import NO_PREVIEW, keyboard, render_reply
from bot.core.replies import Reply
from bot.core.sending import PermanentFailure, RateLimit, Refused, RetryLater, ThreadGone

if TYPE_CHECKING:
    from telegram import Bot

__all__ = ["TelegramSender", "deliver", "send_chunks"]

_PREVIEW = LinkPreviewOptions(is_disabled=False, prefer_small_media=True)


def _seconds(period: float | timedelta) -> float:
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


async def deliver(
    bot: Bot, chat_id: int | str, reply: Reply, *, reply_to: int | None = None, silent: bool = False, thread: int | None = None
) -> list[Message]:
    """Send a reply as one or more HTML messages (buttons under the last), then its files as documents."""
    sent = await send_chunks(bot, chat_id, render_reply(reply), keyboard(reply),
                             reply_to=reply_to, silent=silent or reply.silent, thread=thread, preview=reply.preview)
    for attachment in reply.files:
        sent.append(await bot.send_document(chat_id, InputFile(attachment.data, filename=attachment.filename),
                                            disable_notification=silent or reply.silent, message_thread_id=thread))
    return sent


async def send_chunks(
    bot: Bot,
    chat_id: int | str,
    chunks: list[str],
    markup: InlineKeyboardMarkup | None,
    *,
    reply_to: int | None = None,
    silent: bool = False,
    thread: int | None = None,
    preview: bool = False,
) -> list[Message]:
    """Rendered HTML messages in order: the first threads to ``reply_to``, the last has ``markup``."""
    sent = []
    for number, chunk in enumerate(chunks):
        sent.append(await bot.send_message(
            chat_id,
            chunk,
            parse_mode=ParseMode.HTML,
            link_preview_options=_PREVIEW if preview and not number else NO_PREVIEW,
            reply_markup=markup if number == len(chunks) - 1 else None,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to and not number else None,
            disable_notification=silent,
            message_thread_id=thread,
        ))
    return sent


class TelegramSender:
    """The watcher's send path (``bot.core.sending.Sender``): same rendering, outcomes mapped.

    The bot's ``AIORateLimiter`` keeps to Telegram's per-chat limits and sleeps through
    a few ``retry_after`` answers itself; a flood wait that outlasts those retries comes
    back as ``RetryLater``, a kicked bot or a vanished chat as ``PermanentFailure``, a
    deleted forum topic as ``ThreadGone``.
    """

    platform = "telegram"
    limits = RateLimit()  # PTB's AIORateLimiter already keeps Telegram's limits: not twice
    # Workers sharing a state space a chat's sends by the attempt times they record; the
    # request itself leaves a moment later on a busy machine, so keep a margin over 1/s.
    shared_limits = RateLimit(chat_interval=1.25, chat_per_minute=20)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False, thread: str = "") -> None:
        topic = int(thread) if thread.isdecimal() else None
        try:
            await deliver(self.bot, chat_id, reply, silent=silent, thread=topic)
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc.retry_after), "Telegram flood control") from exc
        except (Forbidden, ChatMigrated) as exc:
            raise PermanentFailure(f"telegram chat {chat_id}: {exc.message}") from exc
        except BadRequest as exc:
            message = exc.message.lower()
            if topic is not None and ("thread not found" in message or "topic_deleted" in message):
                raise ThreadGone(f"telegram chat {chat_id} topic {topic}: {exc.message}") from exc
            if "chat not found" in message or "kicked" in message:
                raise PermanentFailure(f"telegram chat {chat_id}: {exc.message}") from exc
            raise Refused(f"telegram refused the message: {exc.message}") from exc
        except NetworkError as exc:
            raise RetryLater(30, f"network: {exc.message}") from exc
        except TelegramError as exc:
            raise RetryLater(60, f"Telegram error: {exc.message}") from exc
