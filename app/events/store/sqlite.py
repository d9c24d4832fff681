"""The embedded event store: one SQLite file, WAL, an R*Tree spatial index, no server.

Durability: WAL with ``synchronous=FULL``, so a transaction is on disk (the WAL fsynced) before ``COMMIT``
returns; ``NORMAL`` would be faster but may lose the last commits on power loss, and an acknowledged write
must never be lost. Writes go through one connection under a lock (``BEGIN IMMEDIATE``); reads borrow one of at
most ``readers`` connections and see the last committed state without blocking the writer.

Memory: each connection keeps its own page cache (:data:`CACHE_KIB`), so the readers are a bounded pool, not one
per thread: the server's thread pool has 40 threads, and a reader each held up to 1.3 GB per worker once every
thread had read (bench/LOAD.md). The file itself is read through ``mmap``, shared with the OS page cache.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import shapely
from shapely.geometry.base import BaseGeometry

from app.events.cql import Kind, Params
from app.events.errors import SchemaError
from app.events.store.base import COUNT_CAP, JSON_COLUMNS, DateInterval, DayRange
from app.events.store.dialect import SqlDialect, epoch_day, escape_like, json_text, utc_iso
from app.events.store.migrate import pending_migrations
from app.events.store.sql import SqlEventStore

BUSY_TIMEOUT_S = 30.0
#: Page cache per connection, and memory-mapped reads (shared by all connections through the OS page cache).
CACHE_KIB = 16_384
#: Read connections at most, by default (a read waits for one when all are lent).
READERS = 4
MMAP_BYTES = 1 << 30
#: Days pad the R*Tree's time extent on both sides (migration 0004): never zero, and whole-day tests stay exact.
DAY_PAD = 0.25


class SqliteDialect(SqlDialect):
    """SQLite: ``?`` placeholders, ISO text dates, JSON text, spatial predicates via a shapely function."""

    placeholder: ClassVar[str] = "?"
    row_key: ClassVar[str] = "rid"

    def bind_value(self, value: Any, kind: Kind | None) -> Any:
        """Dates as ISO text, timestamps as UTC ISO text."""
        if isinstance(value, datetime):
            return utc_iso(value if value.tzinfo else value.replace(tzinfo=UTC))
        if isinstance(value, date):
            if kind is Kind.DATETIME:
                return utc_iso(datetime(value.year, value.month, value.day, tzinfo=UTC))
            return value.isoformat()
        return value

    def spatial(self, predicate: str, geometry: BaseGeometry, params: Params) -> str:
        """R*Tree candidates within the geometry's bounds, then the exact test in shapely."""
        wkb = shapely.to_wkb(geometry)
        if predicate == "disjoint":
            return f"(NOT cz_spatial('intersects', e.lon, e.lat, {params.bind(wkb)}))"
        west, south, east, north = geometry.bounds
        box = [params.bind(v) for v in (west, east, south, north)]
        return (
            f"(e.rid IN (SELECT id FROM events_rtree WHERE maxx >= {box[0]} AND minx <= {box[1]} "
            f"AND maxy >= {box[2]} AND miny <= {box[3]}) "
            f"AND cz_spatial({params.bind(predicate)}, e.lon, e.lat, {params.bind(wkb)}))"
        )

    def bbox(
        self, box: tuple[float, float, float, float], interval: DateInterval, starts: DayRange, params: Params
    ) -> tuple[str, str]:
        """Join the R*Tree on space and days (float32 boxes, rounded outward) and re-check exact coordinates.

        The R*Tree's third dimension is [date_start - DAY_PAD, date_end + DAY_PAD] in days since 1970 (exact in
        float32), so the range of start days and the window's start are answered by the index; no row is read for
        an event outside them.
        """
        west, south, east, north = box
        p = [params.bind(v) for v in (east, west, north, south)]
        join = f"JOIN events_rtree r ON r.id = e.rid AND r.minx <= {p[0]} AND r.maxx >= {p[1]} "
        join += f"AND r.miny <= {p[2]} AND r.maxy >= {p[3]}"
        first, last = (params.bind(epoch_day(day) - DAY_PAD) for day in starts)
        join += f" AND r.mint >= {first} AND r.mint <= {last}"
        if interval[0] is not None:
            join += f" AND r.maxt >= {params.bind(epoch_day(interval[0]) + DAY_PAD)}"
        q = [params.bind(v) for v in (west, east, south, north)]
        return join, f"e.lon BETWEEN {q[0]} AND {q[1]} AND e.lat BETWEEN {q[2]} AND {q[3]}"

    def zone_condition(self, zone: str, params: Params) -> str:
        """Exact label, or any feature of the layer."""
        exact, prefix = params.bind(zone), params.bind(escape_like(zone) + ":%")
        return (
            f"EXISTS (SELECT 1 FROM json_each(e.zones) z WHERE z.value = {exact} OR z.value LIKE {prefix} ESCAPE '\\')"
        )

    def encode(self, column: str, value: Any) -> Any:
        """JSON columns as text; everything else is already text or a number."""
        return json_text(value) if column in JSON_COLUMNS else value

    def decode(self, column: str, value: Any) -> Any:
        """JSON text back to lists and dicts."""
        if column in JSON_COLUMNS and value is not None:
            return json.loads(value)
        return value


