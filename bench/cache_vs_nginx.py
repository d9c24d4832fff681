"""A full layer side by side: nginx serving its bytes from disk, this service (with and without its response cache)
and pygeoapi's GeoJSON provider (its fastest), one worker each, same machine, one run.

Run from the repository root with the project venv:

    .venv/bin/python bench/cache_vs_nginx.py                  # 3 rounds x 5 servers x 10 s (~4 min)
    .venv/bin/python bench/cache_vs_nginx.py --rounds 1 --duration 5

Issue 16's targets: a full-layer request at least 0.25x nginx serving the same bytes, and at least 30x pygeoapi's
fastest provider for the same features. What it does:

1. builds the layers into ``bench/results/data`` unless a manifest is there (as ``oapif_vs_pygeoapi.py``);
2. needs ``wrk`` and ``nginx`` (Debian packages ``wrk``, ``nginx-light``) and ``.venv-bench`` with pygeoapi
   (``bench/setup.sh``, or just ``python3 -m venv .venv-bench && .venv-bench/bin/pip install pygeoapi==0.21.0
   starlette uvicorn``: the GeoJSON provider needs no GDAL);
3. starts this service without its cache on a free port, fetches the full seven-districts page
   (``/collections/seven-districts/items?limit=1000``, no ``Accept-Encoding``) and writes those exact bytes to
   nginx's document root, and the same features as a GeoJSON file for pygeoapi's GeoJSON provider;
4. starts nginx (1 worker, ``sendfile`` on, keep-alive), a bare ASGI app returning those bytes from memory under
   the same uvicorn (``bench/bare_asgi.py``: the ceiling of any Python app here), this service with its cache and
   without, and pygeoapi, each pinned to CPU 1 with ``taskset``; wrk runs on CPU 0 (``wrk -t1 -c8``);
5. checks that every server returns the same feature ids and vertex count, then per round runs each server in turn
   (warm-up, then timed) and writes the medians and the machine's load to ``bench/RESULTS.md`` (the section
   between the ``cache_vs_nginx`` markers) and every run to ``bench/results/cache-<timestamp>.json``.

Only 127.0.0.1 is contacted; each wrk run is bounded by ``--duration`` and a subprocess timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oapif_vs_pygeoapi import (  # noqa: E402  (the harness of issue 3: servers, wrk, CPU accounting)
    BENCH_VENV,
    HOST,
    RESULTS,
    ROOT,
    Server,
    aggregate,
    ensure_layers,
    free_port,
    get,
    measure,
    pygeoapi_document,
    running,
    summarize,
    taskset,
)

PATH = "/collections/seven-districts/items"
QUERY = "limit=1000"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
TARGETS = {"nginx": 0.25, "pygeoapi": 30.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of timed load per server and round")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of untimed load before each timed run")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all servers; medians are reported")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "data", help="built layers (built if missing)")
    parser.add_argument("--server-cpus", default="1", help="taskset CPU list of every server (default 1)")
    parser.add_argument("--client-cpus", default="0", help="taskset CPU list of wrk (default 0)")
    parser.add_argument("--no-results-md", action="store_true", help="do not rewrite bench/RESULTS.md")
    return parser.parse_args()


def ours(name: str, data_dir: Path, workdir: Path, cpus: str, cache: bool) -> Server:
    port = free_port()
    env = {**os.environ, "CZMAP_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), "CZMAP_BASEMAP__URL": ""}
    env["CZMAP_EVENTS__DATABASE_URL"] = f"sqlite:///{workdir / f'{name}-events.sqlite'}"
    if not cache:
        env["CZMAP_SERVICE__RESPONSE_CACHE_BYTES"] = "0"
    command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port), "--workers", "1"]
    return Server(name, taskset(cpus, command), env, port, workdir / f"{name}.log")


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    client_body_temp_path {workdir}/nginx-tmp;
    proxy_temp_path {workdir}/nginx-tmp;
    fastcgi_temp_path {workdir}/nginx-tmp;
    uwsgi_temp_path {workdir}/nginx-tmp;
    scgi_temp_path {workdir}/nginx-tmp;
    default_type application/geo+json;
    server {{
        listen {host}:{port};
        root {root};
        location = /collections {{ return 200 "{{}}"; }}
    }}
}}
"""


