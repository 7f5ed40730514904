"""Shared fixtures: where the repo and the shared data are, and a core on the bundled lists."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
# No test may reach a model hub: semantic tests name the shared model directory themselves.
os.environ.setdefault("MEDBOT_SEARCH_MODEL", "none")
# No test reaches the internet: the metadata services and the link checker stay off unless
# a test's own settings point them at loopback fakes.
os.environ.setdefault("MEDBOT_ENRICH_ENABLED", "false")
os.environ.setdefault("MEDBOT_LINKCHECK_ENABLED", "false")


def shared_dir() -> Path | None:
    """``../shared`` next to the repo (or $MEDBOT_SHARED); None where it is absent."""
    candidates = [os.environ.get("MEDBOT_SHARED"), str(REPO_ROOT.parent / "shared")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "seeds").is_dir():
            return Path(candidate)
    return None


def medbot_command(*args: str) -> list[str]:
    """The ``medbot`` CLI of this checkout, runnable from any directory."""
    return [sys.executable, "-m", "bot", *args]


def medbot_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("MEDBOT_CONFIG", None)
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env.pop("DISCORD_BOT_TOKEN", None)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def bundled_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir whose index holds the bundled lists (built once per test session)."""
    from bot.core.bot import MedBot

    data_dir = tmp_path_factory.mktemp("bundled-data")
    core = MedBot.load(data_dir=data_dir)
    core.close()
    return data_dir


@pytest.fixture
def bundled_core(bundled_data_dir: Path) -> Iterator[object]:
    """A fresh core over the bundled lists (the index is reused, not rebuilt)."""
    from bot.core.bot import MedBot

    core = MedBot.load(data_dir=bundled_data_dir)
    yield core
    core.close()


@pytest.fixture(scope="session")
def lab_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The web page over the seed lists and a booby-trapped list, served once per session."""
    pytest.importorskip("aiohttp")
    pytest.importorskip("jinja2")
    from tests.web_site import running_site, write_lab_config

    with running_site(write_lab_config(tmp_path_factory.mktemp("lab-site"))) as site:
        yield site
# The bundled and haystack indexes (with vectors when the model is here), built once per
# session for every module that asks (tests/haystack.py).
@pytest.fixture
async def discord_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[object]:
    """Discord's REST and gateway on loopback (tests/fakes/discord_api.py), discord.py pointed at it."""
    from tests.fakes.discord_api import FakeDiscord

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = await FakeDiscord().start()
    server.patch(monkeypatch)
    yield server
    await server.close()


from tests.haystack import corpus_index, seed_index  # noqa: E402, F401


@pytest.fixture(scope="session")
def postgres() -> Iterator[object]:
    """A real PostgreSQL server for the session (skips where its binaries or psycopg are absent)."""
    from benchmarks.postgres import find_binaries, running_postgres

    if find_binaries() is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    pytest.importorskip("psycopg")
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store under test keeps its state: a fresh SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "state.sqlite3")
    server = request.getfixturevalue("postgres")
    return str(server.new_database())
