"""OGC API - Features throughput and latency: this service against pygeoapi, same data, same machine, one run.

Run from the repository root with the project venv (it has matplotlib):

    .venv/bin/python bench/oapif_vs_pygeoapi.py                 # both servers, 1 worker each, 10 s per scenario
    .venv/bin/python bench/oapif_vs_pygeoapi.py --workers 2 --duration 20
    .venv/bin/python bench/oapif_vs_pygeoapi.py --servers pygeoapi   # peer baseline only

What it does, in order:

1. builds the layers into ``bench/results/data`` (git-ignored) unless ``--data-dir`` already holds a manifest;
2. creates ``.venv-bench`` with pygeoapi from PyPI (``bench/setup.sh``) if it is missing;
3. writes a pygeoapi config whose OGR provider reads the *same* GeoPackages (one collection per layer, plus
   ``seven-districts-z8`` for the ``seven-districts_z8`` display table) with the same page limits as ours;
4. starts both servers with uvicorn and the same worker count, pinned with taskset to the server CPUs;
5. checks that both answer every scenario with the same features (count, ids, vertex count) before any timing;
6. per scenario, warms each server up and then runs wrk (pinned to the client CPU) for a fixed duration against
   each server in turn, and prints a markdown table of requests/s, p50 and p99 with the ratios;
7. writes ``bench/results/<timestamp>.json`` and a bar chart of the ratios ``bench/results/<timestamp>.png``.

Only 127.0.0.1 is contacted; every wrk run is bounded by ``--duration`` and a subprocess timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
BENCH_VENV = ROOT / ".venv-bench"
PROJECT_VENV = ROOT / ".venv"
LUA = BENCH / "wrk_report.lua"
HOST = "127.0.0.1"
ACCEPT = "application/geo+json, application/json;q=0.9"
TARGET_RATIO = 10.0

# Page limits of our service (app/ogc/params.py); pygeoapi gets the same so both return the same pages.
try:
    from app.ogc.params import DEFAULT_LIMIT, MAX_LIMIT
except ImportError:  # the service is not there yet: the values its brief gives
    DEFAULT_LIMIT, MAX_LIMIT = 10, 10_000


@dataclass(frozen=True)
class Scenario:
    """One request, as each server spells it."""

    name: str
    title: str
    ours: str
    pygeoapi: str
    full_collection: bool = False


@dataclass
class Server:
    """A server under test: how to start it and where it listens."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"


# --------------------------------------------------------------------------------------------------- set-up


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server (default 1)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of timed load per scenario and server")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of untimed load before each timed run")
    parser.add_argument("--connections", type=int, default=4, help="concurrent wrk connections (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all scenarios; medians are reported")
    parser.add_argument("--servers", default="ours,pygeoapi", help="comma list of: ours, pygeoapi")
    parser.add_argument("--scenarios", default="", help="comma list of scenario names (default all)")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "data", help="built layers (built if missing)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the layers even if a manifest exists")
    parser.add_argument("--server-cpus", default="", help="taskset CPU list for the servers (default: see README)")
    parser.add_argument("--client-cpus", default="", help="taskset CPU list for wrk (default: see README)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for <timestamp>.json and .png")
    parser.add_argument(
        "--profile",
        default="",
        help="comma list of servers to profile with py-spy after the timed runs (separate, untimed pass)",
    )
    args = parser.parse_args(argv)
    if min(args.workers, args.connections, args.rounds) < 1 or args.duration < 3:
        parser.error("--workers, --connections and --rounds must be positive, --duration at least 3 s")
    unknown = (set(args.servers.split(",")) | set(filter(None, args.profile.split(",")))) - {"ours", "pygeoapi"}
    if unknown:
        parser.error(f"--servers/--profile: unknown {sorted(unknown)}; allowed: ours, pygeoapi")
    return args


def default_cpus(workers: int) -> tuple[str, str]:
    """Server and client CPU lists: on 2 cores with 1 worker, wrk gets CPU 0 and the server CPU 1."""
    ncpu = os.cpu_count() or 1
    if ncpu < 2:
        return "0", "0"
    if workers == 1:
        return "1", "0"
    return f"0-{ncpu - 1}", "0"


