"""Button payloads: short, opaque strings the core can turn back into a request.

Telegram allows 64 bytes of callback data, so a payload carries the request itself when
it fits (``s|2|lesion detection`` survives a restart) and otherwise a short-lived token
kept here. Topics are named by a short hash of their path, which is stable across
restarts because it is computed from the path, not stored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Action", "PageTokens", "decode", "encode", "path_hash", "MAX_PAYLOAD_BYTES"]

MAX_PAYLOAD_BYTES = 64


@dataclass(frozen=True, slots=True)
class Action:
    """What a button asks for: ``kind`` search|topic|random|paper, the argument and a page."""

    kind: str
    argument: str
    page: int = 1


_KINDS = {"search": "s", "topic": "t", "random": "r", "paper": "p"}
_KINDS_BACK = {code: kind for kind, code in _KINDS.items()}


def path_hash(path: tuple[str, ...]) -> str:
    return hashlib.blake2s("\x1f".join(path).encode("utf-8"), digest_size=5).hexdigest()


class PageTokens:
    """Arguments too long for a payload, remembered for a while (LRU with a time limit)."""

    def __init__(self, ttl_seconds: float = 6 * 3600, capacity: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def put(self, argument: str) -> str:
        token = secrets.token_urlsafe(9)
        self._items[token] = (time.monotonic(), argument)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return token

    def get(self, token: str) -> str | None:
        item = self._items.get(token)
        if item is None:
            return None
        created, argument = item
        if time.monotonic() - created > self._ttl:
            del self._items[token]
            return None
        self._items.move_to_end(token)
        return argument


def encode(action: Action, tokens: PageTokens) -> str:
    """A payload of at most 64 bytes for ``action``."""
    code = _KINDS[action.kind]
    inline = f"{code}|{action.page}|{action.argument}"
    if len(inline.encode("utf-8")) <= MAX_PAYLOAD_BYTES:
        return inline
    return f"{code.upper()}|{action.page}|{tokens.put(action.argument)}"


def decode(payload: str, tokens: PageTokens) -> Action | None:
    """The action behind a payload, or None when it is malformed or has expired."""
    parts = payload.split("|", 2)
    # isdecimal, not isdigit: "²" is a digit int() cannot read; the length keeps int() cheap.
    if len(parts) != 3 or not (parts[1].isdecimal() and len(parts[1]) <= 6):
        return None
    code, page_text, argument = parts
    page = max(1, min(int(page_text), 10_000))
    if code in _KINDS_BACK:
        return Action(_KINDS_BACK[code], argument, page)
    if code.lower() in _KINDS_BACK and code.isupper():
        stored = tokens.get(argument)
        if stored is None:
            return None
        return Action(_KINDS_BACK[code.lower()], stored, page)
    return None
