"""A console chat on stdin/stdout with the same commands as the chat platforms.

Each line goes through ``core.handle`` like a chat message; buttons under a reply are
numbered, and typing ``:1`` presses the first one (``:n``/``:p`` press next/previous).
A bad line gets its reply and the chat goes on; end of input ends it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, TextIO

from bot.core.context import Context
from bot.core.replies import Button, Reply

if TYPE_CHECKING:
    from bot.core.bot import MedBot

__all__ = ["render", "run_console"]

log = logging.getLogger(__name__)

PROMPT = "medbot> "


def render(reply: Reply) -> str:
    """The reply as console text, buttons numbered so they can be pressed."""
    body = Reply(
        title=reply.title,
        text=reply.text,
        entries=reply.entries,
        footer=reply.footer,
        language=reply.language,
        page=reply.page,
    ).plain_text()
    if reply.buttons:
        keys = "  ".join(f"[:{number} {button.label}]" for number, button in enumerate(reply.buttons, 1))
        body = f"{body}\n\n{keys}" if body else keys
    return body


def _button_for(key: str, buttons: tuple[Button, ...]) -> Button | None:
    key = key.strip().lower()
    if key.isdigit() and 1 <= int(key) <= len(buttons):
        return buttons[int(key) - 1]
    wanted = {"n": ("next", "下一页"), "p": ("prev", "上一页")}.get(key[:1])
    if wanted:
        for button in buttons:
            if any(word in button.label.lower() for word in wanted):
                return button
    return None


async def _chat(core: MedBot, stdin: TextIO, stdout: TextIO, ctx: Context) -> None:
    interactive = stdin.isatty()
    buttons: tuple[Button, ...] = ()
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            if text.startswith(":"):
                button = _button_for(text[1:], buttons)
                if button is None:
                    stdout.write("No such button here. Buttons are shown as [:1 ...] under a reply.\n\n")
                    continue
                reply: Reply | None = await core.press(button.payload, ctx)
            else:
                reply = await core.handle(text, ctx)
        except Exception:  # the console must keep going whatever a line does
            log.exception("console line failed")
            stdout.write("Sorry, something went wrong with that line.\n\n")
            continue
        if reply is None:
            continue
        buttons = reply.buttons or buttons if reply.is_error else reply.buttons
        stdout.write(render(reply) + "\n\n")
        stdout.flush()


def run_console(core: MedBot, stdin: TextIO, stdout: TextIO, *, language: str = "en") -> int:
    """Run the chat until end of input; returns the exit status."""
    ctx = Context(platform="console", chat_id="console", user_id="console", is_admin=True, language=language)
    try:
        asyncio.run(_chat(core, stdin, stdout, ctx))
    except KeyboardInterrupt:
        stdout.write("\n")
    return 0
