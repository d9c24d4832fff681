"""HTTP side of the event benchmark: pygeoapi's configuration, the servers, the request loop, the pre-flight.

Server start-up, CPU accounting and the process-group handling are those of ``bench/oapif_vs_pygeoapi.py``
(imported, not copied). Each target is asked the *same* paths in the same order, one request at a time over one
keep-alive connection (``http.client``), bounded by a count and a time budget. wrk is not used here: with a fixed
duration a slow server gets through fewer of the paths than a fast one, so the two would be timed on different
boxes; a sequential client on its own CPU adds well under a millisecond to latencies of 10 ms and more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import oapif_vs_pygeoapi as oapif  # noqa: E402
from events_data import PYGEOAPI_TABLE  # noqa: E402
from events_queries import latency_stats  # noqa: E402

HOST = oapif.HOST
Server = oapif.Server
running = oapif.running
get = oapif.get

#: pygeoapi collection per provider, and which of our stores it is compared with.
PYGEOAPI_COLLECTIONS = {"postgresql": "events-pg", "sqlitegpkg": "events-gpkg", "ogr": "events-ogr"}
PEER_OF = {"postgresql": "ours-postgis", "sqlitegpkg": "ours-sqlite", "ogr": "ours-sqlite"}


@dataclass(frozen=True)
class Target:
    """One server and collection under load."""

    name: str  # ours-sqlite, ours-postgis, pygeoapi-postgresql, pygeoapi-sqlitegpkg, pygeoapi-ogr
    server: str  # key into the servers dict
    collection: str
    flavour: str  # ours, postgresql, sqlitegpkg, ogr (how paths are spelt)


def pygeoapi_config(port: int, gpkg: Path, pg: dict[str, Any], limits: tuple[int, int]) -> dict[str, Any]:
    """Three collections over the same events: PostgreSQL, SQLiteGPKG and OGR (GPKG) providers, time_field set."""
    common = {"id_field": "id", "time_field": "date_start"}
    providers: dict[str, dict[str, Any]] = {
        "postgresql": {"name": "PostgreSQL", "data": pg, "table": PYGEOAPI_TABLE, "geom_field": "geom"},
        "sqlitegpkg": {"name": "SQLiteGPKG", "data": str(gpkg), "table": "events"},
        "ogr": {"name": "OGR", "data": {"source_type": "GPKG", "source": str(gpkg)}, "layer": "events"},
    }
    resources = {
        PYGEOAPI_COLLECTIONS[key]: {
            "type": "collection",
            "title": f"Synthetic events ({key})",
            "description": "1,000,000 synthetic reported events (benchmark data).",
            "keywords": ["events"],
            "extents": {
                "spatial": {"bbox": [44.5, 38.3, 48.9, 41.3], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
                # datetimes, not strings: pygeoapi wants YAML timestamps here
                "temporal": {
                    "begin": datetime(2020, 9, 27, tzinfo=UTC),
                    "end": datetime(2020, 11, 10, 23, 59, 59, tzinfo=UTC),
                },
            },
            "providers": [{"type": "feature", **common, **provider}],
        }
        for key, provider in providers.items()
    }
    return oapif.pygeoapi_document(
        port,
        resources,
        "pygeoapi peer for the czmap event benchmark",
        "Synthetic events, the same rows as the czmap stores.",
        licence="synthetic data",
        limits=limits,
    )


def pygeoapi_server(config: dict[str, Any], port: int, workdir: Path, workers: int, cpus: str) -> Server:
    """pygeoapi under uvicorn, as ``oapif_vs_pygeoapi.py`` starts it (openapi generated first)."""
    import yaml

    path, openapi = workdir / "pygeoapi-config.yml", workdir / "pygeoapi-openapi.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(path), "PYGEOAPI_OPENAPI": str(openapi), "CPL_LOG": "/dev/null"}
    bin_ = oapif.BENCH_VENV / "bin"
    subprocess.run(
        [str(bin_ / "pygeoapi"), "openapi", "generate", str(path), "--output-file", str(openapi)],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    command = [str(bin_ / "uvicorn"), "pygeoapi.starlette_app:APP", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return Server("pygeoapi", oapif.taskset(cpus, command), env, port, workdir / "pygeoapi.log")


def ours_server(name: str, data_dir: Path, database_url: str | None, workdir: Path, workers: int, cpus: str) -> Server:
    """``czmap serve`` on the events data dir (SQLite there, or PostGIS when ``database_url`` is given)."""
    port = oapif.free_port()
    env = {**os.environ, "CZMAP_DATA_DIR": str(data_dir)}
    env.pop("CZMAP_DATABASE_URL", None)
    if database_url:
        env["CZMAP_DATABASE_URL"] = database_url
    command = [str(oapif.PROJECT_VENV / "bin" / "czmap"), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers)]
    return Server(name, oapif.taskset(cpus, command), env, port, workdir / f"{name}.log")


def measure(server: Server, paths: list[str], warmup: int, budget_s: float) -> dict[str, Any]:
    """Warm up on the first ``warmup`` paths, then time each path once, in order, until ``budget_s`` runs out."""
    import http.client

    conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
    headers = {"Accept": oapif.ACCEPT}
    errors = 0

    def fetch(path: str) -> bool:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status == 200

    try:
        for path in paths[:warmup]:
            fetch(path)
        cpu = oapif.server_cpu_seconds(server)
        latencies: list[float] = []
        deadline = time.monotonic() + budget_s
        for path in paths:
            t0 = time.perf_counter()
            errors += not fetch(path)
            latencies.append((time.perf_counter() - t0) * 1000)
            if time.monotonic() > deadline:
                break
        cpu_s = oapif.server_cpu_seconds(server) - cpu
    finally:
        conn.close()
    stats = latency_stats(latencies)
    stats.update(
        errors=errors,
        covered=f"{len(latencies)}/{len(paths)}",
        server_cpu_s=cpu_s,
        req_per_cpu_s=len(latencies) / cpu_s if cpu_s > 0 else float("nan"),
        loadavg_1m_after=os.getloadavg()[0],
        latencies_ms=[round(x, 3) for x in latencies],
    )
    return stats


def matched_of(base: str, path: str, hits: bool) -> tuple[int | None, int, str]:
    """``(numberMatched, features returned, problem)`` of one request."""
    status, body = get(base + path)
    if status != 200:
        return None, 0, f"HTTP {status}: {body[:300]!r}"
    doc = json.loads(body)
    matched = doc.get("numberMatched")
    return (int(matched) if matched is not None else None), len(doc.get("features", [])), ""
