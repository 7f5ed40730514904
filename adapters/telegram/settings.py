"""The ``telegram:`` config section (env ``MEDBOT_TELEGRAM_<KEY>``), checked at load."""

from __future__ import annotations

import hashlib
from typing import Annotated

import msgspec

__all__ = ["TOKEN_ENV", "TelegramSettings", "api_root", "webhook_secret"]

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


class TelegramSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    base_url: str | None = None
    """A self-hosted Bot API server (``http://127.0.0.1:8081``, with or without ``/bot``)."""
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8443
    username: str | None = None

    def __post_init__(self) -> None:
        for key in ("base_url", "webhook_url"):
            value = getattr(self, key)
            if value is not None and not value.startswith(("http://", "https://")):
                raise ValueError(f"{key}: expected an http(s) URL, got {value!r}")


def api_root(base_url: str) -> str:
    """The server root of a Bot API URL, whether it was written with ``/bot`` or without."""
    root = base_url.rstrip("/")
    return root[: -len("/bot")] if root.endswith("/bot") else root


def webhook_secret(token: str) -> str:
    """The secret Telegram echoes on webhook calls, derived so it needs no setting of its own."""
    return hashlib.sha256(token.encode()).hexdigest()[:48]
