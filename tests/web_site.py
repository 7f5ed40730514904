"""A lab's web page for tests: the bundled lists plus a booby-trapped list, served for real.

``lab_site`` builds a data dir with a config file naming the two seed lists and a small
list whose entries carry ``<script>`` and ``javascript:`` links, then runs
``adapters.web.start_site`` on 127.0.0.1 (port 0) in a thread with its own event loop,
so synchronous clients (Playwright's sync API, plain httpx) can use it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO_ROOT

TRICKS_LIST = """# Lab tricks

## Sneaky

- `<script>window.pwned=4</script>` Sneaky script title [paper](javascript:window.pwned=5) [code](https://github.com/example/sneaky) - see <img src=x onerror="window.pwned=3">
- [Plain good paper](https://example.org/good) - fine `2021`
"""


@dataclass(frozen=True)
class LabSite:
    """A running site: its root URL and the config it serves."""

    url: str
    config: Path


def write_lab_config(root: Path) -> Path:
    """A config naming the seed lists and the tricks list; returns its path."""
    lists = root / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    (lists / "lab-tricks.md").write_text(TRICKS_LIST, encoding="utf-8")
    seeds = REPO_ROOT / "data" / "lists"
    config = root / "medbot.yaml"
    config.write_text(
        "sources:\n"
        f"  - path: {seeds / 'awesome-medical-research.md'}\n"
        f"  - path: {seeds / 'awesome-medical-machine-learning.md'}\n"
        "  - path: lists/lab-tricks.md\n"
        "data_dir: data\n",
        encoding="utf-8",
    )
    return config


def record_new_entries(config: Path) -> None:
    """As if the watcher had just seen the tricks list and two seed papers appear upstream."""
    import hashlib

    from bot.core.config import load_settings
    from bot.store.records import Version
    from bot.store.sqlite import Store, utcnow
    from index.parser import parse_file

    settings = load_settings(config)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with Store(settings.state_path) as store:
        now = utcnow()
        poll = store.begin_poll(now)
        for source in settings.sources:
            assert source.path is not None
            text = source.path.read_text(encoding="utf-8")
            entries = parse_file(source.path, source=source.name).entries
            fresh = entries if source.name == "lab-tricks" else entries[-2:]
            version = Version(text, hashlib.sha256(text.encode()).hexdigest(), entries)
            store.accept_version(source.name, version, now=now, poll_id=poll, candidates=fresh)


@contextmanager
def running_site(config: Path) -> Iterator[LabSite]:
    """The site for ``config`` on a free loopback port; yields its root URL."""
    from adapters.web.server import start_site
    from bot.core.bot import MedBot

    record_new_entries(config)
    core = MedBot.load(config)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, object] = {}

    async def main() -> None:
        stop = asyncio.Event()
        holder["stop"] = stop
        await core.warm()
        runner, port = await start_site(core, "127.0.0.1", 0)
        holder["url"] = f"http://127.0.0.1:{port}"
        started.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), name="web-site", daemon=True)
    thread.start()
    assert started.wait(60), "the web site did not start"
    try:
        yield LabSite(str(holder["url"]), config)
    finally:
        stop = holder["stop"]
        assert isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
        core.close()
