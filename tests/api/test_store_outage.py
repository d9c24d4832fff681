"""A real PostgreSQL outage: a throw-away cluster is stopped and started again under a running app.

While it is down, event reads and writes answer 503 with Retry-After within a second, layers, the collection list
and the map stay served, /health says alive and /ready names the events database; once it is back, the same
app (no restart) serves events again, and no connection left stale by the restart reaches a request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pgcluster import PgCluster, new_cluster
from testsupport import make_settings

from app.events.auth import create_key
from app.main import create_app

ITEMS = "/collections/events/items"


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PgCluster]:
    """A cluster of our own on a free port (the shared server is never stopped)."""
    cluster = new_cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def outage_client(pg_cluster: PgCluster, built_data_dir: Path) -> Iterator[TestClient]:
    settings = make_settings(built_data_dir, database_url=pg_cluster.url, events={"retry_after": 3})
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def editor_key(outage_client: TestClient) -> str:
    return create_key(outage_client.app.state.events.store, "editor", "outage test")  # type: ignore[attr-defined]


@pytest.fixture
def database_down(pg_cluster: PgCluster, outage_client: TestClient) -> Iterator[None]:
    """The database stopped for the test, started again after it."""
    assert outage_client.get(ITEMS, params={"limit": 1}).status_code == 200  # a pooled connection exists
    pg_cluster.stop()
    try:
        yield
    finally:
        pg_cluster.start()
        assert recovery_seconds(outage_client) < 10


def recovery_seconds(client: TestClient, within: float = 10) -> float:
    """Seconds until the events are served again (polling every 0.1 s), or ``within`` if they never are."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if client.get(ITEMS, params={"limit": 1}).status_code == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    return within


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.parametrize("path", [ITEMS, f"{ITEMS}?limit=5&bbox=46,39,47,40", f"{ITEMS}/no-such-id"])
def test_event_reads_answer_503_within_a_second(outage_client: TestClient, database_down: None, path: str) -> None:
    response, seconds = timed(lambda: outage_client.get(path))
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "ServiceUnavailable"
    assert response.headers["Retry-After"] == "3"
    assert "127.0.0.1" not in response.text  # the database address stays in the log
    assert seconds < 1.0


def test_event_writes_answer_503_within_a_second(
    outage_client: TestClient, editor_key: str, event_feature: Callable[..., dict[str, Any]], database_down: None
) -> None:
    headers = {"Authorization": f"Bearer {editor_key}"}
    response, seconds = timed(lambda: outage_client.post(ITEMS, json=event_feature(1), headers=headers))
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "3"
    assert seconds < 1.0


@pytest.mark.parametrize(
    "path", ["/collections", "/collections/nagorno-karabakh/items?limit=1", "/map", "/embed", "/", "/health"]
)
def test_layers_and_map_stay_served(outage_client: TestClient, database_down: None, path: str) -> None:
    response = outage_client.get(path)
    assert response.status_code == 200, response.text


def test_ready_names_the_database(outage_client: TestClient, database_down: None) -> None:
    response, seconds = timed(lambda: outage_client.get("/ready"))
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["events"]
    assert body["checks"]["layers"]["status"] == "up"
    assert response.headers["Retry-After"] == "3"
    assert seconds < 1.0
    assert outage_client.get("/health").json() == {"status": "alive"}


def test_recovers_without_restart(
    outage_client: TestClient, editor_key: str, event_feature: Callable[..., dict[str, Any]], pg_cluster: PgCluster
) -> None:
    pg_cluster.stop()
    assert outage_client.get(ITEMS).status_code == 503
    time.sleep(4)  # long enough for the pool's reconnection attempts to back off
    pg_cluster.start()
    assert recovery_seconds(outage_client) < 5
    assert outage_client.get("/ready").json()["status"] == "ready"
    headers = {"Authorization": f"Bearer {editor_key}"}
    assert outage_client.post(ITEMS, json=event_feature(2), headers=headers).status_code == 201


def test_no_stale_connection_after_a_quick_restart(outage_client: TestClient, pg_cluster: PgCluster) -> None:
    for _ in range(3):  # fill the pool with connections, then cut them all
        assert outage_client.get(ITEMS, params={"limit": 1}).status_code == 200
    pg_cluster.stop()
    pg_cluster.start()
    statuses = [outage_client.get(ITEMS, params={"limit": 1}).status_code for _ in range(5)]
    assert statuses == [200] * 5
