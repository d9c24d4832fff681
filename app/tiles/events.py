"""Vector tiles of the event store, made in SQL: counts per grid cell at low zooms, each event above.

Below ``settings.tiles.event_point_zoom`` (and in any tile where more than ``max_features`` events match) a
tile holds one point per grid cell of ``cell_pixels`` pixels that has events, at the mean position of its
events, with ``count`` and the sum of their ``fatalities``: the cell counts of one tile add up to the events
in it, however many there are. A cell is half-open (its left and top edges in, its right and bottom edges
out), so an event on a tile edge is counted in one tile only. Above, each event is a point with its ``id``,
``date_start``, ``date_end``, ``event_type``, ``fatalities`` (best estimate) and ``sources`` (how many).

PostGIS writes the tile itself (``ST_AsMVT``/``ST_AsMVTGeom``); on SQLite the rows are encoded here
(:mod:`app.tiles.mvt`). Both filter through the store's own query (:meth:`SqlEventStore.matching`): bbox
through the spatial index, ``datetime`` by the events' dates, the CQL2 filter translated to SQL.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from app.collections.base import TimeInterval
from app.collections.events import EventsCollection, query_error
from app.events.errors import ValidationError
from app.events.store.base import EventQuery
from app.events.store.sql import SqlEventStore
from app.settings import TilesSection
from app.tiles.grid import BUFFER, EXTENT, HALF_WORLD, TileAddress
from app.tiles.mvt import encode_points, to_tile_units

#: Spherical Mercator of the store's lon/lat columns, in the SQL both databases speak.
MERCATOR_X = f"(e.lon * {HALF_WORLD / 180.0!r})"
MERCATOR_Y = f"(ln(tan(pi() / 4 + radians(e.lat) / 2)) * {HALF_WORLD / math.pi!r})"


class EventTiles(ABC):
    """Tiles of one event store (see the module docstring); :func:`event_tiles` picks the backend's class."""

    #: SQL of the number of cited sources of ``e``.
    sources_count: str

    def __init__(self, collection: EventsCollection, settings: TilesSection) -> None:
        store = collection.service.store
        if not isinstance(store, SqlEventStore):
            raise TypeError(f"event tiles need a SQL event store, not {type(store).__name__}")
        self.store = store
        self.name = collection.meta.id
        self.settings = settings

    def tile(self, tile: TileAddress, interval: TimeInterval | None, cql: Any) -> bytes:
        """The MVT of the events in ``tile`` matching ``interval`` and ``cql``; b"" when none match."""
        try:
            if tile.z >= self.settings.event_point_zoom:
                points = self._points(tile, self._query(tile, BUFFER, interval, cql), self.settings.max_features)
                if points is not None:
                    return points
            return self._cells(tile, self._query(tile, 0, interval, cql))
        except ValidationError as exc:
            raise query_error(str(exc)) from None

    @abstractmethod
    def _points(self, tile: TileAddress, query: EventQuery, limit: int) -> bytes | None:
        """The tile with a point per event, or None when more than ``limit`` match."""

    @abstractmethod
    def _cells(self, tile: TileAddress, query: EventQuery) -> bytes:
        """The tile with a point per grid cell holding events."""

    def _query(self, tile: TileAddress, buffer: int, interval: TimeInterval | None, cql: Any) -> EventQuery:
        dates = (interval.start, interval.end) if interval is not None else None
        return EventQuery(bbox=tile.lonlat_bounds(buffer), datetime=dates, cql=cql)

    def _point_columns(self) -> str:
        return (
            "e.id AS id, CAST(e.date_start AS text) AS date_start, CAST(e.date_end AS text) AS date_end, "
            f"e.event_type AS event_type, e.fatalities_best AS fatalities, {self.sources_count} AS sources"
        )

    def _cell_rows(self, tile: TileAddress, source: str) -> str:
        """SQL of the cells of ``tile`` holding events of ``source`` (FROM ... WHERE): count, fatalities, mean x, y."""
        left, bottom, right, top = tile.bounds
        cell = tile.size * self.settings.cell_pixels / 256
        return (
            "SELECT count(*) AS n, sum(coalesce(f, 0)) AS fatalities, avg(mx) AS mx, avg(my) AS my FROM "
            f"(SELECT {MERCATOR_X} AS mx, {MERCATOR_Y} AS my, e.fatalities_best AS f {source}) p "
            f"WHERE mx >= {left!r} AND mx < {right!r} AND my > {bottom!r} AND my <= {top!r} "
            f"GROUP BY floor((mx - {left!r}) / {cell!r}), floor(({top!r} - my) / {cell!r})"
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

    def _cells(self, tile: TileAddress, query: EventQuery) -> bytes:
        with self.store.matching(query) as (cur, source, values):
            cur.execute(self._cell_rows(tile, source), values)
            rows = cur.fetchall()
        left, _, _, top = tile.bounds
        scale = EXTENT / tile.size
        x = (np.array([r[2] for r in rows], dtype=float) - left) * scale
        y = (top - np.array([r[3] for r in rows], dtype=float)) * scale
        return encode_points(self.name, tile, x, y, [{"count": int(r[0]), "fatalities": int(r[1])} for r in rows])


class PostgisEventTiles(EventTiles):
    """Tiles written by PostGIS (``ST_AsMVT``), one statement each."""

    sources_count = "coalesce(jsonb_array_length(e.sources), 0)"

    def _points(self, tile: TileAddress, query: EventQuery, limit: int) -> bytes | None:
        geometry = f"ST_AsMVTGeom(ST_Transform(e.geom, 3857), {_envelope(tile)}, {EXTENT}, {BUFFER}, true)"
        with self.store.matching(query) as (cur, source, values):
            cur.execute(
                f"WITH t AS (SELECT {self._point_columns()}, {geometry} AS geom {source} LIMIT {limit + 1}) "
                f"SELECT ST_AsMVT(t, %s, {EXTENT}, 'geom'), count(*) FROM t",
                [*values, self.name],
            )
            body, found = cur.fetchone()
        if found > limit:
            return None
        return bytes(body or b"")

    def _cells(self, tile: TileAddress, query: EventQuery) -> bytes:
        point = "ST_SetSRID(ST_MakePoint(c.mx, c.my), 3857)"
        with self.store.matching(query) as (cur, source, values):
            cur.execute(
                "SELECT ST_AsMVT(a, %s, "
                f"{EXTENT}, 'geom') FROM (SELECT CAST(c.n AS integer) AS count, CAST(c.fatalities AS integer) "
                f"AS fatalities, ST_AsMVTGeom({point}, {_envelope(tile)}, {EXTENT}, {BUFFER}, true) AS geom "
                f"FROM ({self._cell_rows(tile, source)}) c) a",
                [self.name, *values],
            )
            body = cur.fetchone()[0]
        return bytes(body or b"")


def event_tiles(collection: EventsCollection, settings: TilesSection) -> EventTiles:
    """The tiles of ``collection`` for its store's backend."""
    if collection.service.store.backend == "postgis":
        return PostgisEventTiles(collection, settings)
    return SqliteEventTiles(collection, settings)


def _envelope(tile: TileAddress) -> str:
    return f"ST_TileEnvelope({tile.z}, {tile.x}, {tile.y})"
