"""``/settings``: the chat's own language, time zone, digest threshold and link previews.

Everyone may list them; changing one (``/settings tz Europe/Berlin``) is for the chat's
admins in groups (the spec's ``admin_to_change``, checked by the core). Unset values
follow the deployment's config (``watch.digest_after``; UTC; the user's locale).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.core.i18n import t
from bot.core.registry import ArgSpec, command
from bot.core.replies import Reply, UserError
from bot.store.records import ChatSettings, utcnow
from bot.store.schedules import zone

if TYPE_CHECKING:
    from bot.core.bot import MedBot
    from bot.core.context import Context

__all__ = ["read_setting", "settings_command"]

_NAMES = {
    "language": "language", "lang": "language", "语言": "language",
    "tz": "timezone", "timezone": "timezone", "时区": "timezone",
    "digest": "digest_threshold", "digest_threshold": "digest_threshold", "threshold": "digest_threshold",
    "preview": "preview", "previews": "preview", "预览": "preview",
}
_DEFAULT = {"default", "reset", "默认"}
MAX_THRESHOLD = 100


def read_setting(name: str, value: str) -> tuple[str, object]:
    """(column, value) for ``/settings NAME VALUE``; ``ValueError`` says what is wrong."""
    column = _NAMES.get(name.lower())
    if column is None:
        raise ValueError(f"there is no setting “{name[:30]}” (language, tz, digest, preview)")
    if value.lower() in _DEFAULT:
        return column, None
    if column == "language":
        if value.lower() not in ("en", "zh"):
            raise ValueError("language is en, zh or default")
        return column, value.lower()
    if column == "timezone":
        if value.upper() == "UTC":
            return column, "UTC"
        if zone(value) is zone(None):
            raise ValueError(f"“{value[:40]}” is not a time zone name like Europe/Berlin or Asia/Shanghai")
        return column, value
    if column == "digest_threshold":
        if not value.isdecimal() or int(value) > MAX_THRESHOLD:
            raise ValueError(f"digest takes a number from 0 to {MAX_THRESHOLD}")
        return column, int(value)
    if value.lower() not in ("on", "off"):
        raise ValueError("preview is on or off")
    return column, int(value.lower() == "on")


def _listing(core: MedBot, own: ChatSettings, lang: str) -> str:
    default = "默认" if lang == "zh" else "default"
    threshold = own.digest_threshold if own.digest_threshold is not None else f"{core.settings.watch.digest_after} ({default})"
    preview = default + " (off)" if own.preview is None else ("on" if own.preview else "off")
    return "\n".join((
        f"language: {own.language or default}",
        f"tz: {own.timezone or core.settings.watch.timezone + ' (' + default + ')'}",
        f"digest: {threshold}",
        f"preview: {preview}",
    ))


@command(
    "settings",
    zh="本聊天的设置：语言、时区、摘要阈值、链接预览",
    usage="/settings [name value]",
    example="/settings tz Europe/Berlin",
    arg=ArgSpec("change", "e.g. tz Europe/Berlin, language zh, digest 5, preview on"),
    admin_to_change=True,
)
async def settings_command(core: MedBot, args: str, ctx: Context) -> Reply:
    """Show this chat's settings; admins change one with /settings NAME VALUE."""
    words = args.split()
    store = core.store
    if words:
        if len(words) != 2:
            raise UserError(t(ctx.lang, "settings_usage"))
        try:
            column, value = read_setting(words[0], words[1])
        except ValueError as exc:
            raise UserError(t(ctx.lang, "settings_bad", error=str(exc))) from None
        own = await asyncio.to_thread(store.set_chat_setting, ctx.platform, ctx.chat_id, column, value,
                                      ctx.user_id or ctx.user_name, utcnow())
        lang = own.language or ctx.lang
        shown = "default" if value is None else words[1]
        return Reply(title=t(lang, "settings_title"), text=(t(lang, "settings_changed", name=words[0], value=shown),
                                                           _listing(core, own, lang)), language=lang)
    own = await asyncio.to_thread(store.chat_settings, ctx.platform, ctx.chat_id)
    return Reply(title=t(ctx.lang, "settings_title"), text=(_listing(core, own, ctx.lang), t(ctx.lang, "settings_usage")),
                 language=ctx.lang)
