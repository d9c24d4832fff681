"""kill -9 fault scripts against a real ``czmap serve`` and a real ``czmap events import``, bounded in time.

``writes``: ``--writers`` clients write events back to back for ``--duration`` seconds; after ``--kill-after``
seconds the server is killed with SIGKILL, started again, and the writers go on until the end. Then every write
that was acknowledged (201) is read back by id: ``acknowledged`` vs ``found``.

``import``: a UCDP GED CSV of ``--rows`` rows is imported with ``czmap events import``, killed with SIGKILL once
a third of them are stored (or after ``--kill-after`` seconds), then imported again to the end. It reports the
events stored after the kill, after the resumed import, and duplicates (events or ``import`` audit records
beyond one per row).

    python bench/faults.py writes --data-dir DIR --writers 8 --duration 60 --kill-after 30
    python bench/faults.py import --data-dir DIR --rows 200000
    ... --database-url postgresql://postgres@127.0.0.1:5432/faults   (default: DIR/events.sqlite)

``--data-dir`` must hold built layers. Loopback only (a free port in 8200-8299); the figures are printed as JSON.
tests/events/test_faults_short.py runs both for a few seconds on each store.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mixed_load import CZMAP, HOST, ROOT, create_editor_key, event_body, free_port, start_server  # noqa: E402

UCDP_SAMPLE = ROOT / "tests" / "events" / "fixtures" / "ucdp_ged_sample.csv"


def server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The environment of the server and the command line: this data folder and store, no rate limits."""
    env = {**os.environ, "CZMAP_DATA_DIR": str(data_dir), "CZMAP_BASEMAP__URL": "", "PYTHONPATH": str(ROOT)}
    env |= {"CZMAP_SERVICE__RATE_PER_ADDRESS": "0", "CZMAP_SERVICE__WRITES_PER_KEY": "0"}
    if database_url:
        env["CZMAP_EVENTS__DATABASE_URL"] = database_url
    return env


