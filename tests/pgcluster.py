"""A throw-away PostgreSQL cluster (initdb + pg_ctl) on a free loopback port, to stop and start during a test.

The outage tests and the fault scripts in bench/ use it: the shared server on 5432 is never stopped. As root,
the server runs as the ``postgres`` user (initdb refuses root), in a folder made for it and removed at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL ``bin`` folder holding ``initdb`` and ``pg_ctl`` (None if there is none)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    """One cluster: :meth:`start`, :meth:`stop` (fast shutdown: sessions are cut) and :meth:`remove`."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="czmap-pg-"))
        self.datadir = self.root / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    @property
    def url(self) -> str:
        """The URL of its ``postgres`` database (trust authentication, loopback only)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        """Stop the server now (``-m fast``: open sessions are disconnected)."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        status = subprocess.run(self._command("pg_ctl", "-D", str(self.datadir), "status"), capture_output=True)
        if status.returncode == 0:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _command(self, program: str, *args: str) -> list[str]:
        command = [str(self.bindir / program), *args]
        return ["runuser", "-u", "postgres", "--", *command] if self._as_postgres else command

    def _run(self, program: str, *args: str) -> None:
        started = time.monotonic()
        result = subprocess.run(self._command(program, *args), capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed after {time.monotonic() - started:.1f} s: {result.stderr.strip()[-1500:]}"
            )


def new_cluster() -> PgCluster:
    """A cluster made (initdb) but not started; the test is skipped (failed in CI) without the server binaries."""
    from testsupport import require

    bindir = postgres_bin()
    require(bindir is not None, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    assert bindir is not None
    return PgCluster(bindir)
