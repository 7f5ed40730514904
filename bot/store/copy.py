"""``medbot migrate --from sqlite:///… --to postgresql://…``: a lab's whole state, moved.

Both ends are migrated to the same schema first, then every table the source has is
copied into the target's table of the same name (the columns both have), ids included,
in one transaction on the target, so a failed copy leaves the target as it was. The
target must be empty: copying twice would double every log row and announcement.
"""

from __future__ import annotations

from collections.abc import Iterator

from bot.store.database import Database

__all__ = ["CopyError", "copy_state"]

BATCH = 500
SKIPPED = {"schema_version"}
"""Bookkeeping each engine keeps itself, never copied."""


class CopyError(RuntimeError):
    """The copy cannot run (the target already holds state)."""


def copy_state(source: Database, target: Database) -> dict[str, int]:
    """Copy every row from ``source`` into ``target``; rows copied per table."""
    source_tables = {name: columns for name, columns in source.engine.tables().items() if name not in SKIPPED}
    target_tables = target.engine.tables()
    missing = sorted(set(source_tables) - set(target_tables))
    if missing:
        raise CopyError(f"{target.engine.describe()} has no table {', '.join(missing)}: is it an older medbot's?")
    full = [name for name in source_tables if target._query(f"SELECT COUNT(*) FROM {name}")[0][0]]
    if full:
        raise CopyError(f"{target.engine.describe()} already holds state ({', '.join(full)}); copy into an empty database")
    copied: dict[str, int] = {}
    with target._tx() as tx:
        for name, columns in source_tables.items():
            shared = [column for column in columns if column in target_tables[name]]
            names = ", ".join(shared)
            marks = ", ".join("?" * len(shared))
            count = 0
            for batch in _batches(source, name, shared):
                tx.executemany(f"INSERT INTO {name} ({names}) VALUES ({marks})", batch)
                count += len(batch)
            if "id" in shared:
                target.engine.after_copy(tx, name)
            copied[name] = count
    return copied


def _batches(source: Database, table: str, columns: list[str]) -> Iterator[list[tuple[object, ...]]]:
    """The table's rows in a stable order, a batch at a time (a big log never sits in memory whole)."""
    names = ", ".join(columns)
    order = names  # every column: a stable order whatever the table's key
    offset = 0
    while True:
        rows = source._query(f"SELECT {names} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", (BATCH, offset))
        if not rows:
            return
        yield [tuple(row[number] for number in range(len(columns))) for row in rows]
        offset += len(rows)
