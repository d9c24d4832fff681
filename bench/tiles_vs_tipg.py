"""Event vector tiles: this service against tipg on the same PostGIS events table, same machine, one run.

Run from the repository root (tipg in its own venv, never the project's):

    python3 -m venv /tmp/tipg-venv && /tmp/tipg-venv/bin/pip install tipg uvicorn
    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/tiles_vs_tipg.py            # 1,000,000 events
    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/tiles_vs_tipg.py --events 200000 --reuse

What it does, in order:

1. generates ``--events`` synthetic events (``bench/events_data.py``, without zone labels: tiles do not read them)
   and loads them into a fresh PostgreSQL database through the event store's schema (``COPY``), unless
   ``--reuse`` finds it loaded with as many;
2. starts three servers on that one table, pinned to the server CPU: this service with its tile cache, this
   service with the tile cache off (``CZMAP_TILES__CACHE_BYTES=0``: every tile made by PostGIS), and tipg
   (``tipg.main:app`` under uvicorn; collection ``public.events``);
3. per zoom (``--zooms``), picks the tiles of ``--tiles`` random events (so most tiles hold events) and checks, at
   the point zooms, that both services draw the same number of points in each tile;
4. per zoom and server, warms up and runs wrk (``-t1``, ``--connections``) cycling through those tiles, and writes
   a markdown table of requests/s, p50, p99 and server CPU into ``bench/RESULTS.md`` (section ``tiles_vs_tipg``).

What each answers: tipg returns every event of a tile up to its 10,000-feature limit, asked for the same five
properties as ours (``properties=id,date_start,date_end,event_type,fatalities_best``); ours answers zooms below
``CZMAP_TILES__EVENT_POINT_ZOOM`` (10) and tiles with more than 5,000 events with counts per grid cell instead.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import mapbox_vector_tile
import morecantile
import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import events_data as data  # noqa: E402
import oapif_vs_pygeoapi as oapif  # noqa: E402

TMS = morecantile.tms.get("WebMercatorQuad")
LUA = BENCH / "tiles_paths.lua"
RESULTS_MD = BENCH / "RESULTS.md"
TIPG_PROPERTIES = "id,date_start,date_end,event_type,fatalities_best"
SERVERS = ("ours", "ours-nocache", "tipg")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="synthetic events (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20201110, help="seed of the events and of the tile choice")
    parser.add_argument("--zooms", default="8,10,12,14", help="zoom levels to load (default 8,10,12,14)")
    parser.add_argument("--tiles", type=int, default=200, help="random events whose tiles are asked, per zoom")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of timed load per zoom and server")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of untimed load before each timed run")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections (default 8)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over every zoom and server; medians reported")
    parser.add_argument("--database", default="czmap_tiles_bench", help="PostgreSQL database to create (and keep)")
    parser.add_argument("--tipg-venv", type=Path, default=Path("/tmp/tipg-venv"), help="venv with tipg and uvicorn")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data", help="built layers (read only)")
    parser.add_argument("--reuse", action="store_true", help="keep the database when it holds --events events")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave RESULTS.md alone")
    parser.add_argument("--report", type=Path, help="write the RESULTS.md section of this tiles-<run>.json only")
    return parser.parse_args(argv)


def pg_url(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


def load(args: argparse.Namespace, events: data.Events) -> dict[str, Any]:
    """The events in a fresh database through the store's schema, unless ``--reuse`` finds them there."""
    import psycopg

    from app.events.store.postgis import PostgisEventStore

    if args.reuse:
        try:
            with psycopg.connect(pg_url(args.database)) as conn:
                row = conn.execute("SELECT count(*) FROM events").fetchone()
            if row and row[0] == len(events):
                return {"reused": True}
        except psycopg.Error:
            pass
    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {args.database}")
    started = time.perf_counter()
    with PostgisEventStore(pg_url(args.database)) as store:
        data.insert_via_store(store, events, data.VIA_STORE)
    data.load_postgis(pg_url(args.database), events, lambda n: None)
    return {"reused": False, "seconds": round(time.perf_counter() - started, 1)}


