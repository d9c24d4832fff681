"""Mixed load (and memory soak) against a real ``czmap serve`` on loopback, bounded in time.

``N`` connections each send requests back to back for ``--duration`` seconds, drawn from a fixed mix: layer
pages, event pages, collection and map pages (reads), event writes with an editor key, static map images and
point classification (expensive). It reports per class: requests, errors (5xx other than a shed 503, transport
errors, timeouts), shed requests (503 from a busy image/analysis slot), 429s, p50/p99 latency; the server's
private memory (USS of its process tree) at start, after warm-up, at the end and its peak; and, after the run,
how many acknowledged writes (201) are found again by id.

    python bench/mixed_load.py --data-dir /tmp/mydata --duration 60 --connections 64
    python bench/mixed_load.py --data-dir /tmp/mydata --duration 600 --connections 16 --warmup 60   # memory soak
    python bench/mixed_load.py --data-dir /tmp/mydata --mix embed   # readers of an article with the embedded map

``--data-dir`` must hold built layers (``czmap geodata build``); its SQLite event store is used (or set
``--database-url``). Rate limits are switched off for the run (one loopback client would hit them); the other
settings are the defaults. The server listens on 127.0.0.1 only, on a free port in 8200-8299.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CZMAP = [sys.executable, "-m", "app.cli"]

#: (weight, class, method, path). Reads are most of the traffic; images and analysis are rare but heavy.
MIX: list[tuple[int, str, str, str]] = [
    (20, "read", "GET", "/collections/seven-districts/items?limit=10&zoom=8"),
    (10, "read", "GET", "/collections/control-2020/items?datetime=2020-11-20&limit=20&zoom=8"),
    (10, "read", "GET", "/collections/places/items?limit=50&bbox=46,39,47.5,40.5"),
    (20, "read", "GET", "/collections/events/items?limit=100&bbox=46,39,47.5,40.5&datetime=2020-10-01/2020-10-31"),
    (8, "read", "GET", "/collections"),
    (6, "read", "GET", "/map"),
    (6, "read", "GET", "/collections/events/items?limit=10&f=html"),
    (4, "read", "GET", "/conformance"),
    (6, "write", "POST", "/collections/events/items"),
    (2, "image", "GET", "/map.png?width=600&height=400"),
    (3, "analysis", "POST", "/analysis/classify?format=json&layers=seven-districts"),
]
#: Readers of an article with the embedded map, when the story spreads: what one reader's browser asks for
#: (recorded from Chromium loading the embed), the page itself once per reader, for two embeds of the article.
_EMBED = "/embed?lat=39.75&lon=46.75&zoom=8&title=Fighting+near+the+Iran+border"
EMBED_MIX: list[tuple[int, str, str, str]] = [
    (1, "read", "GET", _EMBED),
    (1, "read", "GET", _EMBED + "&dark=true&datetime=2020-10-27"),
    *[
        (2, "read", "GET", f"/static/{asset}")
        for asset in (
            "vendor/leaflet/leaflet.js",
            "vendor/leaflet.markercluster/leaflet.markercluster.js",
            "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
            "vendor/leaflet-minimap/Control.MiniMap.min.js",
            "webmap/czmap.js",
            "vendor/leaflet/leaflet.css",
            "webmap/czmap.css",
        )
    ],
    *[
        (2, "read", "GET", f"/collections/{layer}/items?f=json&limit=1000&zoom=8")
        for layer in ("basemap", "iran-border-zone", "seven-districts", "nagorno-karabakh", "line-of-contact-1994")
    ],
    (2, "read", "GET", "/collections/control-2020/items?f=json&limit=1000&datetime=2020-11-10"),
    (2, "read", "GET", "/collections/iran-border/items?f=json&limit=1000"),
    (
        2,
        "read",
        "GET",
        "/collections/events/items?f=json&bbox=43.4564%2C37.8373%2C50.0482%2C41.6383"
        "&datetime=2020-09-27%2F2020-11-10&limit=1000",
    ),
]
MIXES = {"default": MIX, "embed": EMBED_MIX}
CLASSES = ("read", "write", "image", "analysis")


@dataclass
class Tally:
    """What one class of requests got."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    shed: int = 0
    limited: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    #: Latencies per request path (query included): which reads make the tail.
    by_path: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Run:
    """Everything measured in one run."""

    tallies: dict[str, Tally] = field(default_factory=lambda: {c: Tally() for c in CLASSES})
    acknowledged: list[str] = field(default_factory=list)
    memory: list[tuple[float, int]] = field(default_factory=list)
    missing: int = 0
    #: Size of the server's log when the measured window began (with ``--server-log``).
    log_offset: int = 0


def free_port() -> int:
    """A free port in 8200-8299 (the range this machine's benchmarks may use)."""
    for port in random.sample(range(8200, 8300), 100):
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8200-8299")


