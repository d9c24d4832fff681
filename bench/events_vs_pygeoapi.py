"""Event stores with 1,000,000 synthetic events: bbox/week/CQL2 query latency, ours against pygeoapi (issue 4).

Run from the repository root with the project venv (PostgreSQL/PostGIS on 127.0.0.1:5432, trust auth):

    .venv/bin/python bench/events_vs_pygeoapi.py                  # generate, load, level 1 + level 2, ~15 min
    .venv/bin/python bench/events_vs_pygeoapi.py --reuse --keep-db # reuse the loaded stores of a previous run
    .venv/bin/python bench/events_vs_pygeoapi.py --events 100000 --levels 1

What it does, in order (details and fairness notes in bench/EVENTS.md):

1. builds the layers into ``--data-dir`` (zones of each event are computed from them, as the service does);
2. generates ``--events`` synthetic events from ``--seed`` and proves on a sample that the fast-path rows equal
   the store's own encoding of validated ``Event`` objects;
3. loads them into our SQLite store (``<data-dir>/events.sqlite``), our PostGIS store (database ``--database``),
   a PostGIS table ``pygeoapi_events`` and a GeoPackage ``<data-dir>/pygeoapi-events.gpkg`` for pygeoapi;
4. makes ``--queries`` seeded 50 km boxes with one-week windows and counts by brute force what each must match;
5. level 1: times ``EventStore.query`` in process on both stores (every count checked against brute force);
6. level 2: starts ``czmap serve`` on each store and pygeoapi (PostgreSQL, SQLiteGPKG, OGR providers) with the
   same worker count, checks the counts of the first queries on every server, then asks each the same paths;
7. prints a markdown table with the ratios, writes ``bench/results/events-<timestamp>.json`` and ``.png``;
8. drops the benchmark database (unless ``--keep-db``).

Only 127.0.0.1 is contacted; every timed loop is bounded by a count and a time budget.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import events_data as data  # noqa: E402
import events_http as http  # noqa: E402
import events_queries as q  # noqa: E402
import numpy as np  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

ROOT = BENCH.parent
RESULTS = BENCH / "results"
TARGET_P95_MS = 50.0
STORES = ("ours-sqlite", "ours-postgis")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="synthetic events (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=20201110, help="seed of the events and the queries")
    parser.add_argument("--queries", type=int, default=200, help="boxes (and weeks) per query kind (default 200)")
    parser.add_argument("--limit", type=int, default=100, help="page size for every request (default 100)")
    parser.add_argument("--levels", default="1,2", help="1 = store in process, 2 = HTTP (default both)")
    parser.add_argument("--kinds", default=",".join(q.KINDS), help=f"comma list of {', '.join(q.KINDS)}")
    parser.add_argument("--passes", type=int, default=2, help="level 1: timed passes over the queries (default 2)")
    parser.add_argument("--budget", type=float, default=40.0, help="level 1: seconds at most per store and kind")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server (default 1)")
    parser.add_argument("--http-queries", type=int, default=200, help="level 2: the first N queries of each kind")
    parser.add_argument("--http-budget", type=float, default=30.0, help="level 2: seconds at most per target and kind")
    parser.add_argument("--warmup", type=int, default=5, help="level 2: untimed requests before each timed series")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "events-data", help="layers, SQLite and GPKG")
    parser.add_argument("--database", default="czmap_bench", help="PostgreSQL database to create (and drop)")
    parser.add_argument("--pg-port", type=int, default=5432, help="PostgreSQL on 127.0.0.1 (bench/pg_cluster.sh)")
    parser.add_argument("--reuse", action="store_true", help="keep stores already loaded with the same events")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for events-<timestamp>.json/.png")
    args = parser.parse_args(argv)
    if min(args.events, args.queries, args.limit, args.passes, args.workers, args.http_queries) < 1:
        parser.error("--events, --queries, --limit, --passes, --workers and --http-queries must be positive")
    if args.events < data.VIA_STORE or args.warmup < 0:
        parser.error(f"--events must be at least {data.VIA_STORE}, --warmup not negative")
    unknown = set(args.kinds.split(",")) - set(q.KINDS)
    if unknown or not set(args.levels.split(",")) <= {"1", "2"}:
        parser.error(f"--kinds: unknown {sorted(unknown)}; --levels: 1 and/or 2")
    if not args.database.isidentifier():
        parser.error("--database must be a plain identifier")
    return args


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A rich progress display; ``task(description, total)`` returns an ``advance(n)`` callback."""
    columns = (TextColumn("{task.description:32}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as bar:

        def task(description: str, total: int) -> Callable[[int], None]:
            tid = bar.add_task(description, total=total)
            return lambda n: bar.advance(tid, n)

        yield task


# ---------------------------------------------------------------------------------------------------- data


def generate(args: argparse.Namespace, layers_dir: Path) -> data.Events:
    chunk = 100_000
    labeller = data.zone_labeller(layers_dir)
    with progress_bar() as task:
        advance = task("generate events", args.events)
        # generation is vectorised; the zones (the slow part) are labelled in chunks to show progress
        parts: list[list[str]] = []

        def labelled(lon: np.ndarray, lat: np.ndarray) -> list[str]:
            for start in range(0, len(lon), chunk):
                parts.append(labeller(lon[start : start + chunk], lat[start : start + chunk]))
                advance(min(chunk, len(lon) - start))
            return [z for part in parts for z in part]

        return data.generate(args.events, args.seed, labelled)


def fingerprint(args: argparse.Namespace) -> dict[str, Any]:
    return {"events": args.events, "seed": args.seed, "generator": data.GENERATOR_VERSION, "database": args.database,
            "pg_port": args.pg_port}


def pg_url(args: argparse.Namespace, database: str | None = None) -> str:
    """The benchmark's database (or ``database``) on the PostgreSQL of ``--pg-port``."""
    return f"postgresql://postgres@127.0.0.1:{args.pg_port}/{database or args.database}"


def load_all(args: argparse.Namespace, events: data.Events) -> dict[str, Any]:
    """Load every store unless ``--reuse`` finds them loaded with the same events; return the load timings."""
    from app.events.store.postgis import PostgisEventStore
    from app.events.store.sqlite import SqliteEventStore

    stamp = args.data_dir / "events-fingerprint.json"
    if args.reuse and stamp.exists() and json.loads(stamp.read_text()) == fingerprint(args) and _db_ready(args):
        print("reusing the loaded stores", file=sys.stderr)
        return {"reused": True}
    stamp.unlink(missing_ok=True)
    timings: dict[str, float] = {}
    sqlite_path = args.data_dir / "events.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    _recreate_db(args)
    rest = args.events - data.VIA_STORE
    with progress_bar() as task:
        t0 = time.perf_counter()
        with SqliteEventStore(sqlite_path) as store:
            data.insert_via_store(store, events, data.VIA_STORE)
        data.load_sqlite(sqlite_path, events, task("load our SQLite store", rest))
        timings["ours-sqlite"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with PostgisEventStore(pg_url(args)) as store:
            data.insert_via_store(store, events, data.VIA_STORE)
        data.load_postgis(pg_url(args), events, task("load our PostGIS store", rest))
        timings["ours-postgis"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        data.load_pygeoapi_postgis(pg_url(args))
        timings["pygeoapi-postgis-table"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        data.write_gpkg(
            args.data_dir / "pygeoapi-events.gpkg", events, task("write pygeoapi's GeoPackage", len(events))
        )
        timings["pygeoapi-gpkg"] = time.perf_counter() - t0
    stamp.write_text(json.dumps(fingerprint(args)))
    return {"reused": False, "seconds": timings}


def _recreate_db(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(pg_url(args, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {args.database}")


def _db_ready(args: argparse.Namespace) -> bool:
    import psycopg

    try:
        with psycopg.connect(pg_url(args)) as conn:
            row = conn.execute(f"SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM {data.PYGEOAPI_TABLE})")
            return tuple(row.fetchone() or ()) == (args.events, args.events)
    except psycopg.Error:
        return False


def drop_db(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(pg_url(args, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")


# ---------------------------------------------------------------------------------------------------- level 1


def level1(args: argparse.Namespace, queries: dict[str, list[q.Query]], expected: Expected) -> Any:
    """``EventStore.query`` in process on both stores; every page and numberMatched against brute force."""
    from app.events.store.postgis import PostgisEventStore
    from app.events.store.sqlite import SqliteEventStore

    opened = {
        "ours-sqlite": lambda: SqliteEventStore(args.data_dir / "events.sqlite"),
        "ours-postgis": lambda: PostgisEventStore(pg_url(args)),
    }
    results: dict[str, dict[str, Any]] = {}
    problems = []
    for kind in args.kinds.split(","):
        results[kind] = {}
        for name, open_store in opened.items():
            with open_store() as store:
                built = [q.store_query(x, data.FIRST_DAY, args.limit) for x in queries[kind]]
                stats = q.time_store(store.query, built, args.passes, args.budget)
            wrong = expected.wrong(kind, stats["matched"], stats.pop("page_ids"))
            if wrong:
                i, why = wrong[0]
                problems.append(f"{kind} {name}: {len(wrong)} pages differ, e.g. query {i} ({queries[kind][i]}): {why}")
            stats["matched_ok"] = not wrong
            stats["omitted"] = sum(m is None for m in stats["matched"])
            stats["matched"] = _spread([m for m in stats["matched"] if m is not None])
            results[kind][name] = stats
            mark = "" if stats["matched_ok"] else "  PAGES DIFFER"
            print(f"  level 1 {kind:10} {name:13} {_line(stats)}{mark}", file=sys.stderr)
    return results, problems


@dataclass
class Expected:
    """Brute-force answers: per kind, each query's count and the indexes of its first page."""

    counts: dict[str, list[int]]
    pages: dict[str, list[list[int]]]
    bound: int  # our numberMatched may be left out above this many matches

    def wrong(self, kind: str, matched: list[int | None], page_ids: list[list[str]]) -> list[tuple[int, str]]:
        """(query, reason) of every answer that differs from brute force."""
        found = []
        for i, (count, ids) in enumerate(zip(matched, page_ids, strict=True)):
            want = [data.event_id(j) for j in self.pages[kind][i]]
            if not q.count_agrees(count, self.counts[kind][i], self.bound):
                found.append((i, f"numberMatched {count} vs brute force {self.counts[kind][i]}"))
            elif ids != want:
                found.append((i, f"page {ids[:3]}... vs brute force {want[:3]}..."))
        return found


def brute_force(events: data.Events, queries: dict[str, list[q.Query]], limit: int) -> Expected:
    """Counts and first pages of every query, from the generated arrays."""
    from app.events.store.base import COUNT_CAP

    types, verifications = [t[0] for t in data.TYPES], [v[0] for v in data.VERIFICATION]
    counts: dict[str, list[int]] = {}
    pages: dict[str, list[list[int]]] = {}
    for kind, chosen in queries.items():
        masks = [q.expected_mask(events, x, types, verifications) for x in chosen]
        counts[kind] = [int(m.sum()) for m in masks]
        pages[kind] = [q.expected_page(m, events.day, limit) for m in masks]
    return Expected(counts, pages, max(COUNT_CAP, limit))


def _spread(values: list[int]) -> dict[str, float]:
    arr = np.asarray(values)
    if not arr.size:
        return {}
    return {"min": int(arr.min()), "median": float(np.median(arr)), "max": int(arr.max()), "mean": float(arr.mean())}


def _line(stats: dict[str, Any]) -> str:
    if not stats.get("n"):
        return "no measurement"
    return (
        f"p50 {stats['p50_ms']:8.2f} ms  p95 {stats['p95_ms']:8.2f} ms  p99 {stats['p99_ms']:8.2f} ms  "
        f"{stats['rps']:8.1f} req/s  n {stats['n']}"
    )


# ---------------------------------------------------------------------------------------------------- level 2


def level2(args: argparse.Namespace, queries: dict[str, list[q.Query]], expected: Expected, workdir: Path) -> Any:
    """Every server over HTTP: pre-flight counts, then the same paths to every target, per kind."""
    server_cpus, client_cpus = http.oapif.default_cpus(args.workers)
    os.sched_setaffinity(0, {int(c) for c in client_cpus.split(",")})  # the client off the servers' CPU
    http.oapif.ensure_bench_venv()
    servers = _servers(args, workdir, server_cpus)
    with http.running(list(servers.values())):
        targets = _targets(servers)
        preflight = _preflight(args, targets, servers, queries, expected)
        runs: dict[str, dict[str, Any]] = {}
        for kind in args.kinds.split(","):
            runs[kind] = {}
            for target in targets:
                chosen = queries[kind][: args.http_queries]
                paths = [q.path(target.flavour, target.collection, x, data.FIRST_DAY, args.limit) for x in chosen]
                if any(p is None for p in paths):
                    continue
                stats = http.measure(servers[target.server], [p for p in paths if p], args.warmup, args.http_budget)
                runs[kind][target.name] = stats
                print(
                    f"  level 2 {kind:10} {target.name:20} {_line(stats)}  errors {stats['errors']} {stats['covered']}",
                    file=sys.stderr,
                )
    return {"cpus": {"server": server_cpus, "client": client_cpus}, "preflight": preflight, "results": runs}


def _servers(args: argparse.Namespace, workdir: Path, cpus: str) -> dict[str, http.Server]:
    data_dir = args.data_dir.resolve()
    servers = {
        "ours-sqlite": http.ours_server("ours-sqlite", data_dir, None, workdir, args.workers, cpus),
        "ours-postgis": http.ours_server("ours-postgis", data_dir, pg_url(args), workdir, args.workers, cpus),
    }
    port = http.oapif.free_port()
    pg = {"host": "127.0.0.1", "port": args.pg_port, "dbname": args.database, "user": "postgres", "password": ""}
    limits = (http.oapif.DEFAULT_LIMIT, http.oapif.MAX_LIMIT)
    config = http.pygeoapi_config(port, data_dir / "pygeoapi-events.gpkg", pg, limits)
    servers["pygeoapi"] = http.pygeoapi_server(config, port, workdir, args.workers, cpus)
    return servers


def _targets(servers: dict[str, http.Server]) -> list[http.Target]:
    """Our two stores when the events collection is served, and pygeoapi's three providers."""
    targets = []
    for name in STORES:
        status, _ = http.get(servers[name].base + "/collections/events/items?limit=1")
        if status == 200:
            targets.append(http.Target(name, name, "events", "ours"))
        else:
            print(f"  {name}: /collections/events/items answered {status}: not measured over HTTP", file=sys.stderr)
    for flavour, collection in http.PYGEOAPI_COLLECTIONS.items():
        targets.append(http.Target(f"pygeoapi-{flavour}", "pygeoapi", collection, flavour))
    return targets


def _preflight(
    args: argparse.Namespace,
    targets: list[http.Target],
    servers: dict[str, http.Server],
    queries: dict[str, list[q.Query]],
    expected: Expected,
    checks: int = 5,
) -> dict[str, Any]:
    """The first ``checks`` queries of each kind: every target's numberMatched must agree with brute force.

    Ours may leave numberMatched out above the cap (:func:`q.count_agrees`); pygeoapi's must be exact.
    """
    report: dict[str, Any] = {}
    problems = []
    for kind in args.kinds.split(","):
        for i, query in enumerate(queries[kind][:checks]):
            want = expected.counts[kind][i]
            row: dict[str, Any] = {"expected": want}
            for target in targets:
                found = _matched(target, servers[target.server].base, query, args.limit)
                if found is None:
                    continue
                row[target.name] = found
                matched, returned, problem = found
                bound = expected.bound if target.flavour == "ours" else want
                if problem or not q.count_agrees(matched, want, bound) or returned != min(args.limit, want):
                    problems.append(f"{kind} #{i} {target.name}: {found} vs expected {want}")
            report[f"{kind}#{i}"] = row
    if problems:
        raise SystemExit("servers disagree with the brute-force counts, nothing timed:\n  " + "\n  ".join(problems))
    return report


def _matched(target: http.Target, base: str, query: q.Query, limit: int) -> tuple[int | None, int, str] | None:
    path = q.path(target.flavour, target.collection, query, data.FIRST_DAY, limit)
    if path is None:
        return None
    matched, returned, problem = http.matched_of(base, path, hits=False)
    if matched is None and not problem and target.flavour != "ours":  # SQLiteGPKG has no numberMatched: ask hits
        hits_path = q.path(target.flavour, target.collection, query, data.FIRST_DAY, limit, hits=True)
        matched, _, problem = http.matched_of(base, hits_path or "", hits=True)
    return matched, returned, problem


# ---------------------------------------------------------------------------------------------------- report


def ratios(level2_results: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """pygeoapi / ours for latency, ours / pygeoapi for req/s, each provider against the store it resembles.

    Both sides are compared on the same queries: the first n paths that both answered within the time budget.
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    for kind, by_target in level2_results.items():
        for flavour, ours in http.PEER_OF.items():
            peer = by_target.get(f"pygeoapi-{flavour}")
            mine = by_target.get(ours)
            if not (peer and mine):
                continue
            n = min(len(peer["latencies_ms"]), len(mine["latencies_ms"]))
            a, b = q.latency_stats(mine["latencies_ms"][:n]), q.latency_stats(peer["latencies_ms"][:n])
            out.setdefault(kind, {})[f"{ours} vs pygeoapi-{flavour}"] = {
                "n": n,
                "p50": b["p50_ms"] / a["p50_ms"],
                "p95": b["p95_ms"] / a["p95_ms"],
                "rps": a["rps"] / b["rps"],
                "req_per_cpu_s": mine["req_per_cpu_s"] / peer["req_per_cpu_s"],
            }
    return out


def markdown(record: dict[str, Any]) -> str:
    lines = ["| level | query | target | p50 ms | p95 ms | p99 ms | req/s | n | p95 < 50 ms |", "|" + "---|" * 9]
    for level, results in (("1 (in process)", record.get("level1") or {}), ("2 (HTTP)", _l2(record))):
        for kind, by_target in results.items():
            for target, s in by_target.items():
                ok = "yes" if s["p95_ms"] < TARGET_P95_MS else "**no**"
                ok = ok if target.startswith("ours") else "-"
                lines.append(
                    f"| {level} | {kind} | {target} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['p99_ms']:.2f} | "
                    f"{s['rps']:.1f} | {s['n']} | {ok} |"
                )
    ratio = record.get("ratios") or {}
    if ratio:
        lines += ["", "| query | pair | same queries | p50 ratio | p95 ratio | req/s ratio | req/CPU-s ratio |"]
        lines.append("|" + "---|" * 7)
        for kind, pairs in ratio.items():
            for pair, r in pairs.items():
                lines.append(
                    f"| {kind} | {pair} | {r['n']} | {r['p50']:.1f}x | {r['p95']:.1f}x | {r['rps']:.1f}x | "
                    f"{r['req_per_cpu_s']:.1f}x |"
                )
        lines.append("")
        lines.append("Ratios: pygeoapi/ours for latency, ours/pygeoapi for req/s (higher is better for us).")
    return "\n".join(lines)


def _l2(record: dict[str, Any]) -> dict[str, Any]:
    return (record.get("level2") or {}).get("results", {})


def chart(path: Path, record: dict[str, Any], title: str) -> None:
    """p95 per query kind and target (log scale), level 1 and level 2 side by side, with the 50 ms target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("level 1: EventStore.query in process", record.get("level1") or {}), ("level 2: HTTP", _l2(record))]
    panels = [(t, r) for t, r in panels if r]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.8), squeeze=False)
    for ax, (subtitle, results) in zip(axes[0], panels, strict=True):
        kinds = list(results)
        names = sorted({t for by in results.values() for t in by}, key=lambda n: (not n.startswith("ours"), n))
        width = 0.8 / max(len(names), 1)
        for j, name in enumerate(names):
            xs = [i + (j - (len(names) - 1) / 2) * width for i in range(len(kinds))]
            ys = [results[k].get(name, {}).get("p95_ms", float("nan")) for k in kinds]
            bars = ax.bar(xs, ys, width, label=name)
            ax.bar_label(bars, labels=[f"{y:.0f}" if y == y else "" for y in ys], fontsize=7)
        ax.set_yscale("log")
        ax.axhline(TARGET_P95_MS, color="red", linestyle="--", linewidth=1, label="target p95 50 ms")
        ax.set_xticks(range(len(kinds)), kinds)
        ax.set_ylabel("p95 latency, ms (log scale)")
        ax.set_title(subtitle, fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    stamp = data.now_utc()
    workdir = args.out / f"events-{stamp}"
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    http.oapif.ensure_layers(args.data_dir, rebuild=False)
    layers_dir = args.data_dir / "layers"
    events = generate(args, layers_dir)
    sample = np.random.default_rng(args.seed + 1).choice(len(events), 2000, replace=False).tolist()
    record: dict[str, Any] = {
        "timestamp": stamp,
        "args": {k: str(v) for k, v in vars(args).items()},
        "versions": http.oapif.versions(),
        "fast_path_check": data.check_rows(events, sorted(sample), layers_dir),
    }
    record["load"] = load_all(args, events)
    queries = q.make_queries(events.lon, events.lat, args.queries, args.seed + 2, data.DAYS)
    truth = brute_force(events, queries, args.limit)
    expected = truth.counts
    record["queries"] = {k: [asdict(x) for x in v] for k, v in queries.items()}
    record["expected_matched"] = {k: _spread(v) for k, v in expected.items()}
    record["expected"] = expected
    try:
        if "1" in args.levels:
            record["level1"], record["level1_problems"] = level1(args, queries, truth)
        if "2" in args.levels:
            record["level2"] = level2(args, queries, truth, workdir)
            record["ratios"] = ratios(record["level2"]["results"])
    finally:
        if not args.keep_db:
            drop_db(args)
    record["wall_s"] = time.monotonic() - started
    record["table"] = markdown(record)
    print(record["table"])
    for problem in record.get("level1_problems", []):
        print(f"COUNT MISMATCH: {problem}", file=sys.stderr)
    out_json = args.out / f"events-{stamp}.json"
    out_json.write_text(json.dumps(record, indent=2, default=str))
    chart(args.out / f"events-{stamp}.png", record, f"{args.events:,} events, {args.workers} worker(s), {stamp}")
    print(f"\nwrote {out_json} and {out_json.with_suffix('.png')} ({record['wall_s']:.0f} s)", file=sys.stderr)
    return 1 if record.get("level1_problems") else 0


if __name__ == "__main__":
    os.environ.setdefault("CZMAP_GEODATA_MIRROR", str(ROOT.parent / "shared" / "geodata"))
    sys.exit(main())
