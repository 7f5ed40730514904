"""``/start`` and ``/help``: what medbot is, and what each command does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.i18n import t
from bot.core.registry import ArgSpec, command
from bot.core.replies import Reply

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context

__all__ = ["help_command", "start"]


@command("start", zh="开始使用并查看简介", usage="/start")
async def start(core: MedBot, args: str, ctx: Context) -> Reply:
    """Say hello and show what medbot can do."""
    help_reply = await help_command(core, "", ctx)
    return Reply(title="medbot", text=(t(ctx.lang, "welcome"), *help_reply.text), language=ctx.lang)


@command(
    "help",
    zh="查看命令列表或某个命令的用法",
    usage="/help [command]",
    example="/help search",
    arg=ArgSpec("command", "A command to explain, e.g. search"),
)
async def help_command(core: MedBot, args: str, ctx: Context) -> Reply:
    """List the commands, or explain one of them."""
    name = args.strip().lstrip("/").lower()
    if name:
        spec = core.registry.get(name)
        if spec is None:
            return core.unknown_command(name, ctx)
        lines = [f"/{spec.name} — {spec.describe(ctx.lang)}", t(ctx.lang, "usage", usage=spec.usage)]
        if spec.explain(ctx.lang):
            lines.append(spec.explain(ctx.lang))
        if spec.example:
            lines.append(t(ctx.lang, "example", example=spec.example))
        return Reply(title=f"/{spec.name}", text=tuple(lines), language=ctx.lang)
    lines = [f"/{spec.name} — {spec.describe(ctx.lang)}" for spec in core.commands]
    return Reply(title=t(ctx.lang, "help_title"), text=("\n".join(lines),), footer=t(ctx.lang, "help_footer"), language=ctx.lang)
