"""Where a slow event query spends its time: py-spy over ``EventStore.query`` and the database's own plan.

Run after ``bench/events_vs_pygeoapi.py --keep-db`` (the stores must still be loaded):

    .venv/bin/python bench/events_profile.py bench/results/events-<timestamp>.json --kind bbox --store ours-sqlite

It picks the ``--top`` queries of ``--kind`` with the most matching events (the slow tail), then

1. runs them in a loop for ``--seconds`` under ``py-spy record --native`` (from ``.venv-bench``) in a child process
   and prints the hottest frames, Python and C (SQLite, libpq) alike;
2. records the SQL the store sends (a cursor wrapper in this process; no app code is changed) and prints the
   database's plan: ``EXPLAIN QUERY PLAN`` plus timings of the index-only step for SQLite, ``EXPLAIN (ANALYZE,
   BUFFERS)`` for PostgreSQL.

Output goes to stdout and ``bench/results/events-<timestamp>/profile-<store>-<kind>*.txt``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import events_data as data  # noqa: E402
import events_queries as q  # noqa: E402
import oapif_vs_pygeoapi as oapif  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("record", type=Path, help="events-<timestamp>.json of the run")
    parser.add_argument("--kind", default="bbox", choices=q.KINDS)
    parser.add_argument("--store", default="ours-sqlite", choices=("ours-sqlite", "ours-postgis"))
    parser.add_argument("--top", type=int, default=10, help="queries with the most matches to profile")
    parser.add_argument("--seconds", type=float, default=15.0, help="py-spy sampling time")
    parser.add_argument("--loop", action="store_true", help=argparse.SUPPRESS)  # the child under py-spy
    return parser.parse_args(argv)


def chosen(record: dict[str, Any], kind: str, top: int, store: Any) -> list[q.Query]:
    """The ``top`` queries of ``kind`` matching the most events (the slow tail)."""
    queries = [q.Query(x["kind"], tuple(x["bbox"]), x["first_day"]) for x in record["queries"][kind]]
    counts = record.get("expected", {}).get(kind)
    if counts is None:  # a record without the brute-force counts: ask the store
        counts = [store.query(q.store_query(x, data.FIRST_DAY, 1)).matched or 0 for x in queries]
    order = sorted(range(len(queries)), key=lambda i: -counts[i])
    return [queries[i] for i in order[:top]]


def open_store(record: dict[str, Any], store: str) -> Any:
    args = record["args"]
    if store == "ours-sqlite":
        from app.events.store.sqlite import SqliteEventStore

        return SqliteEventStore(Path(args["data_dir"]) / "events.sqlite")
    from app.events.store.postgis import PostgisEventStore

    return PostgisEventStore(f"postgresql://postgres@127.0.0.1:{args.get('pg_port', 5432)}/{args['database']}")


def loop(record: dict[str, Any], args: argparse.Namespace) -> None:
    limit = int(record["args"]["limit"])
    picked = json.loads((args.record.with_suffix("") / "profile-chosen.json").read_text())
    built = [q.store_query(q.Query(x["kind"], tuple(x["bbox"]), x["first_day"]), data.FIRST_DAY, limit) for x in picked]
    deadline = time.monotonic() + args.seconds + 5
    with open_store(record, args.store) as store:
        while time.monotonic() < deadline:
            for query in built:
                store.query(query)


@contextmanager
def recording(store: Any) -> Iterator[list[tuple[str, list[Any]]]]:
    """Record every (sql, params) the store's reads execute (wraps its private ``_snapshot``; bench-only)."""
    seen: list[tuple[str, list[Any]]] = []
    original = store._snapshot

    class Recorder:
        def __init__(self, cur: Any) -> None:
            self._cur = cur

        def execute(self, sql: str, params: Any = None) -> Any:
            seen.append((sql, list(params or [])))
            return self._cur.execute(sql, params if params is not None else ())

        def __getattr__(self, name: str) -> Any:
            return getattr(self._cur, name)

    @contextmanager
    def wrapped() -> Iterator[Any]:
        with original() as cur:
            yield Recorder(cur)

    store._snapshot = wrapped
    try:
        yield seen
    finally:
        store._snapshot = original


