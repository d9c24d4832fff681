"""The events collection served by a real ``czmap serve`` process (SQLite and PostGIS): keys from the command line,
writes that survive SIGKILL, and GDAL's OGC API - Features driver reading every event."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyogrio
import pytest

CZMAP = str(Path(sys.executable).with_name("czmap"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_env(events_database_url: str, built_data_dir: Path) -> dict[str, str]:
    """Environment of a ``czmap`` process over the built layers and the parametrised event store."""
    env = {**os.environ, "CZMAP_DATA_DIR": str(built_data_dir), "CZMAP_DATABASE_URL": events_database_url}
    env.pop("CZMAP_SEED_EVENTS", None)
    return {**env, "CZMAP_BASEMAP_URL": ""}


@pytest.fixture
def start_server(server_env: dict[str, str]) -> Iterator[Callable[[], tuple[str, subprocess.Popen[bytes]]]]:
    """Starts ``czmap serve`` on a free port and returns its URL and process; every process is ended at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[str, subprocess.Popen[bytes]]:
        port = _free_port()
        command = [CZMAP, "serve", "--port", str(port)]
        process = subprocess.Popen(command, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process)
        return url, process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
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


def _create_key(env: dict[str, str], role: str) -> str:
    done = subprocess.run(
        [CZMAP, "keys", "create", "--role", role, "--label", f"live {role}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("czm_")
    return lines[0]


def test_acknowledged_writes_survive_sigkill(start_server, server_env, event_feature, seed_records) -> None:
    url, process = start_server()
    key = _create_key(server_env, "editor")
    headers = {"Authorization": f"Bearer {key}"}
    acknowledged = []
    for n in range(5):
        response = httpx.post(f"{url}/collections/events/items", json=event_feature(n), headers=headers, timeout=30)
        assert response.status_code == 201, response.text
        acknowledged.append(response.headers["location"].rsplit("/", 1)[1])
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    url, _ = start_server()
    for event_id in acknowledged:
        assert httpx.get(f"{url}/collections/events/items/{event_id}", timeout=30).status_code == 200
    body = httpx.get(f"{url}/collections/events/items", params={"limit": 1}, timeout=30).json()
    assert body["numberMatched"] == len(seed_records) + len(acknowledged)


def test_a_key_from_the_command_line_is_needed_to_write(start_server, server_env, event_feature) -> None:
    url, _ = start_server()
    editor = _create_key(server_env, "editor")
    items = f"{url}/collections/events/items"
    assert httpx.post(items, json=event_feature(1), timeout=30).status_code == 401
    written = httpx.post(items, json=event_feature(1), headers={"Authorization": f"Bearer {editor}"}, timeout=30)
    assert written.status_code == 201
    retract = httpx.delete(written.headers["location"], headers={"Authorization": f"Bearer {editor}"}, timeout=30)
    assert retract.status_code == 403


def test_gdal_oapif_reads_every_event(start_server, seed_records) -> None:
    url, _ = start_server()
    matched = httpx.get(f"{url}/collections/events/items", params={"limit": 1}, timeout=30).json()["numberMatched"]
    frame = pyogrio.read_dataframe(f"OAPIF:{url}/collections/events")
    assert matched == len(seed_records)
    assert len(frame) == matched
    by_id = {r["id"]: r for r in seed_records}
    for event_id, point in zip(frame["id"].astype(str), frame.geometry, strict=True):
        assert (point.x, point.y) == pytest.approx((by_id[event_id]["lon"], by_id[event_id]["lat"]))
    assert set(frame["event_type"]) == {r["event_type"] for r in seed_records}
