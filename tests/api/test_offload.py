"""Static map images and classifications drawn in a worker process (app.offload), through the app's lifespan.

The answers are those of the in-process path (``service.worker_processes = 0``), errors raised in the worker
come back with their class, status and message, and the worker processes end with the app.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from fastapi.testclient import TestClient
from testsupport import make_settings

from app.analysis.errors import LimitExceeded
from app.main import create_app
from app.offload import _Failure

POINTS = b"id,lat,lon\nA,39.82,46.75\nB,40.18,44.51\nC,39.5,46.5\n"
CSV = {"content-type": "text/csv"}


def _client(data_dir: Path, tmp_path: Path, processes: int) -> TestClient:
    database = f"sqlite:///{tmp_path / f'events-{processes}.sqlite'}"
    settings = make_settings(data_dir, database_url=database, service={"worker_processes": processes})
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def clients(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TestClient]]:
    tmp_path = tmp_path_factory.mktemp("offload")
    with _client(built_data_dir, tmp_path, 1) as pooled, _client(built_data_dir, tmp_path, 0) as inline:
        yield pooled, inline


def test_the_image_is_drawn_in_a_worker_process(clients: tuple[TestClient, TestClient]) -> None:
    pooled, _ = clients
    response = pooled.get("/map.png", params={"width": 400, "height": 300})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG") and response.headers["X-Alt-Text"]
    workers = pooled.app.state.workers.processes()  # type: ignore[attr-defined]
    assert workers and os.getpid() not in workers
    # at a lower CPU priority than the server (service.worker_nice, 10 by default; nice stops at 19)
    assert {psutil.Process(pid).nice() for pid in workers} == {min(19, psutil.Process().nice() + 10)}


def test_a_classification_in_a_worker_equals_the_one_in_process(clients: tuple[TestClient, TestClient]) -> None:
    pooled, inline = clients
    url = "/analysis/classify?format=json&layers=seven-districts,nagorno-karabakh"
    answers = [client.post(url, content=POINTS, headers=CSV) for client in clients]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text
    assert answers[0].json() == answers[1].json()


def test_an_error_in_the_worker_keeps_its_status_and_message(clients: tuple[TestClient, TestClient]) -> None:
    url = "/analysis/classify?format=png&datetime=2020-10-01/2020-10-31"
    pooled, inline = (client.post(url, content=POINTS, headers=CSV) for client in clients)
    assert 400 <= pooled.status_code < 500, pooled.text
    assert (pooled.status_code, pooled.json()) == (inline.status_code, inline.json())


def test_a_killed_worker_is_replaced_without_a_500(clients: tuple[TestClient, TestClient]) -> None:
    pooled, _ = clients
    assert pooled.get("/map.png", params={"width": 320, "height": 240}).status_code == 200
    for pid in pooled.app.state.workers.processes():  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
    time.sleep(1)  # the pool notices the death of its process
    statuses = [pooled.get("/map.png", params={"width": 330 + n, "height": 240}).status_code for n in range(2)]
    assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses


def test_a_failure_comes_back_as_its_class_with_its_attributes() -> None:
    error = LimitExceeded("points (rows)", 7, 5, "max_rows")
    back = _Failure(type(error), str(error), dict(vars(error))).exception()
    assert isinstance(back, LimitExceeded) and str(back) == str(error)
    assert (back.value, back.limit) == (7, 5)


def test_worker_processes_end_with_the_app(built_data_dir: Path, tmp_path: Path) -> None:
    with _client(built_data_dir, tmp_path, 1) as client:
        assert client.get("/map.png", params={"width": 300, "height": 200}).status_code == 200
        workers = client.app.state.workers.processes()  # type: ignore[attr-defined]
        assert workers
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in workers)


def test_a_stuck_worker_is_stopped_at_the_deadline_and_replaced(built_data_dir: Path, tmp_path: Path) -> None:
    deadline = 6.0  # more than a worker process takes to start and draw a first image here (~3 s)
    database = f"sqlite:///{tmp_path / 'events.sqlite'}"
    settings = make_settings(built_data_dir, database_url=database, service={"worker_deadline": deadline})
    # prestarted as `czmap serve` does: the zone grids are built once (~8 s) and handed to each new worker
    with TestClient(create_app(settings, prestart_workers=True)) as client:
        pool = client.app.state.workers  # type: ignore[attr-defined]
        assert client.get("/map.png", params={"width": 300, "height": 200}).status_code == 200
        for ask in (
            lambda: client.get("/map.png", params={"width": 310, "height": 200}),
            lambda: client.post("/analysis/classify?format=json", content=POINTS, headers=CSV),
        ):
            [stuck] = pool.processes()
            os.kill(stuck, signal.SIGSTOP)  # a worker that never finishes what it is given
            started = time.monotonic()
            response = ask()
            waited = time.monotonic() - started
            assert response.status_code == 503, response.text
            assert (
                "made no progress" in response.json()["description"]
                and "service.worker_deadline" in response.json()["description"]
                and response.headers["Retry-After"]
            )
            assert deadline <= waited < deadline + 5
            assert _ended(stuck, within=5.0)
            assert ask().status_code == 200  # a new worker answers
            assert stuck not in pool.processes()


def test_a_slow_worker_that_works_is_not_stopped(built_data_dir: Path, tmp_path: Path) -> None:
    # not prestarted: the worker builds the zone grids in its first classification, seconds of CPU, far beyond
    # a one-second deadline; it is working, so it is left to finish (CI once killed it on a busy machine)
    database = f"sqlite:///{tmp_path / 'events.sqlite'}"
    settings = make_settings(built_data_dir, database_url=database, service={"worker_deadline": 1.0})
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        response = client.post("/analysis/classify?format=json", content=POINTS, headers=CSV)
        assert response.status_code == 200, response.text
        assert time.monotonic() - started > 1.0  # it did take longer than the deadline


def test_workers_end_when_their_server_is_killed(built_data_dir: Path, tmp_path: Path) -> None:
    from livesupport import start_server

    env = {**os.environ, "CZMAP_DATA_DIR": str(built_data_dir), "CZMAP_BASEMAP__URL": ""}
    env["CZMAP_EVENTS__DATABASE_URL"] = f"sqlite:///{tmp_path / 'events.sqlite'}"
    _, server = start_server(env)
    try:
        until = time.monotonic() + 60
        workers: list[psutil.Process] = []
        while not workers and time.monotonic() < until:  # `czmap serve` starts its worker at start-up
            workers = [
                child
                for child in psutil.Process(server.pid).children(recursive=True)
                if "spawn_main" in " ".join(child.cmdline())
            ]
            time.sleep(0.2)
        assert workers, "czmap serve started no worker process"
    finally:
        server.kill()  # kill -9: no shutdown runs
        server.wait(10)
    assert all(_ended(worker.pid, within=10.0) for worker in workers)


def _ended(pid: int, within: float) -> bool:
    """Whether process ``pid`` is gone (or a zombie) within ``within`` seconds: a killed process takes a moment."""
    until = time.monotonic() + within
    while time.monotonic() < until:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False
