"""A fake Discord (REST API + gateway) on 127.0.0.1 for the real discord.py client.

The client is pointed here by patching ``discord.http.Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY`` (see ``patch``). The gateway says HELLO, answers
heartbeats and sends READY after IDENTIFY; tests then dispatch INTERACTION_CREATE events
(``slash``, ``autocomplete``, ``click``) and read what the bot posted back from
``requests``. Messages the bot creates or edits are kept so a click can target them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

from tests.fakes.loopback import serve_on_loopback

__all__ = ["FakeDiscord", "Recorded"]

JSON = {"Content-Type": "application/json"}  # exactly this: discord.py ignores "; charset=utf-8"
EVERYONE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, use_application_commands=True).value
TIMESTAMP = "2026-01-01T00:00:00+00:00"


@dataclass(frozen=True)
class Recorded:
    """One REST call the bot made."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    authorization: str = ""


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeDiscord:
    def __init__(self) -> None:
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self.app_id = next(self._ids)
        self.bot_user = {
            "id": str(self.app_id),
            "username": "medbot",
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
        }
        self.guild_id = next(self._ids)
        self.channel_id = next(self._ids)
        self.requests: list[Recorded] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.originals: dict[str, int] = {}  # interaction token -> message id of its response
        self.failures: list[_Failure] = []
        self.uploads: list[dict[str, Any]] = []  # files sent as multipart: field, filename, data
        self.threads: dict[int, dict[str, Any]] = {}  # threads and forum posts, as channel payloads
        self.deleted: set[int] = set()  # channels and threads that no longer exist
        self.roles: dict[int, str] = {}
        self.forum_id = next(self._ids)
        self.identified = asyncio.Event()
        self.identities: list[list[int] | None] = []  # the ``shard`` of every IDENTIFY (None: unsharded)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._sequence = 0
        self._runner: web.AppRunner | None = None
        self.base = ""

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner, self.base = await serve_on_loopback(app)
        return self

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def patch(self, monkeypatch: Any) -> None:
        """Point discord.py's REST routes and gateway at this server."""
        monkeypatch.setattr(discord.http.Route, "BASE", f"{self.base}/api/v10")
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"ws://127.0.0.1:{self.base.rsplit(':', 1)[1]}/"))

    def fail(self, method: str, path_regex: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Answer the next matching request with an error (once)."""
        self.failures.append(_Failure(method, re.compile(path_regex), status, body, headers or {}))

    # ---------------------------------------------------------------- threads and roles
    def create_thread(self, name: str, *, forum: bool = False) -> int:
        """A member opens a public thread in the text channel, or a post in the forum channel.

        As on Discord, a thread is a channel of its own (type 11) whose ``parent_id`` is
        the channel (or forum) it belongs to; its id addresses it everywhere.
        """
        thread_id = next(self._ids)
        self.threads[thread_id] = {
            "id": str(thread_id), "type": 11, "guild_id": str(self.guild_id), "name": name,
            "parent_id": str(self.forum_id if forum else self.channel_id), "owner_id": "4242",
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "archive_timestamp": TIMESTAMP, "locked": False},
            "message_count": 0, "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
        }
        return thread_id

    def delete_thread(self, thread_id: int) -> None:
        """The thread (or forum post) is deleted: requests to it answer 404 Unknown Channel (10003)."""
        self.threads.pop(thread_id, None)
        self.deleted.add(thread_id)

    def add_role(self, name: str) -> int:
        role_id = next(self._ids)
        self.roles[role_id] = name
        return role_id

    @staticmethod
    def mentions_of(content: str, allowed: dict[str, Any] | None) -> tuple[list[str], list[str], bool]:
        """(users, roles, everyone) a message pings, by Discord's documented rules: without
        ``allowed_mentions`` every mention in the content pings; with it, only the types in
        ``parse`` and the ids listed in ``users`` / ``roles``. Embeds never ping."""
        users = re.findall(r"<@!?(\d+)>", content)
        roles = re.findall(r"<@&(\d+)>", content)
        everyone = bool(re.search(r"@(everyone|here)\b", content))
        parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or ())
        listed_users = {str(snowflake) for snowflake in (allowed or {}).get("users") or ()}  # ids as strings or numbers
        listed_roles = {str(snowflake) for snowflake in (allowed or {}).get("roles") or ()}
        return (
            [u for u in users if "users" in parse or u in listed_users],
            [r for r in roles if "roles" in parse or r in listed_roles],
            everyone and "everyone" in parse,
        )

    # ---------------------------------------------------------------- gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if message["op"] == 1:
                await ws.send_json({"op": 11})
            elif message["op"] == 2:
                shard = message["d"].get("shard")
                self.identities.append(shard)
                ready = {
                    "v": 10,
                    "user": self.bot_user,
                    "guilds": [],
                    "session_id": "fake-session",
                    "resume_gateway_url": f"ws://{request.host}/",
                    "application": {"id": str(self.app_id), "flags": 0},
                    "shard": shard or [0, 1],
                }
                await self._send(ws, "READY", ready)
                self.identified.set()
        return ws

    async def _send(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self._sequence += 1
        await ws.send_json({"op": 0, "t": event, "s": self._sequence, "d": data})

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        await asyncio.wait_for(self.identified.wait(), 10)
        await self._send(self._sockets[-1], event, data)

    # ---------------------------------------------------------------- interactions
    def _user(self, user_id: int, name: str) -> dict[str, Any]:
        return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name, "avatar": None}

    def _text_channel(self, channel_id: int) -> dict[str, Any]:
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": "papers",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }

    def _interaction(
        self, kind: int, data: dict[str, Any], *, locale: str, manage_guild: bool, dm: bool, message: dict[str, Any] | None,
        channel_id: int | None = None,
    ) -> dict[str, Any]:
        interaction_id = next(self._ids)
        user = self._user(4242, "alice")
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.app_id),
            "type": kind,
            "token": f"itoken-{interaction_id}",
            "version": 1,
            "attachment_size_limit": 8 * 1024 * 1024,
            "locale": locale,
            "data": data,
            "app_permissions": str(discord.Permissions.all().value),
        }
        if dm:
            payload["user"] = user
            payload["channel"] = {"id": str(self.channel_id + 1), "type": 1, "recipients": [user]}
            payload["channel_id"] = str(self.channel_id + 1)
            payload["context"] = 1
        else:
            permissions = EVERYONE_PERMISSIONS | (discord.Permissions(manage_guild=True).value if manage_guild else 0)
            payload.update(
                guild_id=str(self.guild_id),
                guild_locale="en-US",
                channel_id=str(channel_id or self.channel_id),
                channel=self.threads.get(channel_id or 0) or self._text_channel(self.channel_id),
                member={
                    "user": user,
                    "roles": [],
                    "joined_at": TIMESTAMP,
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                    "permissions": str(permissions),
                },
                context=0,
            )
        if message is not None:
            payload["message"] = message
        return payload

    async def slash(
        self, name: str, *, locale: str = "en-US", manage_guild: bool = False, dm: bool = False, guild_command: bool = False,
        in_thread: int | None = None, **options: Any
    ) -> dict[str, Any]:
        """A member runs ``/name option:value`` (in thread ``in_thread``); returns the interaction payload sent."""
        data: dict[str, Any] = {"id": str(next(self._ids)), "name": name, "type": 1}
        if options:
            data["options"] = [{"name": key, "type": 4 if isinstance(value, int) else 3, "value": value} for key, value in options.items()]
        if guild_command:
            data["guild_id"] = str(self.guild_id)
        payload = self._interaction(2, data, locale=locale, manage_guild=manage_guild, dm=dm, message=None, channel_id=in_thread)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def autocomplete(self, name: str, option: str, value: str, *, guild_command: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(next(self._ids)),
            "name": name,
            "type": 1,
            "options": [{"name": option, "type": 3, "value": value, "focused": True}],
        }
        if guild_command:
            data["guild_id"] = str(self.guild_id)
        payload = self._interaction(4, data, locale="en-US", manage_guild=False, dm=False, message=None)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def click(self, message_id: int, label: str) -> dict[str, Any]:
        """A member clicks the button labelled ``label`` under a message the bot posted."""
        message = self.messages[message_id]
        buttons = [child for row in message.get("components", []) for child in row.get("components", [])]
        button = next(b for b in buttons if b.get("label") == label)
        data = {"custom_id": button["custom_id"], "component_type": 2}
        payload = self._interaction(3, data, locale="en-US", manage_guild=False, dm=False, message=message)
        self.originals[payload["token"]] = message_id  # a component's "original" is its message
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def wait_for(self, predicate: Callable[[Recorded], bool], timeout: float = 15.0) -> Recorded:
        """The first recorded request matching ``predicate`` (waiting for it if needed)."""

        def found() -> Recorded | None:
            return next((r for r in self.requests if predicate(r)), None)

        async def wait() -> Recorded:
            async with self._changed:
                await self._changed.wait_for(lambda: found() is not None)
            result = found()
            assert result is not None
            return result

        return await asyncio.wait_for(wait(), timeout)

    def callbacks_for(self, interaction: dict[str, Any]) -> Callable[[Recorded], bool]:
        return lambda r: r.method == "POST" and r.path.endswith(f"/interactions/{interaction['id']}/{interaction['token']}/callback")

    # ---------------------------------------------------------------- REST
    def _message(self, body: dict[str, Any], channel_id: int, message_id: int | None = None) -> dict[str, Any]:
        message_id = message_id or next(self._ids)
        stored = self.messages.get(message_id, {})
        content = body.get("content", stored.get("content")) or ""
        users, roles, everyone = self.mentions_of(content, body.get("allowed_mentions"))
        message = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.bot_user,
            "content": body.get("content", stored.get("content")) or "",
            "timestamp": TIMESTAMP,
            "edited_timestamp": TIMESTAMP if stored else None,
            "tts": False,
            "mention_everyone": everyone,
            "mentions": [self._user(int(u), f"user{u}") for u in users],
            "mention_roles": roles,
            "attachments": self._attachments(body) or stored.get("attachments", []),
            "embeds": body["embeds"] if "embeds" in body else stored.get("embeds", []),
            "components": body["components"] if "components" in body else stored.get("components", []),
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or stored.get("flags") or 0),
        }
        self.messages[message_id] = message
        return message

    def _attachments(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        uploaded = body.get("_files") or []
        return [
            {"id": str(next(self._ids)), "filename": f["filename"], "size": len(f["data"]),
             "url": f"{self.base}/attachments/{f['filename']}", "proxy_url": f"{self.base}/attachments/{f['filename']}"}
            for f in uploaded
        ]

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await self._read_body(request)
        self.requests.append(Recorded(request.method, path, dict(request.query), body, request.headers.get("Authorization", "")))
        async with self._changed:
            self._changed.notify_all()
        for failure in self.failures:
            if failure.method == request.method and failure.pattern.search(path):
                self.failures.remove(failure)
                return web.Response(status=failure.status, body=json.dumps(failure.body).encode(), headers={**JSON, **failure.headers})
        parts = path.strip("/").split("/")
        if parts[0] == "channels" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) in self.deleted:
            gone = {"message": "Unknown Channel", "code": 10003}  # what Discord answers for a deleted thread
            return web.Response(status=404, body=json.dumps(gone).encode(), headers=JSON)
        result = self._route(request.method, path, body or {})
        if result is None:
            return web.Response(status=204)
        return web.Response(status=200, body=json.dumps(result).encode(), headers=JSON)

    async def _read_body(self, request: web.Request) -> Any:
        """JSON, or multipart as discord.py sends files: ``payload_json`` plus ``files[n]`` parts."""
        if not request.can_read_body:
            return None
        if not request.content_type.startswith("multipart/"):
            return await request.json()
        body: dict[str, Any] = {}
        files: list[dict[str, Any]] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                files.append({"field": part.name, "filename": part.filename, "data": bytes(await part.read())})
        self.uploads.extend(files)
        body["_files"] = files
        if isinstance(body.get("data"), dict):  # an interaction callback: the files go with its message
            body["data"]["_files"] = files
        return body

    def _route(self, method: str, path: str, body: dict[str, Any]) -> Any:
        parts = path.strip("/").split("/")
        if path == "/users/@me":
            return self.bot_user
        if path == "/oauth2/applications/@me":
            return {
                "id": str(self.app_id),
                "name": "medbot",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": self._user(1, "owner"),
            }
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            return [{**command, "id": str(next(self._ids)), "application_id": str(self.app_id), "version": "1"} for command in body]
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(parts[1], parts[2], body)
        if parts[0] == "webhooks":
            token = parts[2]
            if len(parts) == 3:  # a follow-up message
                return self._message(body.get("data", body), self.channel_id)
            original = self.originals.get(token)
            if method == "DELETE":
                self.messages.pop(original or 0, None)
                return None
            if original is None:
                original = next(self._ids)
                self.originals[token] = original
            return self._message(body, self.channel_id, original)
        if parts[0] == "channels" and len(parts) == 2 and method == "GET":
            return self.threads.get(int(parts[1])) or self._text_channel(int(parts[1]))
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            return self._message(body, int(parts[1]))
        if parts[0] == "channels" and parts[-2] == "messages" and method == "PATCH":
            return self._message(body, int(parts[1]), int(parts[-1]))
        raise web.HTTPBadRequest(text=json.dumps({"message": f"fake Discord has no route {method} {path}", "code": 0}), headers=JSON)

    def _callback(self, interaction_id: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        kind = body["type"]
        data = body.get("data") or {}
        resource: dict[str, Any] = {"type": kind}
        flags = int(data.get("flags") or 0)
        if kind in (4, 5):  # a new message (or its "thinking" placeholder)
            message = self._message(data, self.channel_id)
            self.originals[token] = int(message["id"])
            resource["message"] = message
        elif kind == 7:  # update the message the clicked component sits on
            resource["message"] = self._message(data, self.channel_id, self.originals[token])
        return {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_id": self.originals.get(token),
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": resource,
        }