def ensure_layers(data_dir: Path, rebuild: bool) -> dict[str, Any]:
    manifest = data_dir / "layers" / "manifest.json"
    if rebuild or not manifest.exists():
        env = dict(os.environ)
        env.setdefault("CZMAP_GEODATA_MIRROR", str(ROOT.parent / "shared" / "geodata"))
        print(f"building layers into {data_dir} ...", file=sys.stderr)
        subprocess.run(
            [str(PROJECT_VENV / "bin" / "czmap"), "geodata", "build", "--data-dir", str(data_dir)],
            check=True,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            timeout=600,
        )
    return json.loads(manifest.read_text())


def ensure_bench_venv() -> None:
    if not (BENCH_VENV / "bin" / "pygeoapi").exists() or not (BENCH_VENV / "bin" / "uvicorn").exists():
        subprocess.run(["bash", str(BENCH / "setup.sh")], check=True, cwd=ROOT, timeout=1800)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------------- scenarios


def first_id(gpkg: Path, table: str, where: str = "") -> str:
    """The smallest feature id of a GeoPackage table (sqlite3 only, no SpatiaLite needed)."""
    import sqlite3

    with sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True) as conn:
        row = conn.execute(f'SELECT id FROM "{table}" {where} ORDER BY id LIMIT 1').fetchone()
    if row is None:
        raise SystemExit(f"no feature in {gpkg}:{table} {where}")
    return str(row[0])


def make_scenarios(layers_dir: Path) -> list[Scenario]:
    district = first_id(layers_dir / "seven-districts.gpkg", "seven-districts")
    place = first_id(layers_dir / "places.gpkg", "places")
    page = "limit=1000"
    bbox = "bbox=46.2,39.3,47.4,40.5"  # Nagorno-Karabakh and its surroundings
    return [
        Scenario(
            "collection-full",
            "seven-districts, full resolution",
            f"/collections/seven-districts/items?{page}",
            f"/collections/seven-districts/items?{page}",
            full_collection=True,
        ),
        Scenario(
            "collection-z8",
            "seven-districts, display z8",
            f"/collections/seven-districts/items?zoom=8&{page}",
            f"/collections/seven-districts-z8/items?{page}",
            full_collection=True,
        ),
        Scenario(
            "bbox",
            "places, bbox query",
            f"/collections/places/items?{bbox}&{page}",
            f"/collections/places/items?{bbox}&{page}",
        ),
        Scenario(
            "feature-point",
            f"places/{place}",
            f"/collections/places/items/{place}",
            f"/collections/places/items/{place}",
        ),
        Scenario(
            "feature-polygon",
            f"seven-districts/{district}",
            f"/collections/seven-districts/items/{district}",
            f"/collections/seven-districts/items/{district}",
        ),
    ]


# --------------------------------------------------------------------------------------------------- pygeoapi


def pygeoapi_config(manifest: dict[str, Any], layers_dir: Path, port: int) -> dict[str, Any]:
    """pygeoapi configuration: one OGR/GPKG collection per built layer plus the seven-districts z8 table."""
    resources: dict[str, Any] = {}
    for lid, meta in manifest["layers"].items():
        resources[lid] = _collection(meta, layers_dir / meta["files"]["gpkg"], lid, meta["title"])
    sd = manifest["layers"]["seven-districts"]
    z8 = sd["variants"]["8"]["layer"]
    resources["seven-districts-z8"] = _collection(sd, layers_dir / sd["files"]["gpkg"], z8, f"{sd['title']} (z8)")
    return pygeoapi_document(
        port, resources, "pygeoapi peer for the czmap benchmark", "Same built layers as the czmap service."
    )


def pygeoapi_document(
    port: int,
    resources: dict[str, Any],
    title: str,
    description: str,
    licence: str = "see each collection",
    limits: tuple[int, int] = (DEFAULT_LIMIT, MAX_LIMIT),
) -> dict[str, Any]:
    """A pygeoapi configuration serving ``resources`` on ``port`` (the peer of both benchmarks)."""
    base = f"http://{HOST}:{port}"
    return {
        "server": {
            "bind": {"host": HOST, "port": port},
            "url": base,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "gzip": False,
            "language": "en-US",
            "cors": False,
            "pretty_print": False,
            "limits": {"default_items": limits[0], "max_items": limits[1]},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OpenStreetMap"},
        },
        # CRITICAL: pygeoapi logs GDAL's "GeoPackage 1.4 may only be partially supported" warning as an ERROR
        # line on every request (Debian's GDAL 3.6 reading our GPKG 1.4); writing that log is not its serving.
        "logging": {"level": "CRITICAL"},
        "metadata": {
            "identification": {
                "title": title,
                "description": description,
                "keywords": ["benchmark"],
                "keywords_type": "theme",
                "terms_of_service": "none",
                "url": base,
            },
            "license": {"name": licence, "url": base},
            "provider": {"name": "czmap bench", "url": base},
            "contact": {"name": "czmap bench"},
        },
        "resources": resources,
    }