def servers(args: argparse.Namespace, workdir: Path, cpus: str) -> dict[str, oapif.Server]:
    """This service (cache on, cache off) and tipg, each on its own port, all on the one database."""
    url = pg_url(args.database)
    ours_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CZMAP_DATA_DIR": str(args.data_dir),
        "CZMAP_EVENTS__DATABASE_URL": url,
        "CZMAP_EVENTS__SEED": "false",
        "CZMAP_SERVICE__RATE_PER_ADDRESS": "0",
    }
    found = {}
    for name, extra in (("ours", {}), ("ours-nocache", {"CZMAP_TILES__CACHE_BYTES": "0"})):
        port = oapif.free_port()
        command = [sys.executable, "-m", "app.cli", "serve", "--host", oapif.HOST, "--port", str(port)]
        found[name] = oapif.Server(name, oapif.taskset(cpus, command), ours_env | extra, port, workdir / f"{name}.log")
    port = oapif.free_port()
    tipg_env = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]'}
    command = [str(args.tipg_venv / "bin" / "uvicorn"), "tipg.main:app", "--host", oapif.HOST, "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    found["tipg"] = oapif.Server("tipg", oapif.taskset(cpus, command), tipg_env, port, workdir / "tipg.log")
    return found


def tile_paths(events: data.Events, zoom: int, count: int, seed: int) -> list[tuple[int, int, int]]:
    """The distinct tiles at ``zoom`` of ``count`` events drawn at random (so the tiles hold events)."""
    rng = np.random.default_rng(seed + zoom)
    picks = rng.choice(len(events), size=min(count, len(events)), replace=False)
    tiles = {TMS.tile(float(events.lon[i]), float(events.lat[i]), zoom) for i in picks}
    return sorted((t.z, t.x, t.y) for t in tiles)


def path_of(server: str, tile: tuple[int, int, int]) -> str:
    z, x, y = tile
    if server == "tipg":
        return f"/collections/public.events/tiles/WebMercatorQuad/{z}/{x}/{y}?properties={TIPG_PROPERTIES}"
    return f"/collections/events/tiles/WebMercatorQuad/{z}/{y}/{x}"


def check(found: dict[str, oapif.Server], tiles: list[tuple[int, int, int]], point_zoom: int) -> dict[str, Any]:
    """At point zooms, ours and tipg must draw as many points inside each tile (tipg's 10,000 cap aside).

    Points in the buffer are not compared: ours draws the events of the buffer too, tipg only those of the tile.
    """
    disagree, compared = [], 0
    first_visit = {"ours": 0.0, "tipg": 0.0}
    for tile in tiles:
        counts = {}
        for name in ("ours", "tipg"):
            started = time.perf_counter()
            status, body = oapif.get(found[name].base + path_of(name, tile))
            first_visit[name] += time.perf_counter() - started
            if status not in (200, 204):
                raise SystemExit(f"{name} answered {status} for {tile}: {body[:200]!r}")
            layers = mapbox_vector_tile.decode(body) if body else {}
            features = next(iter(layers.values()))["features"] if layers else []
            inside = [f for f in features if all(0 < c < 4096 for c in f["geometry"]["coordinates"])]
            counts[name] = (len(inside), any("count" in f["properties"] for f in features))
        if tile[0] >= point_zoom and not counts["ours"][1] and counts["tipg"][0] < 10_000:
            compared += 1
            if counts["ours"][0] != counts["tipg"][0]:
                disagree.append((tile, counts))
    if disagree:
        raise SystemExit(f"ours and tipg draw different points, nothing timed: {disagree[:5]}")
    return {"tiles": len(tiles), "point_tiles_compared": compared, "first_visit_s": first_visit}


def wrk(base: str, paths_file: Path, args: argparse.Namespace, cpus: str) -> dict[str, Any]:
    seconds = max(1, round(args.duration))
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(LUA), base]
    done = subprocess.run(
        oapif.taskset(cpus, [*command, "--", str(paths_file)]),
        capture_output=True,
        text=True,
        timeout=seconds + 90,
        check=True,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    stats = json.loads(line.removeprefix("WRKJSON "))
    stats["rps"] = (stats["requests"] - sum(stats["errors"].values())) / (stats["duration_us"] / 1e6)
    return stats


def measure(server: oapif.Server, paths_file: Path, args: argparse.Namespace, cpus: str) -> dict[str, Any]:
    if args.warmup > 0:
        wrk(server.base, paths_file, argparse.Namespace(**{**vars(args), "duration": args.warmup}), cpus)
    cpu = oapif.server_cpu_seconds(server)
    stats = wrk(server.base, paths_file, args, cpus)
    stats["server_cpu_s"] = oapif.server_cpu_seconds(server) - cpu
    ok = stats["requests"] - sum(stats["errors"].values())
    stats["req_per_cpu_s"] = ok / stats["server_cpu_s"] if stats["server_cpu_s"] > 0 else float("nan")
    stats["loadavg_1m_after"] = os.getloadavg()[0]
    return stats


def markdown(record: dict[str, Any]) -> str:
    loads = [s["loadavg_1m_after"] for z in record["results"].values() for s in z.values()]
    lines = [
        "<!-- tiles_vs_tipg -->",
        "## Event vector tiles against tipg on one PostGIS table (`bench/tiles_vs_tipg.py`)",
        "",
        f"Run {record['run']} on {record['machine']} (servers pinned to CPU {record['server_cpus']}, wrk to CPU "
        f"{record['client_cpus']}), `wrk -t1 -c{record['connections']}` cycling through the tiles of "
        f"{record['tiles_per_zoom']} random events per zoom, {record['duration']:.0f} s per server after "
        f"{record['warmup']:.0f} s warm-up, {record['rounds']} round(s), medians; {record['events']:,} events in "
        f"PostgreSQL. Machine load (1-minute average) during the runs: {min(loads):.2f} to {max(loads):.2f}, "
        "shared with other work. ours: counts per grid cell below zoom 10 and in tiles of more than 5,000 events, "
        "points above; tipg: every point up to 10,000 per tile, the same five properties. Before timing, the "
        f"point counts of ours and tipg agreed in {record['checks']} tiles. `ours` is the service as deployed: a "
        "tile is made once per data version and query, then served from the tile cache until a write; "
        "`ours-nocache` makes every tile in PostGIS, as tipg does.",
        "",
        "| zoom | tiles | server | req/s | p50 ms | p99 ms | req per server CPU-s | errors / requests | ours / tipg |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for zoom, by_server in record["results"].items():
        tipg = by_server["tipg"]["rps"]
        for name, s in by_server.items():
            ratio = f"{s['rps'] / tipg:.2f}x" if name != "tipg" and tipg else ""
            lines.append(
                f"| {zoom} | {record['tile_counts'][zoom]} | {name} | {s['rps']:,.0f} | {s['p50_ms']:.2f} | "
                f"{s['p99_ms']:.2f} | {s['req_per_cpu_s']:,.0f} | {s['errors']} / {s['requests']} | {ratio} |"
            )
    lines += [
        "",
        "Cold: every tile of the table asked once, one request at a time, before any load (seconds in all; ours "
        "with its cache empty, low zooms summing the cell counts it makes once per query and data version):",
        "",
        "| zoom | tiles | ours s | tipg s | ours / tipg (speed) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for zoom, seconds in record.get("first_visit_s", {}).items():
        speed = seconds["tipg"] / seconds["ours"] if seconds["ours"] else float("nan")
        lines.append(
            f"| {zoom} | {record['tile_counts'][zoom]} | {seconds['ours']:.1f} | {seconds['tipg']:.1f} | {speed:.2f}x |"
        )
    lines += ["", f"Every run: `bench/results/tiles-{record['run']}.json` (git-ignored).", "<!-- /tiles_vs_tipg -->"]
    return "\n".join(lines)


def write_section(text: str) -> None:
    current = RESULTS_MD.read_text(encoding="utf-8")
    start, end = "<!-- tiles_vs_tipg -->", "<!-- /tiles_vs_tipg -->"
    if start in current:
        before, rest = current.split(start, 1)
        current = before + text + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS_MD.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report is not None:  # the section again from a finished run's record
        write_section(markdown(json.loads(args.report.read_text())))
        return 0
    zooms = [int(z) for z in args.zooms.split(",")]
    server_cpus, client_cpus = oapif.default_cpus(1)
    run = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = BENCH / "results" / f"tiles-{run}"
    workdir.mkdir(parents=True, exist_ok=True)
    events = data.generate(args.events, args.seed, lambda lon, lat: ["[]"] * len(lon))
    loaded = load(args, events)
    print(f"events loaded: {loaded}", file=sys.stderr)
    tiles = {z: tile_paths(events, z, args.tiles, args.seed) for z in zooms}
    found = servers(args, workdir, server_cpus)
    results: dict[int, dict[str, Any]] = {}
    with oapif.running(list(found.values())):
        checked = {z: check(found, tiles[z], 10) for z in zooms}  # also the first visit of each tile: cold
        checks = sum(c["point_tiles_compared"] for c in checked.values())
        runs: dict[int, dict[str, list[dict[str, Any]]]] = {z: {n: [] for n in found} for z in zooms}
        for _ in range(args.rounds):
            for z in zooms:
                for name, server in found.items():
                    paths_file = workdir / f"paths-{name}-{z}.txt"
                    paths_file.write_text("\n".join(path_of(name, t) for t in tiles[z]) + "\n")
                    stats = measure(server, paths_file, args, client_cpus)
                    runs[z][name].append(stats)
                    errors, avg = sum(stats["errors"].values()), stats["loadavg_1m_after"]
                    print(f"  z{z} {name:13} {stats['rps']:8.1f} req/s  errors {errors}  load {avg:.2f}")
        for z, by_server in runs.items():
            results[z] = {
                name: {
                    "rps": median(r["rps"] for r in rs),
                    "p50_ms": median(r["latency_us"]["p50"] for r in rs) / 1000,
                    "p99_ms": median(r["latency_us"]["p99"] for r in rs) / 1000,
                    "req_per_cpu_s": median(r["req_per_cpu_s"] for r in rs),
                    "loadavg_1m_after": max(r["loadavg_1m_after"] for r in rs),
                    "errors": sum(sum(r["errors"].values()) for r in rs),
                    "requests": sum(r["requests"] for r in rs),
                }
                for name, rs in by_server.items()
            }
    record = {
        "run": run,
        "machine": f"{platform.node() or 'vm'} {platform.machine()} {platform.python_version()} "
        f"({os.cpu_count()} CPUs)",
        "server_cpus": server_cpus,
        "client_cpus": client_cpus,
        "connections": args.connections,
        "duration": args.duration,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "events": args.events,
        "tiles_per_zoom": args.tiles,
        "tile_counts": {z: len(t) for z, t in tiles.items()},
        "checks": checks,
        "first_visit_s": {z: c["first_visit_s"] for z, c in checked.items()},
        "load": loaded,
        "results": results,
    }
    (BENCH / "results" / f"tiles-{run}.json").write_text(json.dumps(record, indent=2, default=str))
    text = markdown(record)
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
