"""A fake Telegram Bot API server (aiohttp on 127.0.0.1, port 0) for the real PTB to talk to.

python-telegram-bot cannot be pointed at an in-memory double without patching it, but it
takes any ``base_url``: so this is a small HTTP server speaking the Bot API's wire format
(``/bot<token>/<method>``, form or JSON parameters, ``{"ok": ..., "result": ...}``).
It records every call with its decoded parameters, lets a test inject updates (messages
carry ``bot_command`` entities as Telegram adds them, without which PTB's
``CommandHandler`` stays silent), injects failures per method (429 with ``retry_after``,
500, 403 "bot was kicked"), long-polls ``getUpdates`` and, once ``setWebhook`` is
called, pushes updates to the webhook instead. Unknown methods get HTTP 400 (a 404
would make PTB think the token is invalid).
"""

from __future__ import annotations

import asyncio
import html.parser
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from tests.fakes.loopback import serve_on_loopback

__all__ = ["DEFAULT_TOKEN", "ApiCall", "FakeTelegramAPI", "parse_telegram_html"]

# A made-up token of the real shape (joined at run time so secret scanners do not flag it).
DEFAULT_TOKEN = ":".join(("4839574812", "AAFakeTokenForMedbotTests_0123456789abc"))

# Parameters PTB sends JSON-encoded; every other value stays the string it was sent as.
_JSON_KEYS = {
    "reply_markup", "reply_parameters", "link_preview_options", "results", "commands",
    "scope", "allowed_updates", "entities", "caption_entities", "button", "media",
}


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made: the method, its decoded parameters and our HTTP status."""

    method: str
    params: dict[str, Any]
    status: int = 200
    result: Any = None
    at: float = field(default_factory=time.time)
    """When the call arrived (wall clock): flood limits are checked against these."""


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    times: int


@dataclass
class _Chat:
    data: dict[str, Any]
    members: dict[str, str] = field(default_factory=dict)  # user id -> status
    topics: dict[int, str] = field(default_factory=dict)  # forum topics: message_thread_id -> name


_TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                  "tg-spoiler", "span", "blockquote", "tg-emoji"}


class _StrictTelegramHTML(html.parser.HTMLParser):
    """Telegram's HTML subset, checked like the server would: known tags, balanced, href on <a>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TELEGRAM_TAGS:
            raise ValueError(f"can't parse entities: unsupported start tag {tag!r}")
        if tag == "a":
            href = dict(attrs).get("href")
            if not href:
                raise ValueError("can't parse entities: <a> without href")
            self.links.append((href, ""))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise ValueError(f"can't parse entities: unexpected end tag {tag!r}")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if "a" in self.stack and self.links:
            href, text = self.links[-1]
            self.links[-1] = (href, text + data)