@lru_cache(maxsize=64)
def _prepared(wkb: bytes) -> BaseGeometry:
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


def _cz_spatial(predicate: str, lon: float, lat: float, wkb: bytes) -> int:
    geometry = _prepared(wkb)
    if predicate == "intersects":
        return int(shapely.intersects_xy(geometry, lon, lat))
    return int(getattr(shapely, predicate)(shapely.Point(lon, lat), geometry))


class SqliteEventStore(SqlEventStore):
    """The event store in one SQLite file.

    Parameters
    ----------
    path
        The database file (created with its folder if missing).
    target_version
        Migrate up to this schema version (default: the latest); older versions exist for migration tests.
    max_limit
        The largest page a query may ask for.
    count_cap
        numberMatched is exact up to this many matches (see :data:`~app.events.store.base.COUNT_CAP`).
    readers
        Read connections at most (each with its own page cache of :data:`CACHE_KIB`).

    """

    backend: ClassVar[str] = "sqlite"

    def __init__(
        self,
        path: Path,
        target_version: int | None = None,
        max_limit: int = 10_000,
        count_cap: int = COUNT_CAP,
        readers: int = READERS,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dialect = SqliteDialect()
        self.max_limit, self.count_cap = max_limit, count_cap
        self.max_readers = readers
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._readers_lock = threading.Lock()
        self._writer = self._connect()
        self._migrate(target_version)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA case_sensitive_like = ON")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        conn.create_function("cz_spatial", 4, _cz_spatial, deterministic=True)
        return conn

    def _migrate(self, target: int | None) -> None:
        with self._write_lock:
            conn = self._writer
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
            conn.execute("BEGIN IMMEDIATE")
            try:
                current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
                for migration in pending_migrations(self.backend, current, target):
                    for statement in _statements(migration.sql):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_version VALUES (?, ?)", [migration.version, utc_iso(datetime.now(UTC))]
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def schema_version(self) -> int:
        """The highest migration applied."""
        with self._cursor(write=False) as cur:
            cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
            return int(cur.fetchone()[0])

    @contextmanager
    def _cursor(self, write: bool) -> Iterator[sqlite3.Cursor]:
        if not write:
            with self._reader() as conn:
                cur = conn.cursor()
                try:
                    yield cur
                finally:
                    cur.close()
            return
        with self._write_lock:
            cur = self._writer.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                self._writer.rollback()
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Cursor]:
        """A read transaction: every statement sees the state of its first read (WAL keeps it for the reader)."""
        with self._cursor(write=False) as cur:
            cur.execute("BEGIN")
            try:
                yield cur
            finally:
                cur.execute("COMMIT")

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        """A read connection lent for the block; a read inside a read on the same thread gets the same one."""
        held = getattr(self._local, "held", None)
        if held is not None:
            yield held
            return
        conn = self._take_reader()
        self._local.held = conn
        try:
            yield conn
        finally:
            self._local.held = None
            self._idle.put(conn)

    def _take_reader(self) -> sqlite3.Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._readers_lock:
            if len(self._readers) < self.max_readers:
                conn = self._connect()
                conn.execute("PRAGMA query_only = ON")
                self._readers.append(conn)
                return conn
        return self._idle.get(timeout=BUSY_TIMEOUT_S)

    def close(self) -> None:
        """Close every connection (a checkpoint folds the WAL into the main file)."""
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._idle = queue.LifoQueue()
        with self._write_lock:
            try:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._writer.close()
        self._local = threading.local()


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (``sqlite3.complete_statement`` handles trigger bodies)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if not buffer and line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise SchemaError(f"incomplete SQL statement in migration: {buffer.strip()[:80]!r}")
    return statements