def create_editor_key(env: dict[str, str]) -> str:
    """An editor key in the store the server will use (made before it starts)."""
    code = (
        "from app.settings import load_settings\n"
        "from app.events.service import open_store\n"
        "from app.events.auth import create_key\n"
        "with open_store(load_settings()) as s: print(create_key(s, 'editor', 'mixed-load bench'))\n"
    )
    code_dir = env["PYTHONPATH"]  # the checkout under test: `python -c`/`-m` import from their working folder first
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True, cwd=code_dir
    )
    return out.stdout.strip().splitlines()[-1]


def start_server(env: dict[str, str], port: int, workers: int, log_path: Path | None = None) -> subprocess.Popen[bytes]:
    """``czmap serve`` in its own process group; waits until /health answers.

    With ``log_path`` the server logs every request (``--access-log``: its duration as the server saw it) there.
    """
    command = [*CZMAP, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    if log_path is not None:
        command.append("--access-log")
    # The server's log goes to a file: a pipe nobody reads would block the server once it filled.
    log = open(log_path, "w+b") if log_path is not None else tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(command, env=env, cwd=env["PYTHONPATH"], stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"czmap serve exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"http://{HOST}:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("czmap serve did not answer within 120 s")


def rss(process: psutil.Process) -> int:
    """Private memory (USS: not shared, not file-backed) of the server and its workers (bytes).

    RSS also counts the pages of the GeoPackages and the SQLite store mapped into memory (``mmap``), which the
    kernel drops under pressure; USS is what the process itself holds, the figure a leak grows.
    """
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_full_info().uss
        except psutil.NoSuchProcess:
            continue
    return total


def event_body(run_id: str, n: int) -> dict[str, Any]:
    """A valid event Feature with a unique id."""
    rng = random.Random(n)
    return {
        "type": "Feature",
        "id": f"bench-{run_id}-{n}",
        "geometry": {"type": "Point", "coordinates": [46.5 + rng.random(), 39.4 + rng.random() * 0.8]},
        "properties": {
            "id": f"bench-{run_id}-{n}",
            "date_start": f"2020-10-{1 + n % 28:02d}",
            "date_precision": 1,
            "location_precision": 2,
            "event_type": "Explosions/Remote violence",
            "sub_event_type": "Shelling/artillery/missile attack",
            "claimed_by": "Benchmark",
            "sources": [{"publisher": "Bench", "title": f"load {run_id} {n}", "published": "2020-10-05"}],
        },
    }


def classify_body(n: int) -> dict[str, Any]:
    """200 points in and around the region."""
    rng = random.Random(n)
    points = [
        {
            "type": "Feature",
            "id": i,
            "geometry": {"type": "Point", "coordinates": [45.5 + rng.random() * 2.5, 38.8 + rng.random() * 1.8]},
        }
        for i in range(200)
    ]
    return {"type": "FeatureCollection", "features": points}


async def worker(
    client: httpx.AsyncClient,
    runs: tuple[Run, Run],
    measured_from: float,
    deadline: float,
    rng: random.Random,
    key: str,
    run_id: str,
    counter: list[int],
    mix: list[tuple[int, str, str, str]],
) -> None:
    """Send requests from the mix until the deadline; each counts in the warm-up or the measured run of ``runs``
    by when it was sent (before ``measured_from`` or not).

    The same workers go on from the warm-up into the measured window: stopping them all at the end of the
    warm-up and starting a new set made the load generator send one synchronised burst of requests, whose queue
    the measured window then charged to the server.
    """
    weights = [w for w, *_ in mix]
    while time.monotonic() < deadline:
        run = runs[time.monotonic() >= measured_from]
        _, kind, method, path = rng.choices(mix, weights)[0]
        kwargs: dict[str, Any] = {}
        if kind == "write":
            counter[0] += 1
            n = counter[0]
            kwargs = {"json": event_body(run_id, n), "headers": {"Authorization": f"Bearer {key}"}}
        elif kind == "analysis":
            kwargs = {"json": classify_body(rng.randrange(1000))}
        tally = run.tallies[kind]
        started = time.perf_counter()
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.HTTPError:
            tally.errors += 1
            continue
        elapsed = time.perf_counter() - started
        tally.latencies.append(elapsed)
        tally.by_path.setdefault(path, []).append(elapsed)
        status = response.status_code
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if status == 503 and kind in ("image", "analysis"):
            tally.shed += 1
        elif status == 429:
            tally.limited += 1
        elif status >= 500:
            tally.errors += 1
        elif kind == "write" and status == 201:
            run.acknowledged.append(kwargs["json"]["id"])


async def sample_memory(
    process: psutil.Process, run: Run, args: argparse.Namespace, measured_from: float, deadline: float
) -> None:
    """Private memory once a second in the measured window (the first sample: after the warm-up)."""
    await asyncio.sleep(max(0.0, measured_from - time.monotonic()))
    if args.server_log is not None:
        run.log_offset = args.server_log.stat().st_size
    while time.monotonic() < deadline:
        run.memory.append((time.monotonic() - measured_from, rss(process)))
        await asyncio.sleep(1)


async def load(base: str, server: psutil.Process, args: argparse.Namespace, key: str) -> Run:
    """The timed run: warm-up (measured apart), then the measured window.

    Each connection is a client of its own (one keep-alive connection), as that many readers would be: one
    shared pool of 64 connections made requests wait in httpx's pool for hundreds of milliseconds before they
    were sent, which the figures then charged to the server.
    """
    run, warm = Run(), Run()
    run_id = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(args.timeout)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout))
            for _ in range(args.connections)
        ]
        counter = [0]
        measured_from = time.monotonic() + args.warmup
        end = measured_from + args.duration
        await asyncio.gather(
            sample_memory(server, run, args, measured_from, end),
            *(
                worker(c, (warm, run), measured_from, end, random.Random(i), key, run_id, counter, MIXES[args.mix])
                for i, c in enumerate(clients)
            ),
        )
        run.acknowledged += warm.acknowledged
        missing = 0
        for event_id in run.acknowledged:
            if (await clients[0].get(f"/collections/events/items/{event_id}")).status_code != 200:
                missing += 1
        run.memory.append((time.monotonic() - measured_from, rss(server)))
        run.missing = missing
    return run


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) in milliseconds, None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000, 1)


