"""Fuzz every operation of a live ``czmap serve`` with schemathesis; exit non-zero on any finding.

The server runs over the built layers of ``--data-dir`` with a throw-away event store (seeded), and schemathesis
writes with a fresh editor key, so the write operations are exercised past authentication. The run is bounded:
``--examples`` cases per operation and ``--max-time`` seconds in all.

    python scripts/fuzz_api.py --data-dir data --examples 20 --max-time 300

``--checks`` chooses schemathesis' checks (default :data:`CHECKS`); ``--schemathesis`` the program to run
(default: the one beside this Python, installed by the ``dev`` extras).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

#: Checks every run makes: no 5xx for any input, and the statuses, content types and bodies the document declares.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
BIN = Path(sys.executable).parent


def main(argv: list[str] | None = None) -> int:
    """Start the server, run schemathesis against it, stop the server; schemathesis' exit status."""
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="czmap-fuzz-") as scratch:
        env = {
            **os.environ,
            "CZMAP_DATA_DIR": str(Path(args.data_dir).resolve()),
            "CZMAP_EVENTS__DATABASE_URL": f"sqlite:///{scratch}/events.sqlite",
            # no rate limit: the fuzzer's burst would be answered 429 and leave the operations untested
            "CZMAP_SERVICE__RATE_PER_ADDRESS": "0",
            "CZMAP_SERVICE__AUTH_FAILURES_PER_ADDRESS": "0",
            "CZMAP_SERVICE__WRITES_PER_KEY": "0",
        }
        key = _editor_key(env)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sys.stderr,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url, server)
            command = [
                args.schemathesis,
                "run",
                f"{url}/api",
                "--checks",
                args.checks,
                "--max-examples",
                str(args.examples),
                "--max-time",
                str(args.max_time),
                "--seed",
                str(args.seed),
                "--workers",
                "1",
                "--request-timeout",
                "60",  # the first analysis request loads the zones; a loaded CI machine is slow
                "--generation-database",
                "none",
                "--no-color",
                "--header",
                f"Authorization: Bearer {key}",
            ]
            return subprocess.run(command, env=env, cwd=scratch, check=False).returncode  # its files stay in scratch
        finally:
            server.terminate()
            server.wait(timeout=20)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CZMAP_DATA_DIR", "data"), help="built layers")
    parser.add_argument("--examples", type=int, default=20, help="test cases per operation")
    parser.add_argument("--max-time", type=int, default=300, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--checks", default=CHECKS)
    parser.add_argument("--schemathesis", default=str(BIN / "schemathesis"))
    return parser.parse_args(argv)


def _editor_key(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--role", "editor", "--label", "fuzz"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return next(word for word in done.stdout.split() if word.startswith("czm_"))


def _free_port(first: int = 8200, last: int = 8299) -> int:
    """A free port of the range the team's machines serve on (8200-8299)."""
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port from {first} to {last}")


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"czmap serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/conformance", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("czmap serve did not start within 60 s")


if __name__ == "__main__":
    sys.exit(main())
