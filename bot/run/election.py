"""Receiving that only one worker may do, following the watcher election.

Telegram long polling allows one poller per bot (a second gets 409 Conflict). With
workers sharing a state, each worker starts such a platform for sending only, and the
elected watcher also starts a receiving connection; when the role moves (its holder
stopped or died), the new holder starts receiving. Webhook mode needs none of this:
every worker behind the URL accepts updates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.core.platform import Connection, Platform

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.settings import Settings

__all__ = ["ElectedReceivers"]

log = logging.getLogger(__name__)


class ElectedReceivers:
    """``on_role`` for ``run_watcher``: start receiving when elected, stop when the role is lost."""

    def __init__(self, core: MedBot, settings: Settings, platforms: Sequence[Platform]) -> None:
        self.core, self.settings, self.platforms = core, settings, list(platforms)
        self._connections: dict[str, Connection] = {}

    async def __call__(self, elected: bool) -> None:
        if elected:
            for platform in self.platforms:
                if platform.name not in self._connections:
                    self._connections[platform.name] = await platform.connect(self.core, self.settings, True)
                    log.info("%s: this worker receives updates now (elected)", platform.name)
            return
        for name, connection in list(self._connections.items()):
            del self._connections[name]
            try:
                await connection.close()
            except Exception:
                log.warning("stopping %s's receiving connection failed", name, exc_info=True)
            log.info("%s: this worker stopped receiving updates", name)
