"""python-telegram-bot 22 ``Application`` <-> the medbot core: thin, every command via ``core.handle``.

The adapter translates and nothing more: an update becomes ``(text, Context)``, the
core's ``Reply`` becomes escaped HTML (``adapters.telegram_render``). Handlers come from
the core's command registry, so a new command needs no change here. Flood safety is
PTB's ``AIORateLimiter``; one error handler logs and apologises, so one bad update never
stops the bot. ``TelegramSender`` is the same send path for the watcher's announcements.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from contextlib import suppress
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

# Opt in to PTB's timedelta time periods now: otherwise reading RetryAfter warns (v22.2+).
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import BotCommand, InlineKeyboardMarkup, InputFile, Message, MessageEntity, ReplyParameters, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from adapters.telegram.mentions import addressed_words
from adapters.telegram.render import NO_PREVIEW, inline_result, keyboard, render_reply
from adapters.telegram.settings import TOKEN_ENV, TelegramSettings, api_root, webhook_secret
from bot.core.context import ChatKind, Context
from bot.core.i18n import t
from bot.core.inline_pages import inline_page
from bot.core.registry import parse_command
from bot.core.replies import Reply
from bot.core.sending import PermanentFailure, RateLimit, Refused, RetryLater

if TYPE_CHECKING:
    from telegram import Bot

    from bot.core.bot import MedBot
    from bot.core.settings import Settings

__all__ = ["TelegramConnection", "TelegramSender", "build_application", "connect", "start_application", "stop_application"]

log = logging.getLogger(__name__)

INLINE_CACHE_SECONDS = 30
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_ADMIN_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}


def _seconds(period: float | timedelta) -> float:
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


async def deliver(
    bot: Bot, chat_id: int | str, reply: Reply, *, reply_to: int | None = None, silent: bool = False
) -> list[Message]:
    """Send a reply as one or more HTML messages (buttons under the last), then its files as documents."""
    sent = await send_chunks(bot, chat_id, render_reply(reply), keyboard(reply),
                             reply_to=reply_to, silent=silent or reply.silent)
    for attachment in reply.files:
        sent.append(await bot.send_document(chat_id, InputFile(attachment.data, filename=attachment.filename),
                                            disable_notification=silent or reply.silent))
    return sent


async def send_chunks(
    bot: Bot,
    chat_id: int | str,
    chunks: list[str],
    markup: InlineKeyboardMarkup | None,
    *,
    reply_to: int | None = None,
    silent: bool = False,
) -> list[Message]:
    """Rendered HTML messages in order: the first threads to ``reply_to``, the last has ``markup``."""
    sent = []
    for number, chunk in enumerate(chunks):
        sent.append(await bot.send_message(
            chat_id,
            chunk,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            reply_markup=markup if number == len(chunks) - 1 else None,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to and not number else None,
            disable_notification=silent,
        ))
    return sent


class TelegramSender:
    """The watcher's send path (``bot.delivery.Sender``): same rendering, outcomes mapped.

    The bot's ``AIORateLimiter`` keeps to Telegram's per-chat limits and sleeps through
    a few ``retry_after`` answers itself; a flood wait that outlasts those retries comes
    back as ``RetryLater``, a kicked bot or a vanished chat as ``PermanentFailure``.
    """

    platform = "telegram"
    limits = RateLimit()  # PTB's AIORateLimiter already keeps Telegram's limits: not twice
    shared_limits = RateLimit(chat_interval=1.0, chat_per_minute=20)  # workers sharing a state: PTB sees one process

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False) -> None:
        try:
            await deliver(self.bot, chat_id, reply, silent=silent)
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc.retry_after), "Telegram flood control") from exc
        except (Forbidden, ChatMigrated) as exc:
            raise PermanentFailure(f"telegram chat {chat_id}: {exc.message}") from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower() or "kicked" in exc.message.lower():
                raise PermanentFailure(f"telegram chat {chat_id}: {exc.message}") from exc
            raise Refused(f"telegram refused the message: {exc.message}") from exc
        except NetworkError as exc:
            raise RetryLater(30, f"network: {exc.message}") from exc
        except TelegramError as exc:
            raise RetryLater(60, f"Telegram error: {exc.message}") from exc


class TelegramAdapter:
    """The handlers, bound to one core: one method per kind of update."""

    def __init__(self, core: MedBot, settings: Settings) -> None:
        self.core = core
        self.settings = settings
        self.specs = {spec.name: spec for spec in core.commands}

    # -- start-up ------------------------------------------------------------------
    async def post_init(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Publish the command menu in English and Chinese; a failure here is not fatal."""
        for language in ("en", "zh"):
            menu = [BotCommand(spec.name, spec.describe(language)[:256] or spec.name)
                    for spec in self.specs.values() if not spec.hidden and _COMMAND_NAME.match(spec.name)]
            try:
                await application.bot.set_my_commands(menu, language_code=None if language == "en" else language)
            except TelegramError as exc:
                log.warning("could not publish the %s command menu: %s", language, exc)

    # -- handlers ------------------------------------------------------------------
    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A registered command (PTB already dropped ``/cmd@otherbot``), or plain text in a private chat."""
        await self._answer_message(update, context)

    async def on_mention(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``@medbot words`` or a reply to medbot in a group: the words are a search."""
        message, chat = update.effective_message, update.effective_chat
        words = addressed_words(message, context.bot.username or "", context.bot.id) if message else None
        if message is None or chat is None or words is None:
            return
        reply = await self.core.handle(words, self._context(update, context, is_admin=False))
        if reply is not None:
            await deliver(context.bot, chat.id, reply, reply_to=message.message_id)

    async def on_other_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An unknown command: answered in private, or in a group when addressed to us by name."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        parsed = parse_command(message.text)
        if chat.type != ChatType.PRIVATE and (parsed is None or (parsed.addressee or "").lower() != (context.bot.username or "").lower()):
            return
        await self._answer_message(update, context)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A paging button: the core resolves the payload; the query is always answered."""
        query = update.callback_query
        if query is None:
            return
        ctx = self._context(update, context, is_admin=False)
        answered = False
        try:
            reply = await self.core.press(query.data or "", ctx)
            notice = (reply.title or " ".join(reply.text) or "…")[:200] if reply.is_error else None
            await query.answer(text=notice)
            answered = True
            if not reply.is_error and reply.new_message and query.message is not None:  # a details card: below the results
                await deliver(context.bot, query.message.chat.id, reply, reply_to=query.message.message_id)
            elif not reply.is_error:
                await self._show_page(query, reply, context)
        finally:
            if not answered:
                with suppress(TelegramError):
                    await query.answer(text=t(ctx.lang, "apology")[:200])

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``@medbot query`` in any chat: search results as articles, cached briefly.

        If the search fails the query is still answered (empty, not cached) so the user's
        picker stops spinning; the error then goes to ``on_error`` to be logged.
        """
        query = update.inline_query
        if query is None:
            return
        try:
            entries, next_offset = await inline_page(self.core, query.query, query.offset)
        except Exception:
            with suppress(TelegramError):
                await query.answer([], cache_time=0)
            raise
        seen: set[str] = set()
        results = []
        for number, entry in enumerate(entries[:50]):
            result_id = entry.id if 0 < len(entry.id.encode()) <= 64 and entry.id not in seen else f"r{number}"
            seen.add(result_id)
            results.append(inline_result(entry, result_id))
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS, next_offset=next_offset)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: log the traceback, tell the user briefly, keep running."""
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(context.error, Forbidden):  # removed from the chat or blocked: nobody to tell
            log.warning("update %s: cannot answer: %s", update_id, context.error)
            return
        log.error("update %s failed", update_id, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        language = update.effective_user.language_code if update.effective_user else None
        lang = "zh" if (language or "").lower().startswith("zh") else "en"
        with suppress(TelegramError):
            await context.bot.send_message(update.effective_chat.id, t(lang, "apology"))

    # -- helpers -------------------------------------------------------------------
    async def _answer_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        parsed = parse_command(message.text)
        spec = self.specs.get(parsed.name) if parsed else None
        is_admin = chat.type == ChatType.PRIVATE
        if spec is not None and spec.admin_only and not is_admin:
            is_admin = await self._is_group_admin(update, context)
        reply = await self.core.handle(message.text, self._context(update, context, is_admin=is_admin))
        if reply is None:
            return
        in_group = chat.type != ChatType.PRIVATE
        await deliver(context.bot, chat.id, reply, reply_to=message.message_id if in_group else None)

    async def _is_group_admin(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        assert chat is not None
        if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True  # an anonymous admin writes as the group itself
        if user is None:
            return False
        try:
            member = await context.bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:
            log.warning("getChatMember failed in chat %s: %s", chat.id, exc)
            return False
        return member.status in _ADMIN_STATUSES

    def _context(self, update: Update, context: ContextTypes.DEFAULT_TYPE, *, is_admin: bool) -> Context:
        chat, user = update.effective_chat, update.effective_user
        chat_id = chat.id if chat is not None else (user.id if user is not None else 0)
        return Context(
            platform="telegram",
            chat_id=str(chat_id),
            user_id=str(user.id) if user else "",
            is_admin=is_admin,
            language=(user.language_code if user else None) or "en",
            chat_type=_chat_kind(chat.type if chat is not None else ChatType.PRIVATE),
            bot_username=context.bot.username,
            user_name=user.full_name if user else "",
        )

    async def _show_page(self, query: Any, reply: Reply, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Edit the message the button sits under; overflow (rare) goes in new messages."""
        chunks, markup = render_reply(reply), keyboard(reply)
        try:
            await query.edit_message_text(chunks[0], parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                                          reply_markup=markup if len(chunks) == 1 else None)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        if len(chunks) > 1 and query.message is not None:
            await send_chunks(context.bot, query.message.chat.id, chunks[1:], markup)


