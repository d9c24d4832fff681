"""Acknowledged writes survive a killed writer process, and concurrent writers lose nothing (both backends)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.events.service import EventService
from app.events.store.base import EventQuery

WRITER = textwrap.dedent(
    """
    import sys, time
    from shapely import box
    from app.events.auth import Actor, Role
    from app.events.service import EventService
    from app.layerstore.zones import ZoneIndex
    target = sys.argv[1]
    if target.startswith("postgresql://"):
        from app.events.store.postgis import PostgisEventStore as Store
    else:
        from app.events.store.sqlite import SqliteEventStore as Store
    service = EventService(Store(target), ZoneIndex.from_polygons({"z": [("a", box(46, 39, 47, 40))]}))
    for n in range(20):
        service.create(Actor("writer", Role.EDITOR), {
            "id": f"kill-{n}", "date_start": "2020-10-04", "lon": 46.5, "lat": 39.5, "event_type": "Battles",
            "sub_event_type": "Armed clash", "claimed_by": "MoD", "sources": [{"publisher": "P", "title": "T"}]})
        print(f"ack {n}", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture
def target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return str(tmp_path / "durable.sqlite")
    return request.getfixturevalue("pg_databases").create()


def test_acknowledged_writes_survive_a_killed_writer(target, zones):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, "-c", WRITER, target], stdout=subprocess.PIPE, text=True, env=env)
    try:
        acked = [child.stdout.readline() for _ in range(20)]  # type: ignore[union-attr]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert acked[-1].strip() == "ack 19"
    if target.startswith("postgresql://"):
        from app.events.store.postgis import PostgisEventStore as Store
    else:
        from app.events.store.sqlite import SqliteEventStore as Store  # type: ignore[assignment]
    with Store(target) as store:
        assert store.count() == 20
        assert len(store.audit("kill-19")) == 1


def test_concurrent_writers_lose_nothing(service: EventService, editor, event_data):
    def write(worker: int) -> None:
        for n in range(15):
            service.create(editor, event_data(worker * 100 + n, notes=f"worker {worker}"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(write, range(6)))
    assert service.store.count() == 90
    assert service.query(EventQuery(filters={"notes": "worker 3"})).matched == 15
