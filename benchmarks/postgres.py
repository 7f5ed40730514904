"""A throwaway PostgreSQL server for the tests and `medbot bench`: ``initdb`` and ``pg_ctl`` in a temp dir.

Debian's ``postgresql`` package (``.ci/run`` installs it) ships the binaries; ``initdb``
refuses to run as root, so as root the cluster is made and run by the ``postgres`` user
(``runuser``). It listens on a free port on 127.0.0.1 only, trusts local connections and
is stopped when the session ends. Where the binaries are absent the tests that need it
skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresServer", "find_binaries", "running_postgres"]

CANDIDATES = ("/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def find_binaries() -> Path | None:
    for candidate in (os.environ.get("MEDBOT_PG_BIN"), *CANDIDATES):
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class PostgresServer:
    port: int
    admin_url: str

    def url(self, database: str) -> str:
        return f"postgresql://medbot@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh empty database (one per test), as a URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    binaries = find_binaries()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) not found")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    work = Path(tempfile.mkdtemp(prefix="medbot-pg-"))
    data = work / "data"
    if as_root:
        shutil.chown(work, "postgres", "postgres")
    port = _free_port()
    try:
        subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "medbot", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=120)
        options = f"-p {port} -k {work} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(work / "log"), "-w", "-t", "60",
                        "-o", options, "start"], check=True, capture_output=True, timeout=90)
        try:
            yield PostgresServer(port, f"postgresql://medbot@127.0.0.1:{port}/postgres")
        finally:
            subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