def plans(record: dict[str, Any], args: argparse.Namespace) -> str:
    """The database's plan and step timings of the slowest query."""
    limit = int(record["args"]["limit"])
    first = json.loads((args.record.with_suffix("") / "profile-chosen.json").read_text())[0]
    query = q.Query(first["kind"], tuple(first["bbox"]), first["first_day"])
    out = [f"query (most matches of its kind): {query}"]
    with open_store(record, args.store) as store:
        with recording(store) as seen:
            t0 = time.perf_counter()
            page = store.query(q.store_query(query, data.FIRST_DAY, limit))
            matched = page.matched
            out.append(f"EventStore.query: {1000 * (time.perf_counter() - t0):.1f} ms, matched {matched}")
        for sql, params in seen:
            out.append(f"SQL: {sql}\nparams: {params}")
            out += (
                _sqlite_plan(store, sql, params, query) if args.store == "ours-sqlite" else _pg_plan(store, sql, params)
            )
    return "\n".join(out)


def _sqlite_plan(store: Any, sql: str, params: list[Any], query: q.Query) -> list[str]:
    with store._reader() as conn:
        lines = ["EXPLAIN QUERY PLAN:"] + [f"  {row[3]}" for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
        west, south, east, north = query.bbox
        steps = {
            "R*Tree only (count of ids in the box)": (
                "SELECT count(*) FROM events_rtree WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?",
                [east, west, north, south],
            ),
            "the whole statement": (sql, params),
        }
        for label, (text, values) in steps.items():
            t0 = time.perf_counter()
            conn.execute(text, values).fetchall()
            lines.append(f"{label}: {1000 * (time.perf_counter() - t0):.1f} ms")
    return lines


def _pg_plan(store: Any, sql: str, params: list[Any]) -> list[str]:
    with store._pool.connection() as conn:
        rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
    return ["EXPLAIN (ANALYZE, BUFFERS):"] + [f"  {r[0]}" for r in rows]


def profile(args: argparse.Namespace, record: dict[str, Any], workdir: Path) -> str:
    raw = workdir / f"profile-{args.store}-{args.kind}.txt"
    with open_store(record, args.store) as store:  # the slow tail, chosen here so the child only runs queries
        picked = [asdict(x) for x in chosen(record, args.kind, args.top, store)]
    (workdir / "profile-chosen.json").write_text(json.dumps(picked))
    spy = [str(oapif.BENCH_VENV / "bin" / "py-spy"), "record", "--native", "--rate", "200", "--format", "raw"]
    spy += ["--duration", f"{round(args.seconds) + 3}", "--output", str(raw), "--"]
    child = [sys.executable, __file__, str(args.record), "--kind", args.kind, "--store", args.store]
    child += ["--top", str(args.top), "--seconds", str(args.seconds), "--loop"]
    subprocess.run(spy + child, check=True, timeout=args.seconds + 120, capture_output=True)
    spots = oapif.hot_spots(raw, top=20)
    (workdir / f"profile-{args.store}-{args.kind}-top.txt").write_text(json.dumps(spots, indent=2))
    lines = [f"py-spy: {spots['busy_samples']} busy samples; self time (leaf frames):"]
    lines += [f"  {pct:5.1f}%  {frame}" for frame, pct in spots["self_pct"][:15]]
    lines += ["inclusive:"] + [f"  {pct:5.1f}%  {frame}" for frame, pct in spots["inclusive_pct"][:20]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    record = json.loads(args.record.read_text())
    if args.loop:
        loop(record, args)
        return 0
    workdir = args.record.with_suffix("")
    workdir.mkdir(exist_ok=True)
    text = profile(args, record, workdir) + "\n\n" + plans(record, args)
    (workdir / f"profile-{args.store}-{args.kind}-summary.txt").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