def nginx(body: bytes, workdir: Path, cpus: str) -> Server:
    """nginx serving ``body`` at :data:`PATH` from a file (the query string is ignored by static serving)."""
    root = workdir / "nginx-root"
    (root / PATH.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    (root / PATH.lstrip("/")).write_bytes(body)
    (workdir / "nginx-tmp").mkdir(exist_ok=True)
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workdir=workdir, host=HOST, port=port, root=root))
    command = ["/usr/sbin/nginx", "-c", str(conf), "-p", str(workdir)]
    return Server("nginx", taskset(cpus, command), dict(os.environ), port, workdir / "nginx.log")


def bare_asgi(workdir: Path, cpus: str) -> Server:
    """The same bytes from memory by a bare ASGI app under the same uvicorn as ours (``bench/bare_asgi.py``)."""
    port = free_port()
    env = {**os.environ, "CZMAP_BENCH_BODY": str(workdir / "nginx-root" / PATH.lstrip("/"))}
    command = [sys.executable, "-m", "uvicorn", "bare_asgi:app", "--app-dir", str(ROOT / "bench")]
    command += ["--host", HOST, "--port", str(port), "--no-access-log", "--log-level", "warning"]
    return Server("bare-asgi", taskset(cpus, command), env, port, workdir / "bare-asgi.log")


