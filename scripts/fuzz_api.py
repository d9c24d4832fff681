"""Fuzz every operation of a live ``czmap serve`` with schemathesis; exit non-zero on any finding.

The server runs over the built layers of ``--data-dir`` with a throw-away event store (seeded), and schemathesis
writes with a fresh admin key; the API document gives the events' ``featureId`` the ids of seed events as examples,
so PUT, PATCH and DELETE reach stored events. The run is bounded: ``--examples`` cases per operation and
``--max-time`` seconds in all.

Afterwards the server's access log must show every operation of the document exercised: answered at least once
past authentication and lookup (not 401, 403, 404 or 405), and each event write at least once with a 2xx. The exit
status is non-zero on any schemathesis finding or any operation left unexercised (listed).

    python scripts/fuzz_api.py --data-dir data --examples 20 --max-time 300

``--checks`` chooses schemathesis' checks (default :data:`CHECKS`); ``--schemathesis`` the program to run
(default: the one beside this Python, installed by the ``dev`` extras).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

#: Checks every run makes: no 5xx for any input, and the statuses, content types and bodies the document declares.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
BIN = Path(sys.executable).parent
#: Per-operation expectations: oEmbed answers 501 for a format it does not offer (oEmbed 1.0, 2.3.4); the analysis
#: endpoints shed load with 503 and Retry-After when every slot stays busy (a request the fuzzer gave up on keeps
#: its slot until the computation ends), which a loaded machine reaches.
#: oEmbed's ``url`` is one of the server's own maps (any other is a 404), so its answer is exercised too.
CONFIG = """
[[operations]]
include-path = "/oembed"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "501"]
parameters = {{ "query.url" = "{url}/map?zoom=9&layers=events&dark=true" }}

[[operations]]
include-path-regex = "^/analysis/"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "503"]
"""
#: Answers that show a request never reached the operation's work (no key, wrong role, unknown id, wrong method).
NOT_REACHED = {401, 403, 404, 405}
#: Operations that must succeed at least once: the event writes.
MUST_SUCCEED = re.compile(r"^(POST|PUT|PATCH|DELETE) /collections/events/items")


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
        key = _admin_key(env)
        port = _free_port()
        log = Path(scratch) / "access.log"
        config = Path(scratch) / "schemathesis.toml"
        config.write_text(CONFIG.format(url=f"http://127.0.0.1:{port}"))
        with log.open("w") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--access-log"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url, server)
            _warm_up_analysis(url)
            with urllib.request.urlopen(f"{url}/api", timeout=30) as answer:
                document = json.load(answer)
            command = [
                args.schemathesis,
                "--config-file",
                str(config),
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
            found = subprocess.run(command, env=env, cwd=scratch, check=False).returncode  # its files stay in scratch
        finally:
            server.terminate()
            server.wait(timeout=20)
        missing = unexercised(document, log.read_text(errors="replace").splitlines())
        for operation in missing:
            print(f"not exercised: {operation}", file=sys.stderr)
        total = sum(len(operations) for operations in document.get("paths", {}).values())
        print(f"operations exercised: {total - len(missing)} of {total}", file=sys.stderr)
        return found or (1 if missing else 0)


def unexercised(document: dict[str, Any], log_lines: list[str]) -> list[str]:
    """The operations of ``document`` the access records (JSON lines) show were never exercised (see the module doc).

    Examples
    --------
    >>> doc = {"paths": {"/a/{id}": {"get": {}, "delete": {}}}}
    >>> line = '{"method": "GET", "path": "/a/1", "status": 200}'
    >>> unexercised(doc, [line, '{"method": "DELETE", "path": "/a/1", "status": 404}', "not json"])
    ['DELETE /a/{id}']

    """
    statuses: dict[str, set[int]] = {}
    templates = [
        (f"{method.upper()} {path}", method.upper(), _path_pattern(path))
        for path, operations in document.get("paths", {}).items()
        for method in operations
    ]
    for line in log_lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or "status" not in record:
            continue
        for name, method, pattern in templates:
            if record.get("method") == method and pattern.match(str(record.get("path", ""))):
                statuses.setdefault(name, set()).add(int(record["status"]))
    missing = []
    for name, _, _ in templates:
        seen = statuses.get(name, set())
        if not seen - NOT_REACHED or (MUST_SUCCEED.match(name) and not any(200 <= s < 300 for s in seen)):
            missing.append(name)
    return missing


def _warm_up_analysis(url: str) -> None:
    """Classify one point, so the zones are loaded before schemathesis' first analysis request times out.

    The first analysis request reads every zone layer (over a minute on a loaded two-core machine).
    """
    body = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "p", "properties": {}, '
    body += b'"geometry": {"type": "Point", "coordinates": [46.75, 39.76]}}]}'
    request = urllib.request.Request(
        f"{url}/analysis/classify", data=body, headers={"Content-Type": "application/geo+json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=300):
        pass


def _path_pattern(template: str) -> re.Pattern[str]:
    """The paths a template such as ``/collections/{collectionId}/items`` stands for."""
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CZMAP_DATA_DIR", "data"), help="built layers")
    parser.add_argument("--examples", type=int, default=20, help="test cases per operation")
    parser.add_argument("--max-time", type=int, default=300, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--checks", default=CHECKS)
    parser.add_argument("--schemathesis", default=str(BIN / "schemathesis"))
    return parser.parse_args(argv)


def _admin_key(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", "--role", "admin", "--label", "fuzz"],
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
