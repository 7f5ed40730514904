"""A running bot follows edits to the synonyms file, and keeps the last good map on a bad one.

``SearchIndex`` loads the synonyms once, at start-up, where a broken file is an error the
operator sees (``SynonymsError``: file, line, problem). Later edits are picked up by
``SynonymsFollower.check`` (``serve`` calls it every few seconds): a good edit replaces the
map, a broken one is logged once and the bot keeps answering with what it had.
"""

from __future__ import annotations

import logging
from pathlib import Path

from index.search import SearchIndex
from index.search_synonyms import SynonymsError, load_synonyms

__all__ = ["SynonymsFollower", "check_synonyms"]

log = logging.getLogger(__name__)


def check_synonyms(path: Path) -> str | None:
    """The one-line problem with the synonyms file at ``path``, or None when it loads."""
    if not path.exists():
        return f"{path}: no such synonyms file"
    try:
        load_synonyms(path)
    except SynonymsError as exc:
        return str(exc)
    return None


class SynonymsFollower:
    """Reloads ``path`` into ``index`` when its modification time changes."""

    def __init__(self, index: SearchIndex, path: Path) -> None:
        self._index = index
        self._path = path
        self._seen = self._stamp()

    def _stamp(self) -> int | None:
        try:
            return self._path.stat().st_mtime_ns
        except OSError:
            return None

    def check(self) -> bool:
        """Reload after an edit; True when a new map is in use. Blocking: call it off the loop."""
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        self._seen = stamp
        if stamp is None:
            log.warning("synonyms file %s is gone; keeping the synonyms in use", self._path)
            return False
        try:
            synonyms = load_synonyms(self._path)
        except SynonymsError as exc:
            log.warning("synonyms not reloaded, keeping the last good ones: %s", exc)
            return False
        self._index.set_synonyms(synonyms)
        log.info("synonyms reloaded from %s (%d groups)", self._path, len(synonyms))
        return True
