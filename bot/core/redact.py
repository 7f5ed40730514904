"""Secrets never reach a log line, a traceback or the state file.

One redactor for every platform: it removes the exact secrets the composition root
registers (each platform's token and what is derived from it, such as the Telegram
webhook secret) and, as a safety net, anything shaped like a Telegram or Discord bot
token. ``redact`` is the same rule for text about to be stored (an error message that
echoes a request URL).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

__all__ = ["REDACTED", "SecretRedactor", "install_redactor", "redact", "remove_redactor"]

REDACTED = "<redacted>"
_TOKEN_SHAPES = re.compile(
    r"\d{6,12}:[A-Za-z0-9_-]{30,}"  # Telegram: bot id, colon, secret
    r"|[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}"  # Discord: id.timestamp.hmac
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every given secret and every token-shaped string replaced."""
    for secret in sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _TOKEN_SHAPES.sub(REDACTED, text)


class SecretRedactor(logging.Filter):
    """Redacts a record's message, arguments, traceback and stack before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:  # format it now, or the handler will, unredacted
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def _loggers() -> list[logging.Logger]:
    """The root logger and every logger that exists now: a logger's own filters see the
    records created on it, so redaction holds even for a handler attached later (pytest's)."""
    named = [logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    return [logging.getLogger(), *named]


def install_redactor(secrets: Iterable[str] = ()) -> SecretRedactor:
    """Attach one redactor to every logger and to the root logger's handlers."""
    redactor = SecretRedactor(secrets)
    for logger in _loggers():
        logger.addFilter(redactor)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor


def remove_redactor(redactor: SecretRedactor) -> None:
    for logger in _loggers():
        logger.removeFilter(redactor)
    for handler in logging.getLogger().handlers:
        handler.removeFilter(redactor)
