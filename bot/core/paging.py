"""Button payloads: short, opaque strings the core can turn back into a request.

Telegram allows 64 bytes of callback data, so a payload carries the request itself when
it fits (``s|2|lesion detection`` survives a restart) and otherwise a short-lived token
kept here and, when a store backs it, in the state, so a press that reaches another
worker than the one that sent the message still resolves. The first letter is the pager's code (``bot/core/commands/__init__.py``
lists them); an upper-case letter means "the argument is a token". Topics are named by
a short hash of their path, which is stable across restarts because it is computed
from the path, not stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Protocol

from cachetools import TTLCache

__all__ = ["MAX_PAYLOAD_BYTES", "Action", "PageTokens", "decode", "encode", "path_hash"]

MAX_PAYLOAD_BYTES = 64
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Action:
    """What a button asks for: the pager's one-letter ``code``, the argument and a page."""

    code: str
    argument: str
    page: int = 1


def path_hash(path: tuple[str, ...]) -> str:
    return hashlib.blake2s("\x1f".join(path).encode("utf-8"), digest_size=5).hexdigest()


class TokenBacking(Protocol):
    """Where tokens outlive this process (``Store.put_token``/``get_token``): shared by workers."""

    def put_token(self, token: str, argument: str, ttl_seconds: float) -> None: ...

    def get_token(self, token: str) -> str | None: ...


class PageTokens:
    """Arguments too long for a payload, remembered for a while (LRU with a time limit).

    With a ``backing`` store each token is also written there (one small insert), and a
    token this process never made is looked up there: any worker resolves any button.
    """

    def __init__(self, ttl_seconds: float = 6 * 3600, capacity: int = 10_000, backing: TokenBacking | None = None) -> None:
        self._items: TTLCache[str, str] = TTLCache(maxsize=capacity, ttl=ttl_seconds)
        self._ttl = ttl_seconds
        self._backing = backing

    def put(self, argument: str) -> str:
        token = secrets.token_urlsafe(9)
        self._items[token] = argument
        if self._backing is not None:
            self._backing.put_token(token, argument, self._ttl)
        return token

    def get(self, token: str) -> str | None:
        found = self._items.get(token)
        if found is None and self._backing is not None:
            found = self._backing.get_token(token)
            if found is not None:
                self._items[token] = found
        return found


def encode(action: Action, tokens: PageTokens) -> str:
    """A payload of at most 64 bytes for ``action``."""
    inline = f"{action.code}|{action.page}|{action.argument}"
    if len(inline.encode("utf-8")) <= MAX_PAYLOAD_BYTES:
        return inline
    return f"{action.code.upper()}|{action.page}|{tokens.put(action.argument)}"


def decode(payload: str, tokens: PageTokens) -> Action | None:
    """The action behind a payload, or None when it is malformed or has expired."""
    parts = payload.split("|", 2)
    # isdecimal, not isdigit: "²" is a digit int() cannot read; the length keeps int() cheap.
    if len(parts) != 3 or len(parts[0]) != 1 or not parts[0].isalpha() or not (parts[1].isdecimal() and len(parts[1]) <= 6):
        return None
    code, page_text, argument = parts
    page = max(1, min(int(page_text), MAX_PAGE))
    if code.islower():
        return Action(code, argument, page)
    stored = tokens.get(argument)
    return None if stored is None else Action(code.lower(), stored, page)
