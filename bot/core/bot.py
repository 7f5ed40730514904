"""MedBot: the object every adapter holds, and the only way into commands.

It owns the index (opened and synchronised with the configured lists at load), the
state store when the watcher has one, and the page tokens behind buttons. Index work is
blocking (Whoosh), so async entry points run it on one dedicated worker thread: the
event loop never waits on a search, and the searcher is never used by two threads.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from cachetools import TTLCache

from bot.core.budget import CommandBudget, Verdict
from bot.core.commands import COMMANDS, PAGERS
from bot.core.commands.browse import topic_value
from bot.core.config import Settings, load_settings
from bot.core.i18n import t
from bot.core.paging import Action, PageTokens, decode, encode
from bot.core.registry import CommandSpec, Registry, clean_text, parse_command
from bot.core.replies import EntryView, Reply, UserError
from bot.core.sources import source_snapshots
from bot.core.views import entry_view
from bot.store.sqlite import Store
from index.search import SearchIndex, SyncReport

if TYPE_CHECKING:
    from bot.core.context import Context

__all__ = ["MedBot"]

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_MESSAGE_CHARS = 4096


class MedBot:
    """The core. See bot/app.py for the contract adapters rely on."""

    def __init__(self, settings: Settings, index: SearchIndex, store: Store, registry: Registry | None = None) -> None:
        self.settings = settings
        self.index = index
        self.store = store
        self.registry = registry or Registry(COMMANDS, PAGERS)
        # Workers sharing a state share tokens too (a press may reach another worker); a lab's stay in memory.
        self.tokens = PageTokens(backing=store if store.shared else None)
        self.browsing: TTLCache[tuple[str, str], str] = TTLCache(maxsize=10_000, ttl=3600)
        """The list each chat opened last in /topic, so a section name several lists share means that list's."""
        self.budget = CommandBudget()
        self.last_sync: SyncReport | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medbot-index")

    # --- construction -------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        config_path: str | os.PathLike[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        settings: Settings | None = None,
        sync: bool = True,
        progress: bool | None = False,
    ) -> MedBot:
        """Settings read, data dir made, store opened, index opened and brought up to date."""
        settings = settings or load_settings(config_path, data_dir)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.state_url)
        index = SearchIndex.open(settings.index_dir, settings.synonyms_path, settings.search_model)
        core = cls(settings, index, store)
        if sync:
            core.sync(progress=progress)
        return core

    def sync(self, *, rebuild: bool = False, progress: bool | None = False) -> SyncReport:
        """Bring the index in line with the configured lists (re-parsing only changed ones)."""
        report = self.index.sync(source_snapshots(self.settings, self.store), rebuild=rebuild, progress=progress)
        self.last_sync = report
        return report

    async def warm(self) -> None:
        """Prepare the index for fast first answers (a long-running bot calls this at start)."""
        await self.run_index(self.index.warm)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.index.close()
        self.store.close()

    # --- what adapters call -------------------------------------------------------------

    @property
    def commands(self) -> list[CommandSpec]:
        """Every visible command, in registry order (menus, slash commands, help)."""
        return self.registry.visible

    def command(self, name: str) -> CommandSpec | None:
        return self.registry.get(name)

    def payload(self, kind: str, argument: str, page: int = 1) -> str:
        """The payload of a button that asks pager ``kind`` for ``page`` of ``argument``."""
        return encode(Action(self.registry.pager(kind).code, argument, page), self.tokens)

    async def handle(self, text: str, ctx: Context) -> Reply | None:
        """Answer one message. None when it is addressed to another bot, or when its sender
        is flooding and has already been asked to slow down."""
        parsed = parse_command(text)
        if parsed is not None and parsed.addressee and ctx.bot_username and parsed.addressee.lower() != ctx.bot_username.lower().lstrip("@"):
            return None
        ctx = await self.chat_language(ctx)
        verdict = await self.budget.check(ctx)
        if verdict is Verdict.DROP:
            return None
        if verdict is Verdict.WARN:
            return Reply(text=(t(ctx.lang, "slow_down"),), is_error=True, ephemeral=True, language=ctx.lang)
        if parsed is None:
            query = clean_text(text, limit=MAX_MESSAGE_CHARS)
            if not query:
                return Reply(text=(t(ctx.lang, "see_help"),), language=ctx.lang)
            return await self._run(self.registry["search"], query, ctx)
        if text.strip() and not parsed.args and _only_invisible_after_command(text):
            return Reply(text=(t(ctx.lang, "only_invisible"),), is_error=True, ephemeral=True, language=ctx.lang)
        spec = self.registry.get(parsed.name)
        if spec is None:
            return self.unknown_command(parsed.name, ctx)
        return await self._run(spec, parsed.args, ctx)

    async def press(self, payload: str, ctx: Context) -> Reply:
        """Resolve a button payload (a page, another random pick, a suggested search)."""
        ctx = await self.chat_language(ctx)
        action = await asyncio.to_thread(decode, payload, self.tokens) if self.store.shared else decode(payload, self.tokens)
        pager = self.registry.pager_for_code(action.code) if action is not None else None
        if action is None or pager is None:
            return Reply(text=(t(ctx.lang, "stale_button"),), is_error=True, ephemeral=True, language=ctx.lang)
        try:
            return await pager.page(self, action.argument, action.page, ctx)
        except UserError as exc:
            return Reply(text=(str(exc),), is_error=True, ephemeral=True, language=ctx.lang)
        except Exception:
            log.exception("button %r failed", payload[:64])
            return Reply(text=(t(ctx.lang, "apology"),), is_error=True, ephemeral=True, language=ctx.lang)

    async def chat_language(self, ctx: Context) -> Context:
        """The chat's ``/settings language`` overrides the user's locale (en/zh)."""
        own = await asyncio.to_thread(self.store.chat_settings, ctx.platform, ctx.chat_id)
        return replace(ctx, language=own.language) if own.language else ctx

    async def inline_search(self, query: str, ctx: Context, limit: int = 10) -> list[EntryView]:
        """Entries for Telegram inline mode: the first ``limit`` results of a search."""
        cleaned = clean_text(query, limit=300)
        if not cleaned:
            return []
        result = await self.run_index(lambda: self.index.search(cleaned, page=1, per_page=limit))
        return [entry_view(hit) for hit in result.hits]

    async def complete_topic(self, prefix: str, limit: int = 25) -> list[tuple[str, str]]:
        """Sections for autocomplete (English and Chinese, numbering ignored) as
        ``(label, value)``: the label shows the whole path; the value, at most 100
        characters, is what ``/topic`` and ``/random`` resolve back to that very section."""
        cleaned = clean_text(prefix, limit=100)
        options = await self.run_index(lambda: self.index.complete_topics(cleaned, limit=limit))
        return [(label, topic_value(path)) for label, path in options]

    async def run_index(self, work: Callable[[], T]) -> T:
        """Run blocking index work on the index thread, off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work)

    # --- internals ----------------------------------------------------------------------

    async def _run(self, spec: CommandSpec, args: str, ctx: Context) -> Reply:
        if spec.needs_admin(args) and ctx.in_group and not ctx.is_admin:
            return Reply(text=(t(ctx.lang, "admin_only", name=spec.name),), is_error=True, ephemeral=True, language=ctx.lang)
        try:
            return await spec.handler(self, args, ctx)
        except UserError as exc:
            return Reply(text=(str(exc),), is_error=True, ephemeral=True, language=ctx.lang)
        except Exception:
            log.exception("command /%s failed", spec.name)
            return Reply(text=(t(ctx.lang, "apology"),), is_error=True, ephemeral=True, language=ctx.lang)

    def unknown_command(self, name: str, ctx: Context) -> Reply:
        """The answer to a command nobody registered: the closest real one, and /help."""
        lines = [t(ctx.lang, "unknown_command", name=name[:64])]
        close = difflib.get_close_matches(name, [spec.name for spec in self.commands], n=1, cutoff=0.6)
        if close:
            lines.append(t(ctx.lang, "did_you_mean_command", name=close[0]))
        lines.append(t(ctx.lang, "see_help"))
        return Reply(text=(" ".join(lines),), is_error=True, ephemeral=True, language=ctx.lang)



def _only_invisible_after_command(text: str) -> bool:
    """``/subscribe`` followed only by zero-width or control characters: not an empty argument
    (which would mean "everything"), but nothing readable at all."""
    parts = text.strip().split(maxsplit=1)
    return len(parts) == 2 and not clean_text(parts[1])
