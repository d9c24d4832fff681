"""Starting ``czmap serve`` as a real process for the client, notebook and packaging tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, unquote

import httpx
import pytest

CZMAP = str(Path(sys.executable).with_name("czmap"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    env: dict[str, str], czmap: str = CZMAP, cwd: Path | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """``czmap serve`` on a free port with ``env``; returns its URL and process once it answers.

    ``czmap`` is the command (another installation's, e.g. a fresh venv's), ``cwd`` the folder it runs in.
    """
    port = free_port()
    command = [czmap, "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process)
    return url, process


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server started by :func:`start_server` (if it still runs)."""
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until ``url`` answers /conformance, failing with the server's stderr if it exits."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"czmap serve exited with {process.returncode}: {stderr[-2000:]}")
        try:
            if httpx.get(f"{url}/conformance", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("czmap serve did not start within 60 s")


class LoggedServer:
    """A ``czmap serve --access-log`` process whose JSON access log the test reads back (what a client sent)."""

    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log

    def queries(self, collection: str) -> list[dict[str, list[str]]]:
        """The query of every GET of ``collection``'s items since the log was last cleared."""
        path = f"/collections/{collection}/items"
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)  # the service's JSON access records
            except ValueError:
                continue
            if record.get("method") == "GET" and record.get("path") == path:
                found.append(parse_qs(unquote(record.get("query", ""))))
        return found

    def clear(self) -> None:
        """Forget what was logged so far."""
        self.log.write_text("")


@contextmanager
def logged_server(env: dict[str, str], log: Path) -> Iterator[LoggedServer]:
    """``czmap serve --access-log`` with ``env``, its output into ``log``, stopped on exit."""
    port = free_port()
    with log.open("w") as out:
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--access-log"]
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield LoggedServer(url, log)
    finally:
        stop_server(process)
