"""Parsed lists kept by content, so a full rebuild does not parse an unchanged list again.

Parsing is about a third of a full build's CPU (markdown-it is pure Python: ~10 CPU
seconds for the 91 lists of the benchmark haystack). A rebuild (``medbot index
--rebuild``, a new synonyms file, a damaged generation) mostly re-reads lists whose
bytes have not changed since the last build, so their parse is taken from here.

A parse is a pure function of the list's bytes, its source name and the parser's code,
so the key is a hash of all three: the code part hashes every module of the ``index``
package and the markdown-it version, so any change to the parser (or to anything it
imports) makes every cached parse a miss instead of a stale answer. Files are pickles in
the index directory, which is as trusted as the Whoosh segments beside it (they are
pickles too). A damaged or unreadable file is a miss, never an error; writes are atomic,
so two processes building at once each see a whole file or none. Each list keeps only
its latest parse (a watcher re-reading a list every hour does not fill the disk), and a
full build drops the parses of lists no longer configured.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from index.model import ListDocument

__all__ = ["ParseCache", "parser_code_digest"]

log = logging.getLogger(__name__)

SUFFIX = ".parsed"


@lru_cache(maxsize=1)
def parser_code_digest() -> bytes:
    """A hash of the code a parse depends on (every ``index`` module, markdown-it, Python)."""
    import markdown_it

    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{markdown_it.__version__}|{sys.version_info[:2]}|{pickle.HIGHEST_PROTOCOL}".encode())
    package = Path(__file__).resolve().parent
    for module in sorted(package.glob("*.py")):
        digest.update(module.name.encode())
        digest.update(module.read_bytes())
    return digest.digest()


class ParseCache:
    """One file per (content, source, parser code); see the module docstring."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def key(self, content: bytes, source: str) -> str:
        """``<source tag>-<hash of code, source and content>``: one list's parses share a tag."""
        name = source.encode("utf-8", errors="surrogatepass")
        digest = hashlib.blake2b(parser_code_digest(), digest_size=20)
        digest.update(name)
        digest.update(b"\0")
        digest.update(content)
        return f"{hashlib.blake2b(name, digest_size=6).hexdigest()}-{digest.hexdigest()}"

    def get(self, key: str) -> ListDocument | None:
        path = self.directory / (key + SUFFIX)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            document = pickle.loads(data)
        except Exception as error:  # a torn or foreign file: parse again, and drop it
            log.info("cached parse %s is unreadable (%s); parsing the list again", path.name, type(error).__name__)
            path.unlink(missing_ok=True)
            return None
        return document if isinstance(document, ListDocument) else None

    def put(self, key: str, document: ListDocument) -> None:
        """Keep a parse in place of the list's older one; a full or read-only disk only
        costs the next build a parse."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    pickle.dump(document, file, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.directory / (key + SUFFIX))
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            tag = key.partition("-")[0] + "-"
            for older in self.directory.glob(tag + "*" + SUFFIX):
                if older.name != key + SUFFIX:
                    older.unlink(missing_ok=True)  # an earlier version of this list
        except OSError as error:
            log.info("cannot keep a parsed list in %s: %s", self.directory, error)

    def keep_only(self, keys: Iterable[str]) -> None:
        """Drop parses of lists no longer built (called after a full build knows them all)."""
        wanted = {key + SUFFIX for key in keys}
        try:
            children = list(self.directory.iterdir())
        except OSError:
            return
        for child in children:
            stale_temporary = child.suffix == ".tmp" and _older_than(child, 3600)
            if (child.suffix == SUFFIX and child.name not in wanted) or stale_temporary:
                child.unlink(missing_ok=True)


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False
