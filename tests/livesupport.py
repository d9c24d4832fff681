"""Starting ``czmap serve`` as a real process for the client, notebook and packaging tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

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
