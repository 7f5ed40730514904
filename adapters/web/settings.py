"""The ``web:`` config section (env ``MEDBOT_WEB_<KEY>``): the page is off until a port is set."""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["WebSettings"]


class WebSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 0
    """0: ``medbot serve`` starts no web page (``medbot web`` then uses 8080)."""
