"""discord.py client <-> medbot core: slash commands, autocomplete, paging buttons.

Thin by design: every slash command becomes the text "/name value" for ``core.handle``;
each button carries a core payload for ``core.press``. The ``CommandTree`` is built from
``core.commands`` in ``setup_hook`` and synced at start-up (globally, or to
``discord.guild_ids`` for fast development sync). ``run_client`` runs it until a stop
event; ``DiscordSender`` is the announcer's send path.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from adapters.discord.render import clip, render
from adapters.discord.sending import DiscordSender
from adapters.discord.settings import TOKEN_ENV, DiscordSettings
from adapters.discord.views import BUTTON_PREFIX, NO_MENTIONS, PagerView
from bot.core.context import ChatKind, Context
from bot.core.i18n import t
from bot.core.registry import ArgKind, ArgSpec, CommandSpec
from bot.core.replies import Reply
from bot.core.settings import Settings

if TYPE_CHECKING:
    from bot.core.bot import MedBot

__all__ = ["DiscordConnection", "DiscordSender", "MedBotClient", "MedBotTree", "build_client", "connect", "context_of", "run_client"]

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[-_a-z0-9]{1,32}$")
Runner = Callable[[discord.Interaction, str | None], Awaitable[None]]
Coro = Coroutine[Any, Any, Any]


def context_of(interaction: discord.Interaction) -> Context:
    """Who asks, where: guild members need Manage Server to be admins; a DM is the user's own."""
    in_guild = interaction.guild_id is not None
    locale = str(getattr(interaction.locale, "value", interaction.locale) or "")
    channel = interaction.channel
    in_thread = isinstance(channel, discord.Thread) and channel.parent_id is not None
    return Context(
        platform="discord",
        chat_id=str(channel.parent_id if in_thread else (interaction.channel_id or interaction.user.id)),  # type: ignore[union-attr]
        thread_id=str(interaction.channel_id) if in_thread else "",
        user_id=str(interaction.user.id),
        is_admin=(not in_guild) or interaction.permissions.manage_guild,
        language="zh" if locale.lower().startswith("zh") else "en",
        chat_type=ChatKind.GROUP if in_guild else ChatKind.PRIVATE,
        user_name=getattr(interaction.user, "display_name", "") or "",
    )


class _Translator(app_commands.Translator):
    """Chinese descriptions for zh-CN / zh-TW clients, from the specs' ``summary_zh``."""

    async def translate(self, string: app_commands.locale_str, locale: discord.Locale, context: Any) -> str | None:
        if locale in (discord.Locale.chinese, discord.Locale.taiwan_chinese):
            return string.extras.get("zh") or None
        return None


def _callback(arg: ArgSpec | None, run: Runner) -> Callable[..., Coro]:
    """A callback whose signature is the option's type: discord.py reads it to build the option."""
    if arg is None:

        async def no_option(interaction: discord.Interaction) -> None:
            await run(interaction, None)

        return no_option
    if arg.kind is ArgKind.INTEGER:
        if arg.required:

            async def integer(interaction: discord.Interaction, arg: app_commands.Range[int, 0, 100_000]) -> None:
                await run(interaction, str(arg))

            return integer

        async def integer_opt(interaction: discord.Interaction, arg: app_commands.Range[int, 0, 100_000] | None = None) -> None:
            await run(interaction, None if arg is None else str(arg))

        return integer_opt
    if arg.required:

        async def text(interaction: discord.Interaction, arg: app_commands.Range[str, 1, 1000]) -> None:
            await run(interaction, arg)

        return text

    async def text_opt(interaction: discord.Interaction, arg: app_commands.Range[str, 1, 1000] | None = None) -> None:
        await run(interaction, arg)

    return text_opt


