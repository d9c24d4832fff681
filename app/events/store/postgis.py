"""The PostgreSQL/PostGIS event store (psycopg 3 with a connection pool, GiST index on a generated point).

PostgreSQL commits are durable by default (``synchronous_commit = on``), so a write is on disk when
``COMMIT`` returns. Migrations run under an advisory lock, so two processes starting together apply each once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, ClassVar

import shapely
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool
from shapely.geometry.base import BaseGeometry

from app.events.cql import Kind, Params
from app.events.store.base import (
    JSON_COLUMNS,
    DateInterval,
    SqlDialect,
    SqlEventStore,
    escape_like,
    pending_migrations,
    utc_iso,
)

#: Arbitrary constant naming the advisory lock that serialises migrations.
_MIGRATION_LOCK = 4_242_020
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

    def bbox(self, box: tuple[float, float, float, float], interval: DateInterval, params: Params) -> tuple[str, str]:
        """``geom && envelope`` (the GiST index), then the exact coordinates.

        ``&&`` compares float32 index boxes, rounded outward, so alone it may pass points up to ~0.4 m outside the
        box: the exact ``lon``/``lat`` test (edges included, as ``ST_Intersects`` of a point and an envelope) drops
        them. ``geom`` is generated from ``lon``/``lat``, so both tests see the same point.
        """
        west, south, east, north = (float(v) for v in box)
        corners = ", ".join(params.bind(v) for v in (west, south, east, north))
        q = [params.bind(v) for v in (west, east, south, north)]
        return "", (
            f"e.geom && ST_MakeEnvelope({corners}, 4326) "
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

    """

    backend: ClassVar[str] = "postgis"

    def __init__(
        self, url: str, target_version: int | None = None, pool_max_size: int = 10, max_limit: int = 10_000
    ) -> None:
        self.dialect = PostgisDialect()
        self.max_limit = max_limit
        self._pool = ConnectionPool(
            url.replace("postgres://", "postgresql://", 1),
            min_size=1,
            max_size=pool_max_size,
            kwargs={"options": "-c timezone=UTC"},
            open=True,
        )
        try:
            self._migrate(target_version)
        except BaseException:
            self._pool.close()
            raise

    def _migrate(self, target: int | None) -> None:
        with self._pool.connection() as conn, conn.transaction():
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
        with self._pool.connection() as conn:
            if write:
                with conn.transaction(), conn.cursor() as cur:
                    yield cur
            else:
                with conn.cursor() as cur:
                    yield cur

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()
