"""The CLI's output streams, with list text made harmless before it reaches a terminal."""

from __future__ import annotations

import io
from typing import TextIO

from bot.core.text import displayable

__all__ = ["DisplayableStream"]


class DisplayableStream(io.TextIOBase):
    """Writes through to ``inner`` without control and direction-override characters.

    Every line the CLI prints may hold a list's text (titles, sections, error messages
    echoing a query), so the filter sits on the stream rather than on each print.
    """

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(displayable(text))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # io.TextIOBase declares it as an attribute
        return self._inner.encoding

    def writable(self) -> bool:
        return True