def server_side(log_path: Path, offset: int) -> dict[str, Any]:
    """Per class, p50/p99 of the durations the server logged (the access log from byte ``offset`` on).

    The difference to the client's figures is time spent outside the app: in the sockets, in uvicorn before the
    request reaches the app, and in the load generator itself.
    """
    kinds = {(method, path.split("?")[0]): kind for _, kind, method, path in MIX + EMBED_MIX}
    durations: dict[str, list[float]] = {}
    with open(log_path, "rb") as log:
        log.seek(offset)
        lines = log.read().decode("utf-8", errors="replace").splitlines()
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "duration_ms" not in record:
            continue
        kind = kinds.get((record.get("method"), record.get("path")))
        if kind is not None:
            durations.setdefault(kind, []).append(record["duration_ms"] / 1000)
    return {
        kind: {"requests": len(times), "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99)}
        for kind, times in sorted(durations.items())
    }


def report(run: Run, start_rss: int, args: argparse.Namespace) -> dict[str, Any]:
    """The figures of a run as one JSON-ready dict."""
    classes = {}
    for name, tally in run.tallies.items():
        classes[name] = {
            "requests": len(tally.latencies) + tally.errors,
            "errors": tally.errors,
            "shed_503": tally.shed,
            "limited_429": tally.limited,
            "p50_ms": percentile(tally.latencies, 50),
            "p99_ms": percentile(tally.latencies, 99),
            "statuses": dict(sorted(tally.statuses.items())),
            "paths": {
                path: {"requests": len(times), "p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99)}
                for path, times in sorted(tally.by_path.items())
            },
        }
    mib = 1024 * 1024
    after_warmup = run.memory[0][1]
    end = run.memory[-1][1]
    return {
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "workers": args.workers,
        "classes": classes,
        "requests_per_s": round(sum(len(t.latencies) for t in run.tallies.values()) / args.duration, 1),
        "memory_mib": {
            "start": round(start_rss / mib, 1),
            "after_warmup": round(after_warmup / mib, 1),
            "end": round(end / mib, 1),
            "peak": round(max(m for _, m in run.memory) / mib, 1),
            "end_vs_warmup_pct": round((end - after_warmup) / after_warmup * 100, 1),
            "median_last_quarter": round(
                statistics.median(m for _, m in run.memory[-max(1, len(run.memory) // 4) :]) / mib, 1
            ),
        },
        "writes": {"acknowledged": len(run.acknowledged), "found": len(run.acknowledged) - run.missing},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print the figures as JSON (and write them to ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="checkout whose app is served (e.g. a worktree of an earlier commit)"
    )
    parser.add_argument(
        "--mix", choices=sorted(MIXES), default="default", help="default: the service's; embed: an article's readers"
    )
    parser.add_argument(
        "--server-log", type=Path, default=None, help="keep the server's log here, with its access log (~7%% slower)"
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.duration > 3600 or args.connections < 1 or args.connections > 256:
        raise SystemExit("--duration must be in (0, 3600] s and --connections in [1, 256]")
    env = {
        **os.environ,
        "PYTHONPATH": str(args.code.resolve()),
        "CZMAP_DATA_DIR": str(args.data_dir),
        "CZMAP_BASEMAP__URL": "",
        "CZMAP_SERVICE__RATE_PER_ADDRESS": "0",
        "CZMAP_SERVICE__WRITES_PER_KEY": "0",
    }
    if args.database_url:
        env["CZMAP_EVENTS__DATABASE_URL"] = args.database_url
    key = create_editor_key(env)
    port = free_port()
    process = start_server(env, port, args.workers, args.server_log)
    try:
        server = psutil.Process(process.pid)
        start_rss = rss(server)
        run = asyncio.run(load(f"http://{HOST}:{port}", server, args, key))
        figures = report(run, start_rss, args)
        if args.server_log is not None:
            figures["server_side"] = server_side(args.server_log, run.log_offset)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return figures


if __name__ == "__main__":
    main()
