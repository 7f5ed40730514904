"""Which text each configured list is served from, as cheap fingerprints.

The index re-parses a list only when its fingerprint changes, so a plain ``medbot
search`` costs a ``stat`` per file, not a parse. A list the watcher has fetched is served
from the watcher's last good snapshot (newer than the bundled file); otherwise from
its local ``path``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from bot.core.config import Settings, SourceConfig
from index.model import ListDocument
from index.parser import parse, parse_file
from index.search import SourceSnapshot

__all__ = ["SnapshotReader", "source_snapshots"]

log = logging.getLogger(__name__)


class SnapshotReader(Protocol):
    """The part of the store this module needs: the watcher's last good text and hash."""

    def source_states(self) -> Mapping[str, Any]: ...

    def snapshot(self, name: str) -> str | None: ...


def source_snapshots(settings: Settings, store: SnapshotReader | None = None) -> list[SourceSnapshot]:
    """One snapshot per configured source that has any text to serve."""
    snapshots: list[SourceSnapshot] = []
    hashes = _snapshot_hashes(store)
    for source in settings.sources:
        snapshot = _from_store(source, store, hashes.get(source.name)) or _from_path(source)
        if snapshot is None:
            log.warning("source %s has no local file and has not been fetched yet; skipping it", source.name)
            continue
        snapshots.append(snapshot)
    return snapshots


def store_fingerprint(content_hash: str) -> str:
    """The index fingerprint of a list served from the watcher's snapshot (the watcher
    uses it when it updates the index, so a later sync does not re-parse the list)."""
    return f"store:{content_hash}"


def _snapshot_hashes(store: SnapshotReader | None) -> dict[str, str]:
    if store is None:
        return {}
    hashes: dict[str, str] = {}
    for name, state in store.source_states().items():
        if state.content_hash:
            hashes[name] = str(state.content_hash)
    return hashes


def _from_store(source: SourceConfig, store: SnapshotReader | None, fingerprint: str | None) -> SourceSnapshot | None:
    if store is None or not fingerprint:
        return None
    name = source.name

    def text() -> str:
        return store.snapshot(name) or ""

    def load() -> ListDocument:
        return parse(text(), source=name)

    def content() -> bytes:  # marked: a file of the same bytes is parsed as bytes (BOM, UTF-8 checks)
        return b"snapshot\0" + text().encode("utf-8", errors="surrogatepass")

    return SourceSnapshot(name=name, fingerprint=store_fingerprint(fingerprint), load=load, content=content)


def _from_path(source: SourceConfig) -> SourceSnapshot | None:
    path = source.path
    if path is None:
        return None
    try:
        stat = path.stat()
    except OSError:
        log.warning("source %s: cannot read %s", source.name, path)
        return None
    return SourceSnapshot(
        name=source.name,
        fingerprint=f"file:{stat.st_mtime_ns}:{stat.st_size}",
        load=_file_loader(path, source.name),
        content=path.read_bytes,
    )


def _file_loader(path: Path, name: str) -> Callable[[], ListDocument]:
    def load() -> ListDocument:
        return parse_file(path, source=name)

    return load
