"""A real ``czmap serve`` started while its PostgreSQL database is down, which then comes up.

Before the database answers, the service starts and serves the layers, the collection list and the map; event
requests answer 503 with Retry-After and /ready names the events store. Once a throw-away cluster starts on that
port, the same process migrates and seeds the database and serves events, without a restart. The outage is
logged once (WARNING), not once per refused request.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from livesupport import CZMAP, free_port, stop_server, wait_until_up
from pgcluster import PgCluster, new_cluster

ITEMS = "/collections/events/items"


@pytest.fixture
def stopped_cluster() -> Iterator[PgCluster]:
    """A cluster made (initdb) but not started: nothing listens on its port yet."""
    cluster = new_cluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def server_down_at_start(
    stopped_cluster: PgCluster, built_data_dir: Path, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """``czmap serve`` pointed at the stopped cluster; yields its URL and the file its log goes to."""
    env = {**os.environ, "CZMAP_DATA_DIR": str(built_data_dir), "CZMAP_BASEMAP__URL": ""}
    env["CZMAP_EVENTS__DATABASE_URL"] = stopped_cluster.url
    env["CZMAP_EVENTS__RETRY_AFTER"] = "4"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([CZMAP, "serve", "--port", str(port)], env=env, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url, log
    finally:
        stop_server(process)


def test_serves_layers_and_refuses_events_while_the_database_is_down(server_down_at_start: tuple[str, Path]) -> None:
    url, _ = server_down_at_start
    for path in ["/collections", "/collections/nagorno-karabakh/items?limit=1", "/map", "/", "/health"]:
        assert httpx.get(url + path, timeout=10).status_code == 200, path
    events = httpx.get(url + ITEMS, timeout=10)
    assert events.status_code == 503, events.text
    assert events.headers["Retry-After"] == "4"
    ready = httpx.get(url + "/ready", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["down"] == ["events"]


def test_recovers_when_the_database_starts(server_down_at_start: tuple[str, Path], stopped_cluster: PgCluster) -> None:
    url, log = server_down_at_start
    statuses = {httpx.get(url + ITEMS, timeout=10).status_code for _ in range(20)}
    assert statuses == {503}
    stopped_cluster.start()
    deadline = time.monotonic() + 30
    page = httpx.get(url + ITEMS, timeout=10)
    while page.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        page = httpx.get(url + ITEMS, timeout=10)
    assert page.status_code == 200, page.text
    assert httpx.get(url + "/ready", timeout=10).json()["status"] == "ready"
    seeded = _wait_for_events(url)
    assert seeded > 0  # the seeding waited for the database
    loud = [r for r in _records(log) if r["level"] in ("WARNING", "ERROR") and "database" in r["message"]]
    assert 1 <= len(loud) <= 4, loud  # the outage and its end, not one line per refused request


def _wait_for_events(url: str, within: float = 30) -> int:
    deadline = time.monotonic() + within
    while True:
        matched = httpx.get(url + ITEMS, params={"limit": 1}, timeout=10).json().get("numberMatched", 0)
        if matched or time.monotonic() > deadline:
            return int(matched)
        time.sleep(0.5)


def _records(log: Path) -> list[dict[str, str]]:
    records = []
    for line in log.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