def pygeoapi(body: bytes, manifest: dict[str, Any], workdir: Path, cpus: str) -> Server:
    """pygeoapi 0.21 with its GeoJSON provider reading the same features from a file."""
    import yaml

    doc = json.loads(body)
    source = workdir / "seven-districts.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": doc["features"]}))
    meta = manifest["layers"]["seven-districts"]
    resource = {
        "type": "collection",
        "title": meta["title"],
        "description": meta["description"],
        "keywords": meta["keywords"] or ["zone"],
        "extents": {"spatial": {"bbox": meta["bbox"], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "providers": [{"type": "feature", "name": "GeoJSON", "data": str(source), "id_field": "id"}],
    }
    port = free_port()
    config, openapi = workdir / "pygeoapi-config.yml", workdir / "pygeoapi-openapi.yml"
    document = pygeoapi_document(port, {"seven-districts": resource}, "pygeoapi peer", "Same features as czmap.")
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    bin_ = BENCH_VENV / "bin"
    subprocess.run(
        [str(bin_ / "pygeoapi"), "openapi", "generate", str(config), "--output-file", str(openapi)],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    command = [str(bin_ / "python"), str(ROOT / "bench" / "uvicorn_tcp.py"), "pygeoapi.starlette_app:APP"]
    command += ["--host", HOST, "--port", str(port), "--workers", "1"]
    return Server("pygeoapi", taskset(cpus, command), env, port, workdir / "pygeoapi.log")


def verify(servers: list[Server]) -> dict[str, Any]:
    """Every server must return the same feature ids and vertices before anything is timed."""
    seen = {}
    for server in servers:
        status, body = get(f"{server.base}{PATH}?{QUERY}")
        if status != 200:
            raise SystemExit(f"{server.name} answered {status}: {body[:200]!r}")
        seen[server.name] = summarize(body)
    reference = next(iter(seen.values()))
    for name, summary in seen.items():
        for key in ("features", "ids", "vertices"):
            if summary[key] != reference[key]:
                raise SystemExit(f"{name} disagrees on {key}: {summary[key]} vs {reference[key]}")
    return {name: {k: v for k, v in s.items() if k != "ids"} for name, s in seen.items()}


def run(servers: list[Server], args: argparse.Namespace) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
    for round_ in range(1, args.rounds + 1):
        for server in servers:
            load_before = os.getloadavg()[0]
            stats = measure(server, f"{server.base}{PATH}?{QUERY}", args)
            stats["loadavg_1m_before"] = load_before
            runs[server.name].append(stats)
            print(
                f"  round {round_} {server.name:14} {stats['rps']:9.1f} req/s  p50 "
                f"{stats['latency_us']['p50'] / 1000:7.2f} ms  p99 {stats['latency_us']['p99'] / 1000:7.2f} ms  "
                f"errors {sum(stats['errors'].values())}  load {load_before:.2f} -> {stats['loadavg_1m_after']:.2f}",
                file=sys.stderr,
            )
    return {name: aggregate(r) for name, r in runs.items()}


def ratios(medians: dict[str, Any]) -> dict[str, Any]:
    """ours / peer per round (each round's runs are back to back), and their median."""
    result = {}
    for peer in ("nginx", "bare-asgi", "pygeoapi", "ours-nocache"):
        per_round = [
            a["rps"] / b["rps"] for a, b in zip(medians["ours"]["runs"], medians[peer]["runs"], strict=True) if b["rps"]
        ]
        result[peer] = {"median": median(per_round), "per_round": per_round}
    return result


def markdown(report: dict[str, Any]) -> str:
    med, rat, args = report["medians"], report["ratios"], report["args"]
    loads = [r.get(k, 0.0) for m in med.values() for r in m["runs"] for k in ("loadavg_1m_before", "loadavg_1m_after")]
    size = report["verification"]["ours"]["bytes"]
    lines = [
        "## A full layer: the response cache against nginx and pygeoapi (`bench/cache_vs_nginx.py`)",
        "",
        f"Run {report['started']} on {report['machine']} ({os.cpu_count()} CPUs; servers pinned to CPU "
        f"{args['server_cpus']}, wrk to CPU {args['client_cpus']}), `wrk -t1 -c{args['connections']}`, "
        f"{args['rounds']} rounds x {args['duration']:.0f} s per server after {args['warmup']:.0f} s warm-up, "
        f"medians. Request: `{PATH}?{QUERY}`, {size:,} bytes of GeoJSON, no `Accept-Encoding`. "
        f"Machine load (1-minute average) during the runs: {min(loads):.2f} to {max(loads):.2f}, "
        "shared with other work.",
        "",
        "| server | req/s | p50 ms | p99 ms | req per server CPU-s |",
        "|---|---:|---:|---:|---:|",
    ]
    titles = {
        "nginx": "nginx 1 worker, the same bytes from disk",
        "bare-asgi": "bare ASGI app, the same bytes from memory (`bench/bare_asgi.py`, same uvicorn)",
        "ours": "this service, response cache on",
        "ours-nocache": "this service, cache off (`CZMAP_SERVICE__RESPONSE_CACHE_BYTES=0`)",
        "pygeoapi": f"pygeoapi {report['versions'].get('pygeoapi', '')}, GeoJSON provider",
    }
    for name, m in med.items():
        lines.append(
            f"| {titles[name]} | {m['rps']:,.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | {m['req_per_cpu_s']:,.0f} |"
        )
    lines += ["", "| ratio (median of per-round ratios) | value | target | met |", "|---|---:|---:|---|"]
    for peer, target in (*TARGETS.items(), ("bare-asgi", None), ("ours-nocache", None)):
        value = rat[peer]["median"]
        met = "" if target is None else ("yes" if value >= target else "**no**")
        shown = "" if target is None else f"{target:g}x"
        lines.append(f"| this service / {peer} | {value:.2f}x | {shown} | {met} |")
    lines += ["", f"Every run: `bench/results/{report['json']}` (git-ignored)."]
    return "\n".join(lines)


def write_section(name: str, section: str) -> None:
    """Replace the section between ``<!-- name -->`` and ``<!-- /name -->`` of bench/RESULTS.md (or append it)."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n"
    if start in text:
        before, rest = text.split(start, 1)
        text = before + start + "\n" + section + "\n" + end + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + start + "\n" + section + "\n" + end + "\n"
    RESULTS_MD.write_text(text)


def pygeoapi_version() -> str:
    done = subprocess.run(
        [str(BENCH_VENV / "bin" / "python"), "-c", "import pygeoapi; print(pygeoapi.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip()


def main() -> None:
    args = parse_args()
    manifest = ensure_layers(args.data_dir, rebuild=False)
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = RESULTS / f"cache-{started}"
    workdir.mkdir(parents=True, exist_ok=True)
    plain = ours("ours-nocache", args.data_dir, workdir, args.server_cpus, cache=False)
    with running([plain]):
        status, body = get(f"{plain.base}{PATH}?{QUERY}")
        if status != 200:
            raise SystemExit(f"the service answered {status}: {body[:200]!r}")
    servers = [
        nginx(body, workdir, args.server_cpus),
        bare_asgi(workdir, args.server_cpus),
        ours("ours", args.data_dir, workdir, args.server_cpus, cache=True),
        ours("ours-nocache", args.data_dir, workdir, args.server_cpus, cache=False),
        pygeoapi(body, manifest, workdir, args.server_cpus),
    ]
    with running(servers):
        verification = verify(servers)
        medians = run(servers, args)
    report = {
        "started": started,
        "machine": f"{platform.node()} {platform.machine()} {platform.python_version()}",
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "versions": {"pygeoapi": pygeoapi_version()},
        "verification": verification,
        "medians": medians,
        "json": f"cache-{started}.json",
    }
    report["ratios"] = ratios(medians)
    (RESULTS / report["json"]).write_text(json.dumps(report, indent=2, default=str))
    section = markdown(report)
    print(section)
    if not args.no_results_md:
        write_section("cache_vs_nginx", section)


if __name__ == "__main__":
    main()
