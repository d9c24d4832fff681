"""The event store seen by the other parts: events for the static map, counts by type for the zone summary.

Both query the store with a bounding box and the period first (its spatial and date indexes), page through
the matches, and never read every event.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from app.events.service import EventService
from app.events.store.base import EventQuery
from app.events.store.sql import SqlEventStore
from app.events.vocab import Verification
from app.events.zones import ZONE_LAYERS
from app.layerstore.zones import ZoneLayer
from app.tiles.events import MERCATOR_Y
from app.tiles.grid import HALF_WORLD, to_lonlat, to_mercator
from app.webmap.sources import EventDensity, ViewFilter

BBox = tuple[float, float, float, float]
#: Rows read per store query (capped by the store's own largest page).
PAGE_SIZE = 5_000


def matching_features(
    service: EventService, bbox: BBox | None, start: date | None, end: date | None
) -> Iterator[dict[str, Any]]:
    """Every event feature inside ``bbox`` whose dates overlap ``start``..``end`` (None is open), page by page.

    Each page reads on from the last event of the one before (keyset paging), so a write between two pages
    neither repeats nor skips an event that was already there, and no page re-reads what came before.
    """
    limit = min(PAGE_SIZE, int(getattr(service.store, "max_limit", PAGE_SIZE)))
    after: tuple[date, str] | None = None
    while True:
        page = service.query(EventQuery(bbox=bbox, datetime=(start, end), limit=limit, after=after))
        yield from page.features
        if not page.more or not page.features:
            return
        last = page.features[-1]
        after = (date.fromisoformat(last["properties"]["date_start"]), str(last["id"]))


class StoreEventSource:
    """:class:`app.webmap.sources.EventSource` backed by the event store.

    Parameters
    ----------
    service
        The open event service.
    max_markers
        Most events of a view drawn one by one (``map.image_markers``); above, :meth:`density` counts them.

    """

    def __init__(self, service: EventService, max_markers: int) -> None:
        self.service = service
        self.max_markers = max_markers

    def events(self, *, bbox: BBox | None, start: date, end: date) -> gpd.GeoDataFrame:
        """Events inside ``bbox`` whose date range overlaps ``start``-``end``, as points in EPSG:4326."""
        features = list(matching_features(self.service, bbox, start, end))
        rows = [{"id": f["id"], **f["properties"]} for f in features]
        xs = [f["geometry"]["coordinates"][0] for f in features]
        ys = [f["geometry"]["coordinates"][1] for f in features]
        if not rows:
            columns: dict[str, list[Any]] = {"id": [], "event_type": [], "verification": [], "date_start": []}
            return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=4326), crs=4326)
        return gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(xs, ys), crs=4326)

    def density(self, where: ViewFilter, cell: float, unmapped_from: int) -> EventDensity | None:
        """The matching events counted per square Web Mercator ``cell`` (metres) and per stored zone, in SQL.

        None when the store cannot count in SQL or no more than :attr:`max_markers` events are to be drawn: the
        caller then reads the events themselves. Events of ``location_precision`` ``unmapped_from`` or above are
        counted apart (they are not drawn).
        """
        store = self.service.store
        if not isinstance(store, SqlEventStore):
            return None
        unmapped = f"coalesce(e.location_precision, 1) >= {int(unmapped_from)}"
        column = f"CASE WHEN {unmapped} THEN -1 ELSE CAST(floor(e.lon * {HALF_WORLD / 180 / cell!r}) AS integer) END"
        row = f"CAST(floor({MERCATOR_Y} / {cell!r}) AS integer)"
        if store.backend == "postgis":
            row = _row_by_latitude(where.bbox, cell)
        # PostGIS: the box on the 2-D GiST of geom, as the event tiles do (the store's space-time index builds a
        # line for each row it tests: 1.5x the time of a view holding most events)
        box = store.backend == "postgis"
        query = EventQuery(bbox=None if box else where.bbox, datetime=(where.start, where.end))
        with store.matching(query) as (cur, source, values):
            source, values = _with_lists(source, values, store.dialect.placeholder, where)
            if box:  # the GiST's float32 boxes are rounded outward: the exact test (edges in) as the store's
                west, south, east, north = (repr(float(v)) for v in where.bbox)
                source += (
                    f" AND e.geom && ST_MakeEnvelope({west}, {south}, {east}, {north}, 4326)"
                    f" AND e.lon BETWEEN {west} AND {east} AND e.lat BETWEEN {south} AND {north}"
                )
            # one pass: the events counted per cell and per set of stored zones (a few sets a cell; as text, which
            # PostgreSQL groups at a third of the cost of jsonb)
            cur.execute(
                f"SELECT gx, gy, zs, count(*) FROM (SELECT {column} AS gx, {row} AS gy, CAST(e.zones AS text) AS zs "
                f"{source}) p "
                "GROUP BY gx, gy, zs",
                values,
            )
            groups = cur.fetchall()
        table = np.array([g[:2] + g[3:] for g in groups], dtype=np.float64).reshape(-1, 3)
        lost = table[:, 0] < 0
        if table[~lost, 2].sum() <= self.max_markers:
            return None
        cells, index = np.unique(table[~lost, :2], axis=0, return_inverse=True)
        counts = np.bincount(index.ravel(), weights=table[~lost, 2], minlength=len(cells)).astype(np.int64)
        zone_sets: Counter[str] = Counter()
        for gx, _, labels, count in groups:
            if gx >= 0 and labels:
                zone_sets[labels] += int(count)
        zones: Counter[str] = Counter()
        for labels, count in zone_sets.items():  # each distinct set decoded once
            for label in json.loads(labels):
                zones[str(label)] += count
        return EventDensity(
            x=(cells[:, 0] + 0.5) * cell,
            y=(cells[:, 1] + 0.5) * cell,
            counts=counts,
            unmapped=int(table[lost, 2].sum()),
            zones=dict(zones),
        )


def _row_by_latitude(bbox: BBox, cell: float) -> str:
    """SQL of the Mercator row (``floor(y / cell)``) of ``e`` by the latitudes of the rows' edges in ``bbox``.

    One binary search a row instead of a logarithm and a tangent (as the PostGIS event tiles): a quarter off a
    view's counts.
    """
    _, south, _, north = bbox
    low, high = (int(math.floor(float(v) / cell)) for v in to_mercator(np.zeros(2), np.array([south, north]))[1])
    edges = to_lonlat(np.zeros(high - low + 2), (low + np.arange(high - low + 2)) * cell)[1]
    return f"(width_bucket(e.lat, ARRAY[{', '.join(repr(float(v)) for v in edges)}]::float8[]) + {low - 1})"


def _with_lists(source: str, values: list[Any], placeholder: str, where: ViewFilter) -> tuple[str, list[Any]]:
    """``source`` narrowed to the view's event types and verification states (each: any of its list)."""
    values = list(values)
    for column, allowed in (("event_type", where.event_types), ("verification", where.verification)):
        if allowed:
            source += f" AND e.{column} IN ({', '.join([placeholder] * len(allowed))})"
            values += [str(v) for v in allowed]
    return source, values


