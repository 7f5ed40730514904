"""Profile one medbot phase with pyinstrument (an optional, bench-time dependency).

    python -m benchmarks.profile search  CONFIG DATA_DIR   # the query set, index built
    python -m benchmarks.profile handle  CONFIG DATA_DIR   # the same through core.handle
    python -m benchmarks.profile build   CONFIG DATA_DIR   # a full rebuild
    python -m benchmarks.profile start   CONFIG DATA_DIR   # imports + open + first search

CONFIG and DATA_DIR are a workspace ``medbot bench`` leaves when run with
``MEDBOT_BENCH_KEEP=DIR`` (or any medbot config and data dir). Prints pyinstrument's
text report; ``--html FILE`` writes the interactive one instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

__all__ = ["main"]


def _workload(kind: str, config: str, data_dir: str) -> Any:
    from benchmarks.corpus import load_queries

    queries = load_queries()
    if kind == "start":
        def start() -> None:
            from bot.core.bot import MedBot

            MedBot.load(config, data_dir).index.search("lesion detection", per_page=5)

        return start
    from bot.core.bot import MedBot

    core = MedBot.load(config, data_dir, sync=kind != "build")
    if kind == "build":
        return lambda: core.sync(rebuild=True, progress=False)
    if kind == "search":
        def search() -> None:
            for query in queries:
                core.index.search(query.text, page=query.page, per_page=5)

        return search
    from benchmarks.worker import unlimited
    from bot.app import Context

    unlimited(core)
    from bot.core.paging import Action, encode

    ctx = Context(platform="console", chat_id="profile", is_admin=True)

    async def handle_all() -> None:
        for query in queries:
            if query.page == 1:
                await core.handle(f"/search {query.text}", ctx)
            else:
                await core.press(encode(Action("search", query.text, query.page), core.tokens), ctx)

    return lambda: asyncio.run(handle_all())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    parser.add_argument("kind", choices=("search", "handle", "build", "start"))
    parser.add_argument("config")
    parser.add_argument("data_dir")
    parser.add_argument("--html", metavar="FILE")
    args = parser.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("benchmarks.profile needs pyinstrument: pip install 'pyinstrument>=4.6'", file=sys.stderr)
        return 2
    work = _workload(args.kind, args.config, args.data_dir) if args.kind != "start" else None
    profiler = Profiler(interval=0.0005)
    profiler.start()
    (work or _workload("start", args.config, args.data_dir))()
    profiler.stop()
    if args.html:
        with open(args.html, "w", encoding="utf-8") as handle:
            handle.write(profiler.output_html())
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