@contextmanager
def served(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``czmap serve`` on a free loopback port; killed at the end if still running."""
    port = free_port()
    process = start_server(env, port, workers=1)
    try:
        yield f"http://{HOST}:{port}", process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def kill_during_writes(
    data_dir: Path, database_url: str | None, writers: int, duration: float, kill_after: float
) -> dict[str, Any]:
    """Writes with a SIGKILL of the server part-way; every acknowledged write is looked up after a restart."""
    env = server_env(data_dir, database_url)
    key = create_editor_key(env)
    acknowledged: list[str] = []
    refused = 0
    run_id, started = uuid.uuid4().hex[:8], time.monotonic()
    with served(env) as (url, process):
        # kill -9 while the writers are writing: they go on a second longer, into a dead server
        acked, refused = asyncio.run(_write(url, key, run_id, writers, kill_after + 1, 0, (process, kill_after)))
        acknowledged += acked
        process.wait(timeout=30)
    with served(env) as (url, _):
        rest = max(1.0, duration - (time.monotonic() - started))
        acked, more_refused = asyncio.run(_write(url, key, run_id, writers, rest, len(acknowledged) + 100_000))
        acknowledged += acked
        found = asyncio.run(_found(url, acknowledged))
    return {
        "writers": writers,
        "seconds": round(time.monotonic() - started, 1),
        "acknowledged": len(acknowledged),
        "found": found,
        "not_acknowledged": refused + more_refused,
    }


async def _write(
    url: str,
    key: str,
    run_id: str,
    writers: int,
    seconds: float,
    first: int,
    kill: tuple[subprocess.Popen[bytes], float] | None = None,
) -> tuple[list[str], int]:
    """``writers`` clients posting events for ``seconds``; the ids acknowledged (201) and the count of the rest.

    ``kill``: the server process and the second at which it is sent SIGKILL.
    """
    deadline = time.monotonic() + seconds
    if kill is not None:
        asyncio.get_running_loop().call_later(kill[1], kill[0].send_signal, signal.SIGKILL)
    acknowledged: list[str] = []
    failed = 0
    counter = iter(range(first, first + 10_000_000))

    async def writer(client: httpx.AsyncClient) -> None:
        nonlocal failed
        while time.monotonic() < deadline:
            body = event_body(run_id, next(counter))
            try:
                response = await client.post("/collections/events/items", json=body)
            except httpx.TransportError:
                failed += 1
                await asyncio.sleep(0.1)  # the server is down: do not spin
                continue
            if response.status_code == 201:
                acknowledged.append(response.headers["location"].rsplit("/", 1)[1])
            else:
                failed += 1

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        await asyncio.gather(*(writer(client) for _ in range(writers)))
    return acknowledged, failed


async def _found(url: str, ids: list[str]) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        found = 0
        for event_id in ids:
            found += (await client.get(f"/collections/events/items/{event_id}")).status_code == 200
        return found


def kill_during_import(data_dir: Path, database_url: str | None, rows: int, timeout: float) -> dict[str, Any]:
    """An import killed with SIGKILL once a third of the rows are stored, then run again: none lost or doubled."""
    env = server_env(data_dir, database_url)
    env["CZMAP_EVENTS__SEED"] = "false"
    source = data_dir / f"faults-ucdp-{rows}.csv"
    write_ucdp_csv(source, rows)
    command = [*CZMAP, "events", "import", str(source)]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if count_imported(data_dir, database_url)["events"] >= rows // 3:
            break
        time.sleep(0.05)
    killed = process.poll() is None
    if killed:
        process.send_signal(signal.SIGKILL)  # kill -9 mid-import
    process.wait(timeout=30)
    after_kill = count_imported(data_dir, database_url)
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, timeout=3600)
    after_resume = count_imported(data_dir, database_url)
    return {
        "rows": rows,
        "killed": killed,
        "stored_after_kill": after_kill["events"],
        "stored_after_resume": after_resume["events"],
        "import_audit_records": after_resume["audit"],
        "duplicates": after_resume["audit"] - after_resume["audit_ids"] + max(0, after_resume["events"] - rows),
        "seconds": round(time.monotonic() - started, 1),
    }


def write_ucdp_csv(path: Path, rows: int) -> None:
    """A UCDP GED CSV of ``rows`` events made from the first row of the test sample (ids and places varied)."""
    with UCDP_SAMPLE.open(encoding="utf-8", newline="") as sample:
        reader = csv.DictReader(sample)
        template, fields = next(reader), reader.fieldnames or []
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for n in range(rows):
            lat = 39.5 + (n % 500) * 0.001
            lon = 46.5 + (n // 500 % 500) * 0.001
            row = template | {"id": str(900_000_000 + n), "relid": f"FAULT-{n}", "latitude": f"{lat:.5f}"}
            writer.writerow(row | {"longitude": f"{lon:.5f}", "geom_wkt": f"POINT ({lon:.5f} {lat:.5f})"})


def count_imported(data_dir: Path, database_url: str | None) -> dict[str, int]:
    """Events, ``import:*`` audit records and the distinct events those records name, read from the store."""
    queries = {
        "events": "SELECT count(*) FROM events",
        "audit": "SELECT count(*) FROM audit WHERE action LIKE 'import:%'",
        "audit_ids": "SELECT count(DISTINCT event_id) FROM audit WHERE action LIKE 'import:%'",
    }
    if database_url and database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as conn:
            try:
                return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in queries.items()}  # type: ignore[index]
            except psycopg.errors.UndefinedTable:  # not migrated yet
                return dict.fromkeys(queries, 0)
    path = Path(database_url.removeprefix("sqlite:///")) if database_url else data_dir / "events.sqlite"
    conn = sqlite3.connect(path, timeout=30)
    try:
        return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in queries.items()}
    except sqlite3.OperationalError:  # not migrated yet
        return dict.fromkeys(queries, 0)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run one fault script; print and return its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fault", choices=["writes", "import"])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--kill-after", type=float, default=30, help="writes: seconds; import: at most")
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args(argv)
    if args.fault == "writes":
        figures = kill_during_writes(args.data_dir, args.database_url, args.writers, args.duration, args.kill_after)
    else:
        figures = kill_during_import(args.data_dir, args.database_url, args.rows, args.kill_after)
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
