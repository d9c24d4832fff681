"""The PostgreSQL/PostGIS event store (psycopg 3 with a connection pool, GiST index on a generated point).

PostgreSQL commits are durable by default (``synchronous_commit = on``), so a write is on disk when
``COMMIT`` returns. Migrations run under an advisory lock, so two processes starting together apply each once.

When the database goes away, no request waits longer than ``pool_timeout`` for a connection, and every failure
to reach it (pool timeout, refused or broken connection) is raised as :class:`~app.events.errors.StoreDown` (503
with Retry-After). Each connection is checked before it is lent, so none left stale by a restart reaches a
request; reconnection attempts give up after a few seconds and start again with the next request, so the store
recovers by itself, within seconds of the database's return, however long it was away. A pool timeout while every
connection is lent to a request is load, not an outage: it is answered 503 too, saying so, but the calls after it
are not failed at once.

With ``start_down=True`` (the service does this) the store also opens while the database cannot be reached: every
call raises :class:`StoreDown` until it answers, and the migrations run on the first connection that succeeds.
Only the first failure and each change of state (down, back up) are logged at WARNING; the individual refusals
in between are logged at DEBUG, so an outage does not flood the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, ClassVar

import psycopg
import shapely
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout
from shapely.geometry.base import BaseGeometry

from app.events.cql import Kind, Params
from app.events.errors import StoreDown
from app.events.store.base import COUNT_CAP, JSON_COLUMNS, DateInterval, DayRange
from app.events.store.dialect import SqlDialect, epoch_day, escape_like, utc_iso
from app.events.store.migrate import pending_migrations
from app.events.store.sql import SqlEventStore

logger = logging.getLogger(__name__)

#: Arbitrary constant naming the advisory lock that serialises migrations.
_MIGRATION_LOCK = 4_242_020
#: Seconds the pool keeps retrying a failed connection before it stops (the next request starts again at 1 s).
RECONNECT_TIMEOUT = 3.0
#: Seconds during which calls fail at once after the database was found unreachable.
FAIL_FAST = 1.0
#: Seconds libpq waits for a server that does not answer (the smallest libpq honours).
CONNECT_TIMEOUT = 2
_ST_NAMES = {
    "intersects": "ST_Intersects",
    "disjoint": "ST_Disjoint",
    "contains": "ST_Contains",
    "within": "ST_Within",
    "touches": "ST_Touches",
    "crosses": "ST_Crosses",
    "overlaps": "ST_Overlaps",
    "equals": "ST_Equals",
}


#: The indexed expression of migration 0004: an event as a segment from (lon, lat, first day) to (lon, lat, last
#: day), days counted from 1970-01-01, whose n-D box the GiST (gist_geometry_ops_nd) holds. Must match the index.
SPACE_TIME = (
    "ST_MakeLine(ST_MakePoint(e.lon, e.lat, e.date_start - DATE '1970-01-01'), "
    "ST_MakePoint(e.lon, e.lat, e.date_end - DATE '1970-01-01'))"
)


def _index_days(starts: DayRange, window_start: date | None) -> tuple[float, float]:
    """The days a [date_start, date_end] segment must overlap to start in ``starts`` and end in the window.

    Overlapping [a, b] means date_start <= b and date_end >= a. Events begun before the window and lasting into
    it (``starts`` ends before ``window_start``) are those containing the half day before it, and only those.

    >>> _index_days((date(2020, 10, 1), date(2020, 10, 3)), None)
    (18536, 18538)
    >>> _index_days((date(2020, 9, 27), date(2020, 10, 2)), date(2020, 10, 3))
    (18537.5, 18537.5)
    """
    if window_start is not None and starts[1] < window_start:
        return epoch_day(window_start) - 0.5, epoch_day(window_start) - 0.5
    return epoch_day(starts[0]), epoch_day(starts[1])


class PostgisDialect(SqlDialect):
    """PostgreSQL: ``%s`` placeholders, native dates, jsonb, PostGIS predicates on ``geom``."""

    placeholder: ClassVar[str] = "%s"
    lock_clause: ClassVar[str] = " FOR UPDATE"

    def bind_value(self, value: Any, kind: Kind | None) -> Any:
        """Native values; psycopg adapts dates and timestamps."""
        return value

    def spatial(self, predicate: str, geometry: BaseGeometry, params: Params) -> str:
        """A PostGIS predicate against a WKB literal (the GiST index serves it)."""
        return f"{_ST_NAMES[predicate]}(e.geom, ST_GeomFromWKB({params.bind(shapely.to_wkb(geometry))}, 4326))"

    def bbox(
        self, box: tuple[float, float, float, float], interval: DateInterval, starts: DayRange, params: Params
    ) -> tuple[str, str]:
        """Space and days from the n-D GiST (:data:`SPACE_TIME`), then the exact coordinates and start day.

        The index holds each event as the box lon x lat x [date_start, date_end] (days), like SQLite's R*Tree: a
        query box of the bbox and the days that can match prunes on all three dimensions at once. Its float32
        boxes are rounded outward, so the exact ``lon``/``lat`` test (edges included) and ``date_start`` follow.
        """
        west, south, east, north = (float(v) for v in box)
        days = _index_days(starts, interval[0])
        corners = [params.bind(v) for v in (west, south, days[0], east, north, days[1])]
        first, last = (params.bind(day) for day in starts)  # bound in the order the placeholders appear
        q = [params.bind(v) for v in (west, east, south, north)]
        query_box = f"ST_MakeLine(ST_MakePoint({', '.join(corners[:3])}), ST_MakePoint({', '.join(corners[3:])}))"
        return "", (
            f"{SPACE_TIME} &&& {query_box} "
            f"AND e.date_start BETWEEN {first} AND {last} "
            f"AND e.lon BETWEEN {q[0]} AND {q[1]} AND e.lat BETWEEN {q[2]} AND {q[3]}"
        )

    def zone_condition(self, zone: str, params: Params) -> str:
        """Exact label, or any feature of the layer."""
        exact, prefix = params.bind(zone), params.bind(escape_like(zone) + ":%")
        return (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(e.zones) AS z(v) "
            f"WHERE z.v = {exact} OR z.v LIKE {prefix} ESCAPE '\\')"
        )

    def encode(self, column: str, value: Any) -> Any:
        """JSON columns as jsonb."""
        if column in JSON_COLUMNS:
            return None if value is None else Jsonb(value)
        return value

    def decode(self, column: str, value: Any) -> Any:
        """Dates and timestamps back to the ISO text of the JSON model."""
        if isinstance(value, datetime):
            return utc_iso(value)
        if isinstance(value, date):
            return value.isoformat()
        return value


class PostgisEventStore(SqlEventStore):
    """The event store in PostgreSQL with PostGIS.

    Parameters
    ----------
    url
        ``postgresql://user@host:port/dbname``.
    target_version
        Migrate up to this schema version (default: the latest).
    pool_max_size
        Connections kept open at most.
    max_limit
        The largest page a query may ask for.
    count_cap
        numberMatched is exact up to this many matches (see :data:`~app.events.store.base.COUNT_CAP`).
    pool_timeout
        Seconds a caller waits for a connection before :class:`~app.events.errors.StoreDown` is raised.
    retry_after
        Seconds a client is told to wait (``StoreDown.retry_after``).
    start_down
        Open even when the database cannot be reached (calls raise :class:`StoreDown` until it can); without it,
        an unreachable database raises :class:`StoreDown` here.

    """

    backend: ClassVar[str] = "postgis"

    def __init__(
        self,
        url: str,
        target_version: int | None = None,
        pool_max_size: int = 10,
        max_limit: int = 10_000,
        count_cap: int = COUNT_CAP,
        pool_timeout: float = 5.0,
        retry_after: int = 2,
        start_down: bool = False,
    ) -> None:
        self.dialect = PostgisDialect()
        self.max_limit, self.count_cap = max_limit, count_cap
        self.retry_after = retry_after
        self._down_until = 0.0
        self._down = False  # the state last logged: a change is logged once, at WARNING
        self._target_version = target_version
        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._pool = ConnectionPool(
            url.replace("postgres://", "postgresql://", 1),
            min_size=1,
            max_size=pool_max_size,
            # Never server-prepared: a generic plan ignores the box and the days it is asked for (measured on
            # 1,000,000 events: CQL p50 69 -> 29 ms once every statement is planned with its values).
            kwargs={"options": "-c timezone=UTC", "prepare_threshold": None, "connect_timeout": CONNECT_TIMEOUT},
            timeout=pool_timeout,
            check=ConnectionPool.check_connection,
            reconnect_timeout=RECONNECT_TIMEOUT,
            open=False,
        )
        self._pool.open(wait=False)
        try:
            with self._connection(timeout=max(pool_timeout, CONNECT_TIMEOUT)):  # the first one migrates the schema
                pass
        except StoreDown:
            if not start_down:
                self._pool.close()
                raise
            logger.warning("the event database cannot be reached at start; event requests answer 503 until it can")
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def _connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; a database that cannot be reached raises :class:`StoreDown`.

        After a failure, calls fail at once for :data:`FAIL_FAST` seconds (a request that reads the store three
        times waits for the pool once, not three times); the pool keeps reconnecting meanwhile.
        """
        message = f"the event database is unavailable; try again in {self.retry_after} s"
        if time.monotonic() < self._down_until:
            raise StoreDown(message, self.retry_after)
        try:
            with self._pool.connection(timeout=timeout) as conn:
                if not self._migrated:
                    self._migrate(conn)
                self._state(down=False, reason="")
                yield conn
        except PoolTimeout as exc:
            if not self._all_connections_in_use():
                raise self._mark_down(message, exc) from exc
            # the database is up and every connection is serving a request: busy, not down, so the calls that
            # follow are not failed at once (an outage's fail-fast turned a moment of load into seconds of 503s)
            size = self._pool.max_size
            raise StoreDown(
                f"all {size} event database connections stayed in use for {self._pool.timeout:g} s "
                f"(events.pool_max_size, events.pool_timeout); try again in {self.retry_after} s",
                self.retry_after,
            ) from exc
        except psycopg.OperationalError as exc:  # refused or broken connection, server shutdown
            raise self._mark_down(message, exc) from exc

    def _mark_down(self, message: str, exc: Exception) -> StoreDown:
        """Mark the database unreachable (calls fail at once for :data:`FAIL_FAST` seconds); the error to raise."""
        self._down_until = time.monotonic() + FAIL_FAST
        self._state(down=True, reason=_first_line(exc))
        return StoreDown(message, self.retry_after)

    def _all_connections_in_use(self) -> bool:
        """Whether the pool holds as many connections as it may and lends every one (busy, not unreachable)."""
        stats = self._pool.get_stats()
        return stats.get("pool_size", 0) >= self._pool.max_size and stats.get("pool_available", 0) == 0

    def _state(self, down: bool, reason: str) -> None:
        """Log a change between reachable and unreachable once at WARNING, a repeated failure at DEBUG."""
        if down == self._down:
            if down:
                logger.debug("event database still unavailable: %s", reason)
            return
        self._down = down
        if down:
            logger.warning("event database unavailable: %s", reason)
        else:
            logger.warning("event database reachable again")

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        """Apply the pending migrations once per store (on its first connection), under the advisory lock."""
        with self._migrate_lock:
            if not self._migrated:
                self._apply_migrations(conn, self._target_version)
                self._migrated = True

    def _apply_migrations(self, conn: psycopg.Connection[Any], target: int | None) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK])
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz)"
            )
            row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
            for migration in pending_migrations(self.backend, int(row[0]) if row else 0, target):
                conn.execute(migration.sql.encode())
                conn.execute("INSERT INTO schema_version VALUES (%s, now())", [migration.version])

    def schema_version(self) -> int:
        """The highest migration applied."""
        with self._cursor(write=False) as cur:
            cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
            return int(cur.fetchone()[0])

    @contextmanager
    def _cursor(self, write: bool) -> Iterator[Any]:
        with self._connection() as conn:
            if write:
                with conn.transaction(), conn.cursor() as cur:
                    yield cur
            else:
                with conn.cursor() as cur:
                    yield cur

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        """A read-only REPEATABLE READ transaction: every statement sees the same snapshot."""
        with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield cur

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()


def _first_line(exc: BaseException) -> str:
    """The first line of a driver message (libpq adds hints and addresses on the following lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