class StoreEventCounter:
    """:class:`app.analysis.summary.EventCounter` backed by the event store; retracted reports are not counted.

    An event is in a zone when its stored ``zones`` name it (computed by the zone index when it was written);
    layers events are not labelled with are asked of the index, by the same rule.

    Parameters
    ----------
    service
        The open event service.

    """

    def __init__(self, service: EventService) -> None:
        self.service = service

    def count_by_type(self, layer: ZoneLayer, zone: int, start: date | None, end: date | None) -> dict[str, int]:
        """Events by ``event_type`` in zone ``zone`` of ``layer`` whose dates overlap the period."""
        west, south, east, north = (float(v) for v in shapely.bounds(layer.geoms[zone]))
        features = [
            f
            for f in matching_features(self.service, (west, south, east, north), start, end)
            if f["properties"].get("verification") != Verification.RETRACTED.value
        ]
        if not features:
            return {}
        if layer.id in ZONE_LAYERS:
            label = f"{layer.id}:{layer.zones[zone].id}"
            inside = [label in (f["properties"].get("zones") or ()) for f in features]
        else:
            xy = np.array([f["geometry"]["coordinates"][:2] for f in features], dtype=np.float64)
            inside = list(layer.grids[zone].contains(xy[:, 0], xy[:, 1]))
        counts = Counter(str(f["properties"]["event_type"]) for f, hit in zip(features, inside, strict=True) if hit)
        return dict(sorted(counts.items()))


class StoreEventLister:
    """:class:`app.analysis.truces.EventLister` backed by the event store: events overlapping a period, by page."""

    def __init__(self, service: EventService) -> None:
        self.service = service

    def features(self, start: date, end: date) -> Iterator[dict[str, Any]]:
        """See :class:`app.analysis.truces.EventLister`."""
        return matching_features(self.service, None, start, end)
