"""The buttons under a reply: a discord.ui.View that only keeps them and their timer.

Each button carries the core's payload in its ``custom_id``; ``MedBotClient.on_interaction``
handles the click, not the view, so buttons under a message still work after a restart
(the core's payloads survive one). The view disables its buttons when it times out, and
a page turn replaces the message's view so an old timer never brings old buttons back.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.render import clip
from bot.core.replies import Button

if TYPE_CHECKING:
    from adapters.discord.client import MedBotClient

__all__ = ["BUTTON_PREFIX", "NO_MENTIONS", "PagerView"]

log = logging.getLogger(__name__)
NO_MENTIONS = discord.AllowedMentions.none()
BUTTON_PREFIX = "medbot:"


class PagerView(discord.ui.View):
    """The reply's buttons (previous/next page); on timeout they are disabled in place."""

    def __init__(self, client: MedBotClient, buttons: tuple[Button, ...]) -> None:
        super().__init__(timeout=client.view_timeout)
        self.client = client
        self.message_id: int | None = None
        self.edit: Callable[..., Awaitable[Any]] | None = None  # edits the message this view sits on
        seen: set[str] = set()
        for button in buttons:
            custom_id = BUTTON_PREFIX + button.payload
            if len(custom_id) > 100 or custom_id in seen or len(seen) == 25:
                log.warning("button %r cannot be shown on Discord", button.label)
                continue
            seen.add(custom_id)
            self.add_item(discord.ui.Button(label=clip(button.label, 80) or "…", custom_id=custom_id, row=min(button.row, 4)))

    def attach(self, message_id: int | None, edit: Callable[..., Awaitable[Any]]) -> None:
        """Remember the message the view was sent with, replacing the page shown before."""
        self.message_id, self.edit = message_id, edit
        if message_id is not None:
            previous = self.client.live_views.pop(message_id, None)
            if previous is not None and previous is not self:
                previous.stop()
            self.client.live_views[message_id] = self

    async def on_timeout(self) -> None:
        if self.message_id is not None and self.client.live_views.get(self.message_id) is self:
            del self.client.live_views[self.message_id]
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.edit is not None:
            try:
                await self.edit(view=self)
            except discord.HTTPException as exc:  # message deleted or token expired: nothing to do
                log.debug("could not disable expired buttons: %s", exc)
