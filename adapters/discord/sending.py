"""The announcer's send path through a running Discord client: one message per reply,
into the channel or one of its threads, with a role ping the only mention allowed, and
Discord's answers mapped to the outcomes the delivery lanes act on."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.render import render
from adapters.discord.views import NO_MENTIONS, PagerView
from bot.core.replies import Reply
from bot.core.sending import PermanentFailure, RateLimit, Refused, RetryLater, ThreadGone

if TYPE_CHECKING:
    from adapters.discord.client import MedBotClient

__all__ = ["UNKNOWN_CHANNEL", "DiscordSender"]

UNKNOWN_CHANNEL = 10003
"""Discord's JSON error code for a deleted channel or thread."""


class DiscordSender:
    """The announcer's send path (``bot.delivery.Sender``) through a running client."""

    platform = "discord"
    limits = RateLimit(chat_interval=1.0, chat_per_minute=50, global_per_second=40.0)  # 5 / 5 s a channel, 50/s overall

    def __init__(self, client: MedBotClient, *, ready_timeout: float = 30.0) -> None:
        self.client = client
        self.ready_timeout = ready_timeout

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False, thread: str = "") -> None:
        """Post to the channel, or into its thread / forum post ``thread`` (a thread is a
        channel of its own to Discord). A role ping is the only mention allowed."""
        if not str(chat_id).isdigit() or (thread and not thread.isdigit()):
            raise PermanentFailure(f"not a Discord channel id: {chat_id!r}")
        try:
            await asyncio.wait_for(self.client.wait_until_ready(), self.ready_timeout)
        except TimeoutError:
            raise RetryLater(self.ready_timeout, "Discord client not connected yet") from None
        message = render(reply)
        view = PagerView(self.client, reply.buttons) if reply.buttons else None
        content, mentions = message.content or None, NO_MENTIONS
        if reply.ping_role.isdigit():
            content = f"<@&{reply.ping_role}>" + (f"\n{content}" if content else "")
            mentions = discord.AllowedMentions(everyone=False, users=False, replied_user=False,
                                               roles=[discord.Object(int(reply.ping_role))])
        try:
            channel: Any
            if thread:
                channel = self.client.get_partial_messageable(int(thread), guild_id=None)
            else:
                channel = self.client.get_channel(int(chat_id)) or await self.client.fetch_channel(int(chat_id))
            if not isinstance(channel, discord.abc.Messageable):
                raise PermanentFailure(f"channel {chat_id} cannot receive messages")
            kwargs: dict[str, Any] = {"embeds": message.embeds, "allowed_mentions": mentions, "silent": silent or reply.silent}
            if view is not None:
                kwargs["view"] = view
            sent = await channel.send(content, **kwargs)
        except discord.RateLimited as exc:
            raise RetryLater(exc.retry_after, "Discord rate limit") from exc
        except discord.NotFound as exc:
            if thread and exc.code == UNKNOWN_CHANNEL:
                raise ThreadGone(f"Discord thread {thread} of channel {chat_id} is gone: {exc.status} {exc.text}") from exc
            raise PermanentFailure(f"Discord refused channel {chat_id}: {exc.status} {exc.text}") from exc
        except discord.Forbidden as exc:
            raise PermanentFailure(f"Discord refused channel {chat_id}: {exc.status} {exc.text}") from exc
        except discord.HTTPException as exc:
            if exc.status == 429 or exc.status >= 500:
                retry_after = float(getattr(exc.response, "headers", {}).get("Retry-After", 5) or 5)
                raise RetryLater(retry_after, f"Discord HTTP {exc.status}") from exc
            raise Refused(f"Discord rejected the message: {exc.status} {exc.text}") from exc
        if view is not None:
            view.attach(sent.id, sent.edit)
