"""The events collection served by a real ``czmap serve`` process (SQLite and PostGIS): keys from the command line,
writes that survive SIGKILL, and GDAL's OGC API - Features driver reading every event."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import livesupport
import pyogrio
import pytest
from livesupport import CZMAP, stop_server


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
        url, process = livesupport.start_server(server_env)
        started.append(process)
        return url, process

    yield start
    for process in started:
        stop_server(process)


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