class MedBotTree(app_commands.CommandTree["MedBotClient"]):
    """The command tree; a failing command goes to the client's one error handler."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await self.client.apologise(interaction, getattr(error, "original", error))


class MedBotClient(discord.Client):
    """A ``discord.Client`` holding the core; its tree mirrors ``core.commands``."""

    def __init__(self, core: MedBot, settings: Settings, *, defer_after: float = 2.0, view_timeout: float = 300.0, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        options.setdefault("intents", intents)
        options.setdefault("allowed_mentions", NO_MENTIONS)
        options.setdefault("max_ratelimit_timeout", 30.0)
        super().__init__(**options)
        self.core = core
        self.settings = settings
        self.defer_after = defer_after  # Discord allows 3 s before an interaction must be acknowledged
        self.view_timeout = view_timeout  # below the 15 min an interaction token lives
        self.live_views: dict[int, PagerView] = {}  # message id -> the view whose timer runs
        self.discord_settings = settings.platform("discord", DiscordSettings)
        self.tree = MedBotTree(self)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(_Translator())
        for spec in self.core.commands:
            if spec.hidden or not _NAME.match(spec.name):
                continue
            self.tree.add_command(self._slash_command(spec))
        try:
            if self.discord_settings.guild_ids:
                for guild_id in self.discord_settings.guild_ids:
                    guild = discord.Object(id=guild_id)
                    self.tree.copy_global_to(guild=guild)
                    synced = await self.tree.sync(guild=guild)
                    log.info("synced %d commands to guild %s", len(synced), guild_id)
            else:
                synced = await self.tree.sync()
                log.info("synced %d global commands", len(synced))
        except discord.HTTPException as exc:  # keep serving with the commands Discord already has
            log.error("command sync failed: %s", exc)

    def _slash_command(self, spec: CommandSpec) -> app_commands.Command[Any, ..., None]:
        async def run(interaction: discord.Interaction, value: str | None) -> None:
            text = f"/{spec.name} {value or ''}".strip()
            reply = await self._answer(interaction, self.core.handle(text, context_of(interaction)), update=False)
            await self.respond(interaction, reply)

        description = app_commands.locale_str(clip(spec.describe("en"), 100) or spec.name, zh=clip(spec.describe("zh"), 100))
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=spec.name, description=description, callback=_callback(spec.arg, run)
        )
        if spec.arg is not None:
            arg_name = spec.arg.name.lower() if _NAME.match(spec.arg.name.lower()) else "value"
            app_commands.rename(arg=arg_name)(command)
            app_commands.describe(arg=clip(spec.arg.description, 100) or arg_name)(command)
            if spec.arg.autocomplete in ("topic", "entry") and spec.arg.kind is ArgKind.TEXT:
                command.autocomplete("arg")(self._completer(spec.arg.autocomplete))
        if spec.admin_only:
            command.default_permissions = discord.Permissions(manage_guild=True)
        return command

    def _completer(self, kind: str) -> Callable[[discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]:
        async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            try:
                if kind == "topic":
                    pairs = await asyncio.wait_for(self.core.complete_topic(current, limit=25), 2.5)
                elif current.strip():
                    views = await asyncio.wait_for(self.core.inline_search(current, context_of(interaction), limit=25), 2.5)
                    pairs = [(view.title, view.id) for view in views]
                else:
                    pairs = []
            except Exception:  # autocomplete must answer in time; an empty list is a fine answer
                log.exception("autocomplete failed for %r", current)
                return []
            choices = [app_commands.Choice(name=clip(name, 100), value=value[:100]) for name, value in pairs if name and value]
            return choices[:25]

        return complete

    async def _answer(self, interaction: discord.Interaction, work: Awaitable[Reply | None], *, update: bool) -> Reply | None:
        """The core's reply; if it is not ready within ``defer_after``, acknowledge first."""
        task = asyncio.ensure_future(work)
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.defer_after)
        except TimeoutError:
            if update:
                await interaction.response.defer()
            else:
                await interaction.response.defer(thinking=True)
            return await task

    async def respond(self, interaction: discord.Interaction, reply: Reply | None) -> None:
        """Send ``reply`` as the interaction's answer (or its deferred original)."""
        if reply is None:
            reply = Reply(text=(t(context_of(interaction).lang, "see_help"),), ephemeral=True)
        private = reply.ephemeral or reply.is_error
        message = render(reply)
        view = PagerView(self, reply.buttons) if reply.buttons else None
        shown: dict[str, Any] = {"embeds": message.embeds, "allowed_mentions": NO_MENTIONS}
        if view is not None:
            shown["view"] = view
        if reply.files:
            shown["files"] = [discord.File(io.BytesIO(f.data), filename=f.filename) for f in reply.files]
        message_id: int | None
        edit: Callable[..., Awaitable[Any]] = interaction.edit_original_response
        if not interaction.response.is_done():
            sent = await interaction.response.send_message(message.content or None, ephemeral=private, **shown)
            message_id = sent.message_id if sent is not None else None
        elif private:  # deferred in public: replace the "thinking" message by a private one
            await interaction.delete_original_response()
            followup = await interaction.followup.send(message.content or "…", ephemeral=True, wait=True, **shown)
            message_id, edit = followup.id, followup.edit
        else:
            shown.setdefault("view", None)
            if "files" in shown:
                shown["attachments"] = shown.pop("files")
            edited = await interaction.edit_original_response(content=message.content or None, **shown)
            message_id = edited.id
        if view is not None:
            view.attach(message_id, edit)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Paging clicks, for live messages and for those sent before a restart alike."""
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = data.get("custom_id", "")
        if interaction.type is not discord.InteractionType.component or not str(custom_id).startswith(BUTTON_PREFIX):
            return
        try:
            await self.press(interaction, str(custom_id)[len(BUTTON_PREFIX) :])
        except Exception as exc:  # the edge of the adapter: log, apologise, keep running
            await self.apologise(interaction, exc)

    async def press(self, interaction: discord.Interaction, payload: str) -> None:
        """A paging button: the core resolves the payload; the message is edited in place."""
        reply = await self._answer(interaction, self.core.press(payload, context_of(interaction)), update=True)
        assert reply is not None
        message = render(reply)
        if reply.is_error or reply.ephemeral:  # e.g. an expired page: tell the presser only
            if interaction.response.is_done():
                await interaction.followup.send(message.content or "…", embeds=message.embeds, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(
                    message.content or None, embeds=message.embeds, ephemeral=True, allowed_mentions=NO_MENTIONS
                )
            return
        if reply.new_message:  # a details card: a new message below the results, which stay as they are
            if interaction.response.is_done():
                await interaction.followup.send(message.content or "…", embeds=message.embeds, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(message.content or None, embeds=message.embeds, allowed_mentions=NO_MENTIONS)
            return
        view = PagerView(self, reply.buttons) if reply.buttons else None
        shown: dict[str, Any] = {
            "content": message.content or None,
            "embeds": message.embeds,
            "view": view,
            "allowed_mentions": NO_MENTIONS,
        }
        if interaction.response.is_done():
            await interaction.edit_original_response(**shown)
        else:
            await interaction.response.edit_message(**shown)
        message_id = interaction.message.id if interaction.message is not None else None
        if view is not None:
            view.attach(message_id, interaction.edit_original_response)
        elif message_id is not None:  # the last page has no buttons: forget the old view
            old = self.live_views.pop(message_id, None)
            if old is not None:
                old.stop()

    async def apologise(self, interaction: discord.Interaction, error: BaseException) -> None:
        """The one error handler: log the traceback, tell the user briefly and privately."""
        log.error("interaction %s failed", interaction.id, exc_info=error)
        text = t(context_of(interaction).lang, "apology")
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not send the apology: %s", exc)


class ShardedMedBotClient(MedBotClient, discord.AutoShardedClient):
    """The same client over several gateway shards (``discord.shards``), for bots in many servers."""


def build_client(core: MedBot, settings: Settings, **options: Any) -> MedBotClient:
    """The Discord client for ``core``; ``options`` go to ``MedBotClient`` / ``discord.Client``.

    ``discord.shards: auto | N`` makes it an ``AutoShardedClient``; ``discord.shard_ids``
    picks the shards this worker connects (the other workers take the rest).
    """
    chosen = settings.platform("discord", DiscordSettings)
    if chosen.shards is None:
        return MedBotClient(core, settings, **options)
    if isinstance(chosen.shards, int):
        options.setdefault("shard_count", chosen.shards)
        if chosen.shard_ids:
            options.setdefault("shard_ids", list(chosen.shard_ids))
    return ShardedMedBotClient(core, settings, **options)


async def run_client(core: MedBot, settings: Settings, stop: asyncio.Event, *, client: MedBotClient | None = None) -> None:
    """Run the Discord client until ``stop`` is set, then close it and return.

    Pass ``client`` (from ``build_client``) to share it with a ``DiscordSender``. Login
    failures (a bad token) propagate as ``discord.LoginFailure`` for the service to report.
    """
    token = settings.secret(TOKEN_ENV)
    if not token:
        raise ValueError(f"{TOKEN_ENV} is not set")
    client = client or build_client(core, settings)
    async with client:
        await _serve(client, client.start(token), stop)


async def _serve(client: MedBotClient, running: Coroutine[Any, Any, None], stop: asyncio.Event) -> None:
    """Run ``running`` (the client's start or connect) until it ends or ``stop`` is set."""
    runner = asyncio.create_task(running, name="discord-client")
    stopper = asyncio.create_task(stop.wait(), name="discord-stop")
    done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if runner in done:
        stopper.cancel()
        runner.result()  # re-raises a login or connection failure
        return
    await client.close()
    try:
        await runner
    except asyncio.CancelledError:
        pass


class DiscordConnection:
    """A running Discord client (it is needed to send as well as to answer)."""

    def __init__(self, client: MedBotClient, stop: asyncio.Event, running: asyncio.Task[None]) -> None:
        self.client = client
        self.sender = DiscordSender(client)
        self._stop = stop
        self._running = running

    async def wait_closed(self) -> None:
        await asyncio.shield(self._running)

    async def close(self) -> None:
        self._stop.set()
        await self._running


async def connect(core: MedBot, settings: Settings, chat: bool) -> DiscordConnection:
    """Log in now (so a rejected token or an unreachable Discord fails here, where ``serve``
    tells them apart), then run the client; once connected, discord.py reconnects by itself."""
    client = build_client(core, settings)
    try:
        await client.login(settings.secret(TOKEN_ENV) or "")
    except BaseException:
        await client.close()
        raise
    stop = asyncio.Event()
    running = asyncio.create_task(_run_logged_in(client, stop), name="discord")
    return DiscordConnection(client, stop, running)


async def _run_logged_in(client: MedBotClient, stop: asyncio.Event) -> None:
    try:
        await _serve(client, client.connect(reconnect=True), stop)
    finally:
        if not client.is_closed():
            await client.close()
