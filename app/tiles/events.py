"""Vector tiles of the event store, made in SQL: counts per grid cell at low zooms, each event above.

Below ``settings.tiles.event_point_zoom`` (and in any tile where more than ``max_features`` events match) a
tile holds one point at the centre of each grid cell of ``cell_pixels`` pixels that has events, with ``count``
and the sum of their ``fatalities``: the cell counts of one tile add up to the events in it, however many there
are. A cell is half-open (its west and south edges in, its east and north edges out), so an event on a tile edge
is counted in one tile only. Above, each event is a point with its ``id``, ``date_start``, ``date_end``,
``event_type``, ``fatalities`` (best estimate) and ``sources`` (how many).

PostGIS writes point tiles itself (``ST_AsMVT``/``ST_AsMVTGeom``); SQLite's rows, and the cells of both (a few
hundred at most), are encoded here (:mod:`app.tiles.mvt`). Both filter through the store's own query
(:meth:`SqlEventStore.matching`): bbox through the spatial index, ``datetime`` by the events' dates, the CQL2
filter translated to SQL.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.collections.base import TimeInterval
from app.collections.events import EventsCollection, query_error
from app.events.errors import ValidationError
from app.events.store.base import EventQuery
from app.events.store.sql import SqlEventStore
from app.settings import TilesSection
from app.tiles.grid import BUFFER, EXTENT, HALF_WORLD, TileAddress, to_lonlat
from app.tiles.mvt import encode_points, to_tile_units

#: Spherical Mercator y of the store's latitude column (SQLite's math functions).
MERCATOR_Y = f"(ln(tan(pi() / 4 + radians(e.lat) / 2)) * {HALF_WORLD / math.pi!r})"


@dataclass(frozen=True)
class CellCounts:
    """Events counted per cell of the world's grid at ``zoom`` (``cells`` to a tile's side).

    ``table`` holds int64 rows (column, row, count, fatalities), columns and rows counted from the world's
    top-left corner. The grids of the zooms nest, so a coarser tile's cell is the sum of the cells under it.
    """

    zoom: int
    cells: int
    table: np.ndarray

    def in_tile(self, tile: TileAddress) -> np.ndarray:
        """Rows (column, row, count, fatalities) of the cells of ``tile`` (a zoom at or above :attr:`zoom`)."""
        shift = self.zoom - tile.z
        column, row = self.table[:, 0] >> shift, self.table[:, 1] >> shift
        column, row = column - tile.x * self.cells, row - tile.y * self.cells
        inside = (column >= 0) & (column < self.cells) & (row >= 0) & (row < self.cells)
        key = row[inside] * self.cells + column[inside]
        size = self.cells * self.cells
        counts = np.bincount(key, weights=self.table[inside, 2], minlength=size).astype(np.int64)
        deaths = np.bincount(key, weights=self.table[inside, 3], minlength=size).astype(np.int64)
        held = np.flatnonzero(counts)
        return np.column_stack([held % self.cells, held // self.cells, counts[held], deaths[held]])

    def to_bytes(self) -> bytes:
        """The table as bytes (for a byte cache)."""
        return bytes(np.concatenate([[self.zoom, self.cells], self.table.ravel()]).astype(np.int64).tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> CellCounts:
        """The counts :meth:`to_bytes` wrote."""
        values = np.frombuffer(data, dtype=np.int64)
        return cls(int(values[0]), int(values[1]), values[2:].reshape(-1, 4))


class EventTiles(ABC):
    """Tiles of one event store (see the module docstring); :func:`event_tiles` picks the backend's class."""

    #: SQL of the number of cited sources of ``e``.
    sources_count: str
    #: Whether the store's own bbox condition selects the tile's events (else :meth:`_source` adds one).
    store_bbox = True

    def __init__(self, collection: EventsCollection, settings: TilesSection) -> None:
        store = collection.service.store
        if not isinstance(store, SqlEventStore):
            raise TypeError(f"event tiles need a SQL event store, not {type(store).__name__}")
        self.store = store
        self.name = collection.meta.id
        self.settings = settings

    def tile(
        self,
        tile: TileAddress,
        interval: TimeInterval | None,
        cql: Any,
        counts: Callable[[], CellCounts] | None = None,
    ) -> bytes:
        """The MVT of the events in ``tile`` matching ``interval`` and ``cql``; b"" when none match.

        ``counts``, when given, returns the :meth:`cell_counts` of the same query (kept by the caller): a tile
        below the point zoom then sums them instead of reading its events.
        """
        try:
            if tile.z >= self.settings.event_point_zoom:
                points = self._points(tile, self._query(tile, BUFFER, interval, cql), self.settings.max_features)
                if points is not None:
                    return points
            elif counts is not None:
                return self._encode_cells(tile, counts().in_tile(tile))
            return self._cells(tile, self._query(tile, 0, interval, cql))
        except ValidationError as exc:
            raise query_error(str(exc)) from None

    def cell_counts(self, interval: TimeInterval | None, cql: Any) -> CellCounts:
        """The events matching ``interval`` and ``cql`` counted per cell of the grid one zoom below the point zoom.

        One pass over the matching events; every tile below the point zoom is then a sum of these cells.
        """
        level, cells = self.settings.event_point_zoom - 1, 256 // self.settings.cell_pixels
        side = (1 << level) * cells
        column = f"floor((e.lon + 180) * {side / 360!r})"
        row = f"floor(({HALF_WORLD!r} - {MERCATOR_Y}) * {side / (2 * HALF_WORLD)!r})"
        dates = (interval.start, interval.end) if interval is not None else None
        try:
            with self.store.matching(EventQuery(datetime=dates, cql=cql)) as (cur, source, values):
                cur.execute(
                    "SELECT gx, gy, count(*), sum(coalesce(f, 0)) FROM "
                    f"(SELECT {column} AS gx, {row} AS gy, e.fatalities_best AS f {source}) p "
                    f"WHERE gx >= 0 AND gx < {side} AND gy >= 0 AND gy < {side} GROUP BY gx, gy",
                    values,
                )
                rows = cur.fetchall()
        except ValidationError as exc:
            raise query_error(str(exc)) from None
        return CellCounts(level, cells, np.array(rows, dtype=np.int64).reshape(-1, 4))

    @abstractmethod
    def _points(self, tile: TileAddress, query: EventQuery, limit: int) -> bytes | None:
        """The tile with a point per event, or None when more than ``limit`` match."""

    @abstractmethod
    def _row_index(self, tile: TileAddress, cells: int) -> str:
        """SQL of the grid row (0 at the top) of ``e`` in ``tile``, rows ``cells`` high; outside: < 0 or >= cells."""

    def _cells(self, tile: TileAddress, query: EventQuery) -> bytes:
        """The tile with a point at the centre of each grid cell holding events: ``count`` and ``fatalities``."""
        cells = 256 // self.settings.cell_pixels
        west, _, east, _ = tile.lonlat_bounds()
        column = f"floor((e.lon - {west!r}) * {cells / (east - west)!r})"  # Mercator x is linear in longitude
        with self.store.matching(query) as (cur, source, values):
            source = self._source(source, tile, 0)
            cur.execute(
                "SELECT cx, cy, count(*), sum(coalesce(f, 0)) FROM "
                f"(SELECT {column} AS cx, {self._row_index(tile, cells)} AS cy, e.fatalities_best AS f {source}) p "
                f"WHERE cx >= 0 AND cx < {cells} AND cy >= 0 AND cy < {cells} GROUP BY cx, cy",
                values,
            )
            rows = cur.fetchall()
        return self._encode_cells(tile, np.array(rows, dtype=np.int64).reshape(-1, 4))

    def _encode_cells(self, tile: TileAddress, rows: np.ndarray) -> bytes:
        """Rows (column, row, count, fatalities) of the tile's cells as points at the cells' centres."""
        step = EXTENT / (256 // self.settings.cell_pixels)
        x, y = (rows[:, 0] + 0.5) * step, (rows[:, 1] + 0.5) * step
        properties = [{"count": int(n), "fatalities": int(f)} for n, f in rows[:, 2:]]
        return encode_points(self.name, tile, x, y, properties)

    def _query(self, tile: TileAddress, buffer: int, interval: TimeInterval | None, cql: Any) -> EventQuery:
        dates = (interval.start, interval.end) if interval is not None else None
        return EventQuery(bbox=tile.lonlat_bounds(buffer) if self.store_bbox else None, datetime=dates, cql=cql)

    def _source(self, source: str, tile: TileAddress, buffer: int) -> str:
        """The store's FROM ... WHERE, with the tile's box when the store was not given it (:attr:`store_bbox`)."""
        return source

    def _point_columns(self) -> str:
        return (
            "e.id AS id, CAST(e.date_start AS text) AS date_start, CAST(e.date_end AS text) AS date_end, "
            f"e.event_type AS event_type, e.fatalities_best AS fatalities, {self.sources_count} AS sources"
        )


class SqliteEventTiles(EventTiles):
    """Rows read from SQLite, encoded by :func:`app.tiles.mvt.encode_points`."""

    sources_count = "coalesce(json_array_length(e.sources), 0)"

    def _points(self, tile: TileAddress, query: EventQuery, limit: int) -> bytes | None:
        with self.store.matching(query) as (cur, source, values):
            cur.execute(f"SELECT e.lon, e.lat, {self._point_columns()} {source} LIMIT {limit + 1}", values)
            rows = cur.fetchall()
        if len(rows) > limit:
            return None
        names = ("id", "date_start", "date_end", "event_type", "fatalities", "sources")
        coords = np.array([r[:2] for r in rows], dtype=float).reshape(-1, 2)
        x, y = to_tile_units(tile, coords[:, 0], coords[:, 1])
        return encode_points(self.name, tile, x, y, [dict(zip(names, r[2:], strict=True)) for r in rows])

    def _row_index(self, tile: TileAddress, cells: int) -> str:
        """From the Mercator y of the latitude (SQLite's math functions)."""
        _, bottom, _, _ = tile.bounds
        return f"({cells - 1} - floor(({MERCATOR_Y} - {bottom!r}) * {cells / tile.size!r}))"


class PostgisEventTiles(EventTiles):
    """Point tiles written by PostGIS (``ST_AsMVT``) in one statement; cells counted by PostgreSQL."""

    sources_count = "coalesce(jsonb_array_length(e.sources), 0)"
    store_bbox = False

    def _points(self, tile: TileAddress, query: EventQuery, limit: int) -> bytes | None:
        """The tile, unless more than ``limit`` events match: then only they are counted, nothing is encoded."""
        geometry = f"ST_AsMVTGeom(ST_Transform(t.geom, 3857), {_envelope(tile)}, {EXTENT}, {BUFFER}, true)"
        with self.store.matching(query) as (cur, source, values):
            source = self._source(source, tile, BUFFER)
            cur.execute(
                f"WITH t AS MATERIALIZED (SELECT {self._point_columns()}, e.geom AS geom {source} LIMIT {limit + 1}),"
                " n AS (SELECT count(*) AS found FROM t) "
                "SELECT (SELECT found FROM n), (SELECT ST_AsMVT(m, %s, "
                f"{EXTENT}, 'geom') FROM (SELECT t.id, t.date_start, t.date_end, t.event_type, t.fatalities, "
                f"t.sources, {geometry} AS geom FROM t WHERE (SELECT found FROM n) <= {limit}) m)",
                [*values, self.name],
            )
            found, body = cur.fetchone()
        if found > limit:
            return None
        return bytes(body or b"")

    def _source(self, source: str, tile: TileAddress, buffer: int) -> str:
        """The tile's box on the 2-D GiST of ``geom``.

        The store's own bbox goes through its space-time index, which builds a line for each row it tests: 1.5x
        the cost on a seq scan (a low-zoom tile reads most events), and nothing gained for one tile's box.
        """
        west, south, east, north = tile.lonlat_bounds(buffer)
        return f"{source} AND e.geom && ST_MakeEnvelope({west!r}, {south!r}, {east!r}, {north!r}, 4326)"

    def _row_index(self, tile: TileAddress, cells: int) -> str:
        """By the latitudes of the rows' edges (one binary search a row, no trigonometry)."""
        _, bottom, _, _ = tile.bounds
        edges = to_lonlat(np.zeros(cells + 1), bottom + np.arange(cells + 1) * (tile.size / cells))[1]
        return f"({cells} - width_bucket(e.lat, ARRAY[{', '.join(repr(float(v)) for v in edges)}]::float8[]))"


def event_tiles(collection: EventsCollection, settings: TilesSection) -> EventTiles:
    """The tiles of ``collection`` for its store's backend."""
    if collection.service.store.backend == "postgis":
        return PostgisEventTiles(collection, settings)
    return SqliteEventTiles(collection, settings)


def _envelope(tile: TileAddress) -> str:
    return f"ST_TileEnvelope({tile.z}, {tile.x}, {tile.y})"