def _collection(meta: dict[str, Any], gpkg: Path, table: str, title: str) -> dict[str, Any]:
    return {
        "type": "collection",
        "title": title,
        "description": meta["description"],
        "keywords": meta["keywords"] or ["zone"],
        "extents": {
            "spatial": {"bbox": meta["bbox"], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        },
        "providers": [
            {
                "type": "feature",
                "name": "OGR",
                "data": {"source_type": "GPKG", "source": str(gpkg)},
                "id_field": "id",
                "layer": table,
            }
        ],
    }


def pygeoapi_server(manifest: dict[str, Any], layers_dir: Path, workdir: Path, workers: int, cpus: str) -> Server:
    import yaml

    port = free_port()
    config = workdir / "pygeoapi-config.yml"
    openapi = workdir / "pygeoapi-openapi.yml"
    config.write_text(yaml.safe_dump(pygeoapi_config(manifest, layers_dir, port), sort_keys=False))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi), "CPL_LOG": "/dev/null"}
    bin_ = BENCH_VENV / "bin"
    subprocess.run(
        [str(bin_ / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    # uvicorn on a proto=TCP socket (TCP_NODELAY on accepted connections, see bench/uvicorn_tcp.py), no access log
    command = [str(bin_ / "python"), str(BENCH / "uvicorn_tcp.py"), "pygeoapi.starlette_app:APP"]
    command += ["--host", HOST, "--port", str(port), "--workers", str(workers)]
    return Server("pygeoapi", taskset(cpus, command), env, port, workdir / "pygeoapi.log")


def ours_server(data_dir: Path, workdir: Path, workers: int, cpus: str) -> Server:
    port = free_port()
    env = {**os.environ, "CZMAP_DATA_DIR": str(data_dir)}
    command = [str(PROJECT_VENV / "bin" / "czmap"), "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers)]
    return Server("ours", taskset(cpus, command), env, port, workdir / "ours.log")


def taskset(cpus: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpus, *command] if cpus else command


# --------------------------------------------------------------------------------------------------- processes


@contextmanager
def running(servers: list[Server]) -> Iterator[None]:
    """Start every server in its own process group; stop exactly those groups afterwards."""
    try:
        for server in servers:
            with server.log.open("wb") as log:
                server.process = subprocess.Popen(
                    server.command,
                    env=server.env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        for server in servers:
            wait_ready(server)
        yield
    finally:
        for server in servers:
            stop(server)


def wait_ready(server: Server, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.process.returncode}; see {server.log}")
        try:
            status, _ = get(f"{server.base}/collections")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{server.name} did not answer on {server.base} within {timeout:.0f} s; see {server.log}")


def stop(server: Server) -> None:
    proc = server.process
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


# --------------------------------------------------------------------------------------------------- checks


def _vertices(geometry: dict[str, Any] | None) -> int:
    if not geometry:
        return 0
    if geometry["type"] == "GeometryCollection":
        return sum(_vertices(g) for g in geometry["geometries"])

    def count(coords: Any) -> int:
        return 1 if coords and isinstance(coords[0], int | float) else sum(count(c) for c in coords)

    return count(geometry["coordinates"])


def summarize(body: bytes) -> dict[str, Any]:
    doc = json.loads(body)
    features = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
    return {
        "features": len(features),
        "ids": sorted(str(f.get("id")) for f in features),
        "vertices": sum(_vertices(f.get("geometry")) for f in features),
        "numberMatched": doc.get("numberMatched"),
        "bytes": len(body),
    }


def verify(scenarios: list[Scenario], servers: dict[str, Server]) -> dict[str, Any]:
    """Both servers must return the same features for each scenario before anything is timed."""
    report: dict[str, Any] = {}
    problems = []
    for sc in scenarios:
        seen = {}
        for name, server in servers.items():
            status, body = get(server.base + getattr(sc, name))
            if status != 200:
                problems.append(f"{sc.name}: {name} answered {status}: {body[:200]!r}")
                continue
            seen[name] = summarize(body)
        report[sc.name] = seen
        if len(seen) == 2:
            a, b = seen["ours"], seen["pygeoapi"]
            for key in ("features", "ids", "vertices"):
                if a[key] != b[key]:
                    problems.append(f"{sc.name}: {key} differ: ours {_short(a[key])} vs pygeoapi {_short(b[key])}")
    if problems:
        raise SystemExit("servers disagree, nothing timed:\n  " + "\n  ".join(problems))
    return report


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) < 120 else text[:117] + "..."


# --------------------------------------------------------------------------------------------------- load


def wrk(url: str, seconds: float, connections: int, cpus: str) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    command += ["-s", str(LUA), url]
    done = subprocess.run(taskset(cpus, command), capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary for {url}:\n{done.stdout}\n{done.stderr}")
    stats = json.loads(line.removeprefix("WRKJSON "))
    errors = sum(stats["errors"].values())
    stats["rps"] = (stats["requests"] - errors) / (stats["duration_us"] / 1e6)
    return stats


def server_cpu_seconds(server: Server) -> float:
    """User+system CPU time of every process in the server's process group (uvicorn and its workers)."""
    assert server.process is not None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[2]) == server.process.pid:  # pgrp: start_new_session made the server its group leader
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def measure(server: Server, url: str, args: argparse.Namespace) -> dict[str, Any]:
    if args.warmup > 0:
        wrk(url, args.warmup, args.connections, args.client_cpus)
    cpu = server_cpu_seconds(server)
    stats = wrk(url, args.duration, args.connections, args.client_cpus)
    stats["server_cpu_s"] = server_cpu_seconds(server) - cpu
    ok = stats["requests"] - sum(stats["errors"].values())
    stats["req_per_cpu_s"] = ok / stats["server_cpu_s"] if stats["server_cpu_s"] > 0 else float("nan")
    stats["loadavg_1m_after"] = os.getloadavg()[0]
    return stats


def run_load(scenarios: list[Scenario], servers: dict[str, Server], args: argparse.Namespace) -> dict[str, Any]:
    """``--rounds`` rounds; in each, every scenario against every server in turn, so drift touches both."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {sc.name: {n: [] for n in servers} for sc in scenarios}
    for round_ in range(1, args.rounds + 1):
        for sc in scenarios:
            for name, server in servers.items():
                stats = measure(server, server.base + getattr(sc, name), args)
                runs[sc.name][name].append(stats)
                lat = stats["latency_us"]
                print(
                    f"  round {round_} {sc.name:16} {name:9} {stats['rps']:9.1f} req/s  "
                    f"p50 {lat['p50'] / 1000:8.2f} ms  p99 {lat['p99'] / 1000:8.2f} ms  "
                    f"{stats['req_per_cpu_s']:8.1f} req/CPU-s  errors {sum(stats['errors'].values())}  "
                    f"load {stats['loadavg_1m_after']:.2f}",
                    file=sys.stderr,
                )
    return {sc: {n: aggregate(r) for n, r in by_server.items()} for sc, by_server in runs.items()}


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds (each run's own p50/p99 come from wrk's histogram)."""
    return {
        "rps": median(r["rps"] for r in runs),
        "p50_ms": median(r["latency_us"]["p50"] / 1000 for r in runs),
        "p99_ms": median(r["latency_us"]["p99"] / 1000 for r in runs),
        "req_per_cpu_s": median(r["req_per_cpu_s"] for r in runs),
        "errors": sum(sum(r["errors"].values()) for r in runs),
        "runs": runs,
    }


# --------------------------------------------------------------------------------------------------- profile


def profile(scenarios: list[Scenario], server: Server, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Sample the server's processes with py-spy while wrk loads it; summarise the hottest functions."""
    assert server.process is not None
    summary = {}
    for sc in scenarios:
        raw = workdir / f"profile-{server.name}-{sc.name}.txt"
        spy = [str(BENCH_VENV / "bin" / "py-spy"), "record", "--pid", str(server.process.pid), "--subprocesses"]
        spy += ["--rate", "250", "--duration", f"{round(args.duration)}", "--format", "raw", "--output", str(raw)]
        with subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as sampler:
            time.sleep(1.0)  # py-spy attaches
            wrk(server.base + getattr(sc, server.name), args.duration - 2, args.connections, args.client_cpus)
            sampler.wait(timeout=args.duration + 60)
        summary[sc.name] = hot_spots(raw)
        (workdir / f"profile-{server.name}-{sc.name}-top.txt").write_text(json.dumps(summary[sc.name], indent=2))
    return summary


# Leaves where a thread waits rather than works (thread-pool queue, event-loop poll, locks), and frames every
# stack passes through; neither says where request time goes.
IDLE_LEAVES = ("concurrent/futures/thread.py:81)", "EpollSelector.select", "Condition.wait", "Event.wait")
PLUMBING = (
    "threading.py:",
    "concurrent/futures/thread.py:",
    "click/core.py:",
    "uvicorn/main.py:",
    "(uvicorn:",
    "uvicorn/_compat.py:",
    "asyncio/runners.py:",
    "asyncio/base_events.py:6",  # run_forever / run_until_complete
    "multiprocessing/",
)


def hot_spots(raw: Path, top: int = 25) -> dict[str, Any]:
    """Inclusive and self shares of busy samples per function, from py-spy's collapsed stacks ("a;b;c count")."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = idle = 0
    for line in raw.read_text().splitlines() if raw.exists() else []:
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames or not count.isdigit():
            continue
        if frames[-1].startswith(IDLE_LEAVES) or any(leaf in frames[-1] for leaf in IDLE_LEAVES):
            idle += int(count)
            continue
        frames = [f for f in frames if not any(p in f for p in PLUMBING)] or frames[-1:]
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n

    def share(table: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [(frame, round(100 * n / max(total, 1), 1)) for frame, n in ranked]

    return {"busy_samples": total, "idle_samples": idle, "inclusive_pct": share(inclusive), "self_pct": share(own)}


# --------------------------------------------------------------------------------------------------- report


def ratios(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-round paired ratios (ours and pygeoapi ran back to back under the same background load), median."""
    out: dict[str, dict[str, Any]] = {}
    for name, by_server in results.items():
        if {"ours", "pygeoapi"} <= by_server.keys():
            pairs = list(zip(by_server["ours"]["runs"], by_server["pygeoapi"]["runs"], strict=True))
            per_round = {
                "rps": [o["rps"] / p["rps"] for o, p in pairs],
                "p50": [p["latency_us"]["p50"] / max(o["latency_us"]["p50"], 1) for o, p in pairs],
                "p99": [p["latency_us"]["p99"] / max(o["latency_us"]["p99"], 1) for o, p in pairs],
                "req_per_cpu_s": [o["req_per_cpu_s"] / p["req_per_cpu_s"] for o, p in pairs],
            }
            out[name] = {key: median(values) for key, values in per_round.items()}
            out[name]["per_round"] = per_round
    return out


def markdown(scenarios: list[Scenario], results: dict[str, Any], ratio: dict[str, dict[str, Any]]) -> str:
    names = [n for n in ("ours", "pygeoapi") if any(n in r for r in results.values())]
    head = ["scenario"]
    for n in names:
        head += [f"{n} req/s", f"{n} p50 ms", f"{n} p99 ms", f"{n} req/CPU-s"]
    if ratio:
        head += ["req/s ratio", "p50 ratio", "p99 ratio", "req/CPU-s ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for sc in scenarios:
        row = [sc.title]
        for n in names:
            s = results[sc.name][n]
            row += [f"{s['rps']:.1f}", f"{s['p50_ms']:.2f}", f"{s['p99_ms']:.2f}", f"{s['req_per_cpu_s']:.1f}"]
        if sc.name in ratio:
            r = ratio[sc.name]
            row += [f"{r[k]:.1f}x" for k in ("rps", "p50", "p99", "req_per_cpu_s")]
        lines.append("| " + " | ".join(row) + " |")
    if ratio:
        full = [ratio[sc.name]["rps"] for sc in scenarios if sc.full_collection and sc.name in ratio]
        verdict = "met" if full and min(full) >= TARGET_RATIO else "NOT met"
        lines.append("")
        lines.append(
            f"Figures are medians over the rounds; ratios are medians of the per-round ratios (each round runs both "
            f"servers back to back). Ratios are ours/pygeoapi for req/s and req/CPU-s, pygeoapi/ours for latency "
            f"(higher is better for us). Target >= {TARGET_RATIO:g}x req/s on full-collection requests: {verdict}."
        )
    return "\n".join(lines)


def chart(path: Path, scenarios: list[Scenario], ratio: dict[str, dict[str, Any]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [sc for sc in scenarios if sc.name in ratio]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.26
    series = (
        ("rps", "req/s (ours / pygeoapi)"),
        ("req_per_cpu_s", "req per server CPU-s (ours / pygeoapi)"),
        ("p50", "p50 latency (pygeoapi / ours)"),
    )
    for i, (key, label) in enumerate(series):
        xs = [j + (i - 1) * width for j in range(len(shown))]
        values = [ratio[sc.name][key] for sc in shown]
        bars = ax.bar(xs, values, width, label=label)
        ax.bar_label(bars, labels=[f"{v:.1f}x" for v in values], fontsize=8)
    ax.set_yscale("log")
    ax.axhline(TARGET_RATIO, color="red", linestyle="--", linewidth=1, label=f"target {TARGET_RATIO:g}x")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(shown)), [sc.title for sc in shown], rotation=15, ha="right", fontsize=8)
    ax.set_ylabel("ratio (log scale)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def versions() -> dict[str, str]:
    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
        except OSError as err:
            return f"unavailable: {err}"

    py = "import importlib.metadata as m, sys; print(*[m.version(p) for p in sys.argv[1:]])"
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), "")
    return {
        "pygeoapi venv (pygeoapi uvicorn starlette GDAL)": run(
            [str(BENCH_VENV / "bin" / "python"), "-c", py, "pygeoapi", "uvicorn", "starlette", "GDAL"]
        ),
        "ours venv (uvicorn starlette fastapi orjson)": run(
            [str(PROJECT_VENV / "bin" / "python"), "-c", py, "uvicorn", "starlette", "fastapi", "orjson"]
        ),
        "ours git commit": run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "wrk": (run(["wrk", "--version"]) or "?").splitlines()[0],
        "cpu": f"{cpu} x {os.cpu_count()}",
        "kernel": platform.release(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server_cpus, client_cpus = default_cpus(args.workers)
    args.server_cpus = args.server_cpus or server_cpus
    args.client_cpus = args.client_cpus or client_cpus
    manifest = ensure_layers(args.data_dir.resolve(), args.rebuild)
    layers_dir = args.data_dir.resolve() / "layers"
    wanted = set(args.servers.split(","))
    if "pygeoapi" in wanted:
        ensure_bench_venv()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = args.out / stamp
    workdir.mkdir(parents=True, exist_ok=True)
    scenarios = make_scenarios(layers_dir)
    if args.scenarios:
        scenarios = [sc for sc in scenarios if sc.name in set(args.scenarios.split(","))]
    servers: dict[str, Server] = {}
    if "ours" in wanted:
        servers["ours"] = ours_server(args.data_dir.resolve(), workdir, args.workers, args.server_cpus)
    if "pygeoapi" in wanted:
        servers["pygeoapi"] = pygeoapi_server(manifest, layers_dir, workdir, args.workers, args.server_cpus)
    print(
        f"workers {args.workers}, servers on CPUs {args.server_cpus}, wrk on CPUs {args.client_cpus}, "
        f"{args.connections} connections, {args.warmup:g} s warm-up + {args.duration:g} s per run, "
        f"{args.rounds} round(s)",
        file=sys.stderr,
    )
    with running(list(servers.values())):
        checks = verify(scenarios, servers)
        results = run_load(scenarios, servers, args)
        profiles = {n: profile(scenarios, servers[n], args, workdir) for n in filter(None, args.profile.split(","))}
    ratio = ratios(results)
    table = markdown(scenarios, results, ratio)
    print(table)
    record = {
        "timestamp": stamp,
        "args": {k: str(v) for k, v in vars(args).items()},
        "versions": versions(),
        "scenarios": [asdict(sc) for sc in scenarios],
        "verification": checks,
        "results": results,
        "ratios": ratio,
        "table": table,
        "profiles": profiles,
    }
    out_json = args.out / f"{stamp}.json"
    out_json.write_text(json.dumps(record, indent=2))
    if ratio:
        chart(args.out / f"{stamp}.png", scenarios, ratio, f"czmap vs pygeoapi, {args.workers} worker(s), {stamp}")
    print(f"\nwrote {out_json}" + (f" and {args.out / f'{stamp}.png'}" if ratio else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