def _chat_kind(chat_type: str) -> ChatKind:
    if chat_type == ChatType.PRIVATE:
        return ChatKind.PRIVATE
    return ChatKind.CHANNEL if chat_type == ChatType.CHANNEL else ChatKind.GROUP


def build_application(core: MedBot, settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB application for ``core``: handlers, rate limiter, error handler, menu at start-up."""
    token = settings.secret(TOKEN_ENV)
    if not token:
        raise ValueError(f"{TOKEN_ENV} is not set")
    options = settings.platform("telegram", TelegramSettings)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs each URL, and Bot API URLs hold the token
    adapter = TelegramAdapter(core, settings)
    builder = ApplicationBuilder().token(token).rate_limiter(AIORateLimiter(max_retries=3))
    if options.base_url:
        root = api_root(options.base_url)
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    application = builder.post_init(adapter.post_init).concurrent_updates(8).build()
    names = list(adapter.specs)
    only_messages = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler(names, adapter.on_command, filters=only_messages))
    application.add_handler(MessageHandler(filters.COMMAND & only_messages, adapter.on_other_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & only_messages,
                                           adapter.on_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS & only_messages
                                           & (filters.Entity(MessageEntity.MENTION) | filters.REPLY), adapter.on_mention))
    application.add_handler(CallbackQueryHandler(adapter.on_button))
    application.add_handler(InlineQueryHandler(adapter.on_inline))
    application.add_error_handler(adapter.on_error)
    return application


async def start_application(
    application: Application[Any, Any, Any, Any, Any, Any], settings: Settings, *, poll_timeout: int = 10
) -> None:
    """Start by hand (inside a running loop): long polling, or a webhook when configured."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    options = settings.platform("telegram", TelegramSettings)
    webhook_url = options.webhook_url
    if webhook_url:
        await application.updater.start_webhook(
            listen=options.webhook_listen,
            port=options.webhook_port,
            url_path=urlparse(webhook_url).path.lstrip("/"),
            webhook_url=webhook_url,
            secret_token=webhook_secret(settings.secret(TOKEN_ENV) or ""),
            allowed_updates=ALLOWED_UPDATES,
        )
        log.info("Telegram: webhook at %s", webhook_url)
    else:
        await application.updater.start_polling(poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
        log.info("Telegram: long polling as @%s", application.bot.username)


async def stop_application(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop in order: stop fetching updates, finish handlers, close the HTTP clients."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


class TelegramConnection:
    """A started Telegram application: answering chats (``chat``) or only sending."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], chat: bool) -> None:
        self.application = application
        self.chat = chat
        self.sender = TelegramSender(application.bot)
        self._closed = asyncio.Event()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def close(self) -> None:
        try:
            if self.chat:
                await stop_application(self.application)
            else:
                await self.application.shutdown()
        finally:
            self._closed.set()


async def connect(core: MedBot, settings: Settings, chat: bool) -> TelegramConnection:
    """Start Telegram for ``core``: polling or the webhook when ``chat``, else just the bot for sending."""
    application = build_application(core, settings)
    if chat:
        await start_application(application, settings)
    else:
        await application.initialize()
    return TelegramConnection(application, chat)