def parse_telegram_html(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The visible text and the ``(href, text)`` links of an HTML message; ValueError if Telegram would refuse it."""
    parser = _StrictTelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise ValueError(f"can't parse entities: unclosed {parser.stack[-1]!r}")
    return "".join(parser.parts), parser.links


def _plain(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").upper() != "HTML":
        return text
    return parse_telegram_html(text)[0]


class FakeTelegramAPI:
    """The Bot API on loopback. ``async with FakeTelegramAPI() as api:`` then use ``api.base_url``."""

    def __init__(self, token: str = DEFAULT_TOKEN, username: str = "medbot", bot_id: int | None = None) -> None:
        self.token = token
        self.username = username
        self.bot_id = bot_id or int(token.split(":", 1)[0])
        self.calls: list[ApiCall] = []
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.webhook_deliveries: list[int] = []  # HTTP statuses the webhook answered
        self.documents: list[dict[str, Any]] = []  # sendDocument uploads: chat_id, filename, content_type, data
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._query_ids = itertools.count(9000)
        self._failures: dict[str, list[_Failure]] = {}
        self._chats: dict[str, _Chat] = {}
        self._changed = asyncio.Condition()
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._push_lock = asyncio.Lock()
        self._closing = False
        self.root_url = ""

    # -- lifecycle -------------------------------------------------------------------
    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 on a free port (or ``port``); returns the root URL (``http://127.0.0.1:N``)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner, self.root_url = await serve_on_loopback(app, port, access_log=None)
        return self.root_url

    async def stop(self) -> None:
        self._closing = True
        self._new_update.set()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What PTB's ``ApplicationBuilder.base_url`` wants: the token is appended to it."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root_url}/file/bot"

    # -- what the bot did ------------------------------------------------------------
    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        where: Callable[[ApiCall], bool] | None = None,
        timeout: float = 20.0,
        failed_too: bool = False,
    ) -> list[ApiCall]:
        """Wait until the bot made ``count`` matching successful calls (any, with ``failed_too``)."""

        def matching() -> list[ApiCall]:
            return [c for c in self.calls_to(method) if (failed_too or c.status == 200) and (where is None or where(c))]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), timeout)
        return matching()

    # -- what a test makes happen ----------------------------------------------------
    def fail(
        self,
        method: str,
        status: int = 500,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error instead."""
        default = {
            429: f"Too Many Requests: retry after {retry_after or 1}",
            403: "Forbidden: bot was kicked from the group chat",
            400: "Bad Request: chat not found",
        }.get(status, "Internal Server Error")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.setdefault(method, []).append(_Failure(status, description or default, retry_after, times))

    @staticmethod
    def user(user_id: int = 1001, first_name: str = "Ada", language_code: str = "en", username: str | None = None) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code,
                "username": username or first_name.lower()}

    @staticmethod
    def private_chat(user: dict[str, Any]) -> dict[str, Any]:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    @staticmethod
    def group_chat(chat_id: int = -1001234567890, title: str = "Imaging lab") -> dict[str, Any]:
        return {"id": chat_id, "type": "supergroup", "title": title}

    @staticmethod
    def forum_chat(chat_id: int = -1009876543210, title: str = "Lab forum") -> dict[str, Any]:
        """A supergroup with topics enabled (``is_forum``), as Telegram describes it."""
        return {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}

    def create_topic(self, chat: dict[str, Any], name: str) -> int:
        """An admin opens a forum topic; its ``message_thread_id`` is the id of the service
        message that created it, as in Telegram."""
        thread_id = next(self._message_ids)
        self._chat(chat).topics[thread_id] = name
        return thread_id

    def delete_topic(self, chat: dict[str, Any], thread_id: int) -> None:
        """An admin deletes the topic (and every message in it)."""
        self._chat(chat).topics.pop(thread_id, None)

    def set_member_status(self, chat_id: int | str, user_id: int | str, status: str) -> None:
        """What ``getChatMember`` answers: creator, administrator, member, left, kicked."""
        known = self._chats.get(str(chat_id)) or self._chat({"id": int(chat_id), "type": "supergroup", "title": "group"})
        known.members[str(user_id)] = status

    def send_text(
        self,
        text: str,
        *,
        user: dict[str, Any] | None = None,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        topic: int | None = None,
    ) -> dict[str, Any]:
        """A user types ``text`` (perhaps replying to ``reply_to``, perhaps inside forum
        topic ``topic``); returns the message as the bot receives it."""
        user = user or self.user()
        chat = chat or self.private_chat(user)
        self._chat(chat)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": chat, "from": user, "text": text,
        }
        if topic is not None:  # Telegram marks messages in a topic, and threads them to it
            message.update(message_thread_id=topic, is_topic_message=True)
        entities: list[dict[str, Any]] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else "/"
            entities.append({"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2})
        for mention in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{5,32}", text):  # as Telegram marks @username
            offset = len(text[: mention.start()].encode("utf-16-le")) // 2
            entities.append({"type": "mention", "offset": offset, "length": len(mention.group().encode("utf-16-le")) // 2})
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.messages[(str(chat["id"]), message["message_id"])] = message
        self.inject({"message": message})
        return message

    def press(self, message: dict[str, Any], data: str, *, user: dict[str, Any] | None = None) -> str:
        """A user presses an inline button with callback ``data`` under ``message``; returns the query id."""
        query_id = str(next(self._query_ids))
        current = self.messages.get((str(message["chat"]["id"]), message["message_id"]), message)
        self.inject({"callback_query": {
            "id": query_id, "from": user or self.user(), "message": current,
            "chat_instance": f"ci{current['chat']['id']}", "data": data,
        }})
        return query_id

    def inline_query(self, query: str, *, user: dict[str, Any] | None = None, offset: str = "") -> str:
        """A user types ``@medbot query`` in any chat (scrolled to ``offset``); returns the inline query id."""
        query_id = str(next(self._query_ids))
        self.inject({"inline_query": {"id": query_id, "from": user or self.user(), "query": query, "offset": offset}})
        return query_id

    def inject(self, update: dict[str, Any]) -> int:
        """Queue a raw update (``update_id`` is assigned); pushed to the webhook if one is set."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._new_update.set()
        if self.webhook is not None:
            self._spawn(self._push_to_webhook())
        return int(update["update_id"])

    def message_from_call(self, call: ApiCall) -> dict[str, Any]:
        """The message a sendMessage call created, as Telegram stored it."""
        return self.messages[(str(call.params["chat_id"]), int(call.result["message_id"]))]

    # -- the server --------------------------------------------------------------------
    def _chat(self, chat: dict[str, Any]) -> _Chat:
        known = self._chats.get(str(chat["id"]))
        if known is None:
            known = self._chats[str(chat["id"])] = _Chat(dict(chat))
        else:  # the chat as a test last described it (a group that became a forum)
            known.data.update(chat)
        return known

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _dispatch(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        params = await _read_params(request)
        if token != self.token:
            return await self._answer(method, params, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        failure = self._take_failure(method)
        if failure is not None:
            body: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return await self._answer(method, params, failure.status, body)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: method {method} not found"}
            return await self._answer(method, params, 400, body)
        status, result = await handler(params)
        if status != 200:
            return await self._answer(method, params, status, {"ok": False, "error_code": status, "description": result})
        return await self._answer(method, params, 200, {"ok": True, "result": result})

    async def _answer(self, method: str, params: dict[str, Any], status: int, body: dict[str, Any]) -> web.Response:
        async with self._changed:
            self.calls.append(ApiCall(method, params, status, body.get("result")))
            self._changed.notify_all()
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "medbot", "username": self.username}

    # -- methods -----------------------------------------------------------------------
    async def _api_getMe(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                     "supports_inline_queries": True}

    async def _api_getUpdates(self, params: dict[str, Any]) -> tuple[int, Any]:
        if self.webhook is not None:
            return 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
        offset = int(params.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._closing:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), min(timeout, 30))
            except TimeoutError:
                pass
        limit = int(params.get("limit") or 100)
        return 200, self._updates[:limit]

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        self.webhook = None
        if _truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        return 200, True

    async def _api_setWebhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return 200, True
        if not url.startswith(("http://", "https://")):
            return 400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
        self.webhook = {"url": url, "secret_token": params.get("secret_token")}
        if _truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        if self._updates:
            self._spawn(self._push_to_webhook())
        return 200, True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> tuple[int, Any]:
        url = self.webhook["url"] if self.webhook else ""
        return 200, {"url": url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _api_sendMessage(self, params: dict[str, Any]) -> tuple[int, Any]:
        chat_id = str(params.get("chat_id", ""))
        text = str(params.get("text", ""))
        if not chat_id or not text:
            return 400, "Bad Request: message text is empty" if chat_id else "Bad Request: chat_id is empty"
        try:
            plain = _plain(text, params.get("parse_mode"))
        except ValueError as exc:
            return 400, f"Bad Request: {exc}"
        if len(plain.encode("utf-16-le")) // 2 > 4096:
            return 400, "Bad Request: message is too long"
        chat = self._chats.get(chat_id)
        thread = params.get("message_thread_id")
        if thread is not None and chat is not None and chat.data.get("is_forum") and int(thread) not in chat.topics:
            return 400, "Bad Request: message thread not found"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": chat.data if chat else {"id": int(chat_id), "type": "private", "first_name": "user"},
            "from": self._bot_user(), "text": plain,
        }
        if thread is not None and chat is not None and chat.data.get("is_forum"):
            message.update(message_thread_id=int(thread), is_topic_message=True)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return 200, message

    async def _api_createForumTopic(self, params: dict[str, Any]) -> tuple[int, Any]:
        chat = self._chats.get(str(params.get("chat_id", "")))
        if chat is None or not chat.data.get("is_forum"):
            return 400, "Bad Request: the chat is not a forum"
        thread_id = self.create_topic(chat.data, str(params.get("name", "")))
        return 200, {"message_thread_id": thread_id, "name": chat.topics[thread_id], "icon_color": 7322096}

    async def _api_deleteForumTopic(self, params: dict[str, Any]) -> tuple[int, Any]:
        chat = self._chats.get(str(params.get("chat_id", "")))
        thread = int(params.get("message_thread_id") or 0)
        if chat is None or thread not in chat.topics:
            return 400, "Bad Request: message thread not found"
        self.delete_topic(chat.data, thread)
        return 200, True

    async def _api_sendDocument(self, params: dict[str, Any]) -> tuple[int, Any]:
        """A file upload (multipart): recorded in ``documents`` as Telegram would store it."""
        chat_id = str(params.get("chat_id", ""))
        document = params.get("document")
        if not chat_id or not isinstance(document, dict) or not document.get("data"):
            return 400, "Bad Request: there is no document in the request"
        if len(document["data"]) > 50 * 1024 * 1024:
            return 400, "Bad Request: file is too big"
        chat = self._chats.get(chat_id)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": chat.data if chat else {"id": int(chat_id), "type": "private", "first_name": "user"},
            "from": self._bot_user(),
            "document": {"file_id": f"doc{len(self.documents)}", "file_unique_id": f"u{len(self.documents)}",
                         "file_name": document["filename"], "mime_type": document["content_type"],
                         "file_size": len(document["data"])},
        }
        self.documents.append({"chat_id": chat_id, **document})
        self.messages[(chat_id, message["message_id"])] = message
        return 200, message

    async def _api_editMessageText(self, params: dict[str, Any]) -> tuple[int, Any]:
        if params.get("inline_message_id"):
            return 200, True
        key = (str(params.get("chat_id", "")), int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            return 400, "Bad Request: message to edit not found"
        try:
            text = _plain(str(params.get("text", "")), params.get("parse_mode"))
        except ValueError as exc:
            return 400, f"Bad Request: {exc}"
        markup = params.get("reply_markup")
        if message.get("text") == text and message.get("reply_markup") == markup:
            return 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same"
        message = {**message, "text": text, "edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        self.messages[key] = message
        return 200, message

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, True

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> tuple[int, Any]:
        results = params.get("results") or []
        if len(results) > 50:
            return 400, "Bad Request: too many results"
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or any(not 0 < len(i.encode()) <= 64 for i in ids):
            return 400, "Bad Request: RESULT_ID_INVALID"
        return 200, True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> tuple[int, Any]:
        self.commands[str(params.get("language_code") or "")] = list(params.get("commands") or [])
        return 200, True

    async def _api_getMyCommands(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, self.commands.get(str(params.get("language_code") or ""), [])

    async def _api_getChatMember(self, params: dict[str, Any]) -> tuple[int, Any]:
        chat = self._chats.get(str(params.get("chat_id", "")))
        if chat is None:
            return 400, "Bad Request: chat not found"
        user_id = str(params.get("user_id", ""))
        status = chat.members.get(user_id, "member")
        member: dict[str, Any] = {"status": status, "user": self.user(int(user_id))}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                      "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
                      "can_edit_stories", "can_delete_stories")
            member.update({"can_be_edited": False, "is_anonymous": False, **{right: True for right in rights}})
        elif status == "kicked":
            member["until_date"] = 0
        return 200, member

    async def _api_close(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, True

    async def _api_logOut(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, True

    async def _push_to_webhook(self) -> None:
        """Deliver queued updates to the webhook the way Telegram does: POST, one by one."""
        async with self._push_lock:
            await self._push_queued()

    async def _push_queued(self) -> None:
        if self._session is None:
            self._session = ClientSession(timeout=ClientTimeout(total=10))
        for _ in range(50):
            if self.webhook is None or not self._updates:
                return
            update = self._updates[0]
            headers = {}
            if self.webhook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret_token"])
            try:
                async with self._session.post(self.webhook["url"], json=update, headers=headers) as response:
                    self.webhook_deliveries.append(response.status)
                    delivered = response.status == 200
            except ClientError:
                delivered = False
            if delivered:
                if self._updates and self._updates[0] is update:
                    self._updates.pop(0)
            else:
                await asyncio.sleep(0.1)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"true", "1"}


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            return {}
        return dict(data) if isinstance(data, dict) else {}
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):  # a multipart upload (sendDocument): keep the bytes
            params[key] = {"filename": value.filename, "content_type": value.content_type, "data": value.file.read()}
            continue
        text = value if isinstance(value, str) else str(value)
        if key in _JSON_KEYS:
            try:
                params[key] = json.loads(text)
                continue
            except ValueError:
                pass
        params[key] = text
    params.update({k: v for k, v in request.query.items() if k not in params})
    return params
