"""Each built GeoPackage is read once per process: by the layer store, at start-up, and by nothing else.

A real ``czmap serve`` runs under ``strace -f``; every component that reads zones (collections, display variants,
the map page and the static image with its alt text, the zone summary, classify, overlap, an event write that
computes zones) is asked once; then the file opens of each ``.gpkg``, process by process, are compared with those
of a process that does nothing but open the layer store. The server and its worker process (``app.offload``,
spawned, which draws the images and classifies) each open the store once; nothing else opens a layer.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from livesupport import CZMAP, free_port, stop_server, wait_until_up
from testsupport import require

from app.events.auth import create_key
from app.events.store.sqlite import SqliteEventStore

OPEN = re.compile(r'open(?:at)?\([^"]*"([^"]+\.gpkg)"')


def gpkg_opens(trace: Path) -> dict[str, Counter[str]]:
    """How often each process (by pid) opened each ``.gpkg`` file (-wal/-shm/-journal companions not counted).

    ``strace -f -o`` starts each line with the pid of the process that made the call.
    """
    opens: dict[str, Counter[str]] = {}
    for line in trace.read_text().splitlines():
        if m := OPEN.search(line):
            opens.setdefault(line.split(maxsplit=1)[0], Counter())[Path(m.group(1)).name] += 1
    return opens


def traced(trace: Path, *command: str) -> list[str]:
    return ["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", str(trace), *command]


@pytest.fixture(scope="module")
def strace() -> str:
    path = shutil.which("strace")
    require(path is not None, "strace (apt package strace)")
    return str(path)


def stop_traced(process: subprocess.Popen[bytes]) -> None:
    """Stop the server under strace: terminate the traced process; strace ends with it."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    for pid in children.read_text().split() if children.exists() else ():
        os.kill(int(pid), signal.SIGTERM)
    try:
        process.wait(timeout=30)
    finally:
        stop_server(process)


def exercise(url: str, key: str) -> None:
    """One request to every part of the service that reads zones."""
    auth = {"Authorization": f"Bearer {key}"}
    layers = [c["id"] for c in httpx.get(f"{url}/collections").json()["collections"]]
    for layer in layers:
        assert httpx.get(f"{url}/collections/{layer}/items", params={"limit": 5}).status_code == 200
    assert httpx.get(f"{url}/collections/seven-districts/items", params={"zoom": 6}).status_code == 200
    assert httpx.get(f"{url}/map").status_code == 200
    assert httpx.get(f"{url}/map.png", params={"width": 300, "height": 200}, timeout=60).status_code == 200
    assert httpx.get(f"{url}/analysis/zones/seven-districts/summary", timeout=60).status_code == 200
    point = {"type": "Point", "coordinates": [46.75, 39.82]}
    assert httpx.post(f"{url}/analysis/classify", json=point, timeout=60).status_code == 200
    square = {
        "type": "Polygon",
        "coordinates": [[[46.7, 39.7], [46.9, 39.7], [46.9, 39.9], [46.7, 39.9], [46.7, 39.7]]],
    }
    assert httpx.post(f"{url}/analysis/overlap", json=square, timeout=60).status_code == 200
    event = {
        "type": "Feature",
        "geometry": point,
        "properties": {
            "date_start": "2020-10-04",
            "event_type": "Explosions/Remote violence",
            "sub_event_type": "Shelling/artillery/missile attack",
            "claimed_by": "test",
            "sources": [{"publisher": "test", "title": "a write computes zones"}],
        },
    }
    created = httpx.post(f"{url}/collections/events/items", json=event, headers=auth)
    assert created.status_code == 201, created.text
    assert "nagorno-karabakh:nkao" in httpx.get(created.headers["location"]).json()["properties"]["zones"]


def test_every_geopackage_is_read_only_by_the_layer_store(strace: str, built_data_dir: Path, tmp_path: Path) -> None:
    database = tmp_path / "events.sqlite"
    with SqliteEventStore(database) as store:
        key = create_key(store, "editor", "reads test")
    env = {
        "PATH": "/usr/bin:/bin",
        "CZMAP_DATA_DIR": str(built_data_dir),
        "CZMAP_EVENTS__DATABASE_URL": f"sqlite:///{database}",
    }

    baseline = tmp_path / "store.trace"
    load = "import sys; from app.layerstore import LayerStore; LayerStore.open(sys.argv[1])"
    subprocess.run(traced(baseline, sys.executable, "-c", load, str(built_data_dir)), env=env, check=True)

    served = tmp_path / "serve.trace"
    port = free_port()
    process = subprocess.Popen(
        traced(served, CZMAP, "serve", "--port", str(port)), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        exercise(url, key)
    finally:
        stop_traced(process)

    [expected] = gpkg_opens(baseline).values()
    assert set(expected) == {p.name for p in (built_data_dir / "layers").glob("*.gpkg")}  # every layer is read
    readers = gpkg_opens(served)
    assert 1 <= len(readers) <= 2, f"the server and its one worker process open the layers, not {len(readers)}"
    for pid, opens in readers.items():
        assert opens == expected, f"process {pid} read the layers other than by opening the store once"
