"""Per-zone summary of a layer: area, population estimate and reported events by type over a date range."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, runtime_checkable

import numpy as np

from app.analysis.dated import LayerInfos
from app.analysis.errors import InvalidInput, InvalidParameter
from app.analysis.population import PopulationRaster
from app.layerstore.zones import ZoneIndex, ZoneLayer


@runtime_checkable
class EventCounter(Protocol):
    """Counts reported events by type inside a zone; the event store backs it in the service."""

    def count_by_type(self, layer: ZoneLayer, zone: int, start: date | None, end: date | None) -> dict[str, int]:
        """Count events by ``event_type`` in zone number ``zone`` of ``layer`` and a period.

        Events in the zone by the zone index's rule (boundary included) whose dates overlap ``start``..``end``
        (inclusive; None is open).
        """
        ...


@dataclass(frozen=True)
class _Event:
    lon: float
    lat: float
    event_type: str
    date_start: date
    date_end: date


class InMemoryEventCounter:
    """An :class:`EventCounter` over GeoJSON Point features, for tests, the command line and small files.

    Features need ``event_type`` and ``date_start`` properties (``date_end`` is optional).

    Examples
    --------
    >>> from shapely import box
    >>> fc = {"type": "FeatureCollection", "features": [
    ...     {"type": "Feature", "geometry": {"type": "Point", "coordinates": [46.5, 39.5]},
    ...      "properties": {"event_type": "Battles", "date_start": "2020-10-01"}}]}
    >>> counter = InMemoryEventCounter.from_geojson(fc)
    >>> layer = ZoneIndex.from_polygons({"demo": [("a", box(46, 39, 47, 40))]}).layer("demo")
    >>> counter.count_by_type(layer, 0, date(2020, 9, 27), date(2020, 11, 10))
    {'Battles': 1}
    >>> counter.count_by_type(layer, 0, date(2020, 10, 2), None)
    {}

    """

    def __init__(self, events: Iterable[_Event]) -> None:
        self._events = list(events)
        self._x = np.array([e.lon for e in self._events], dtype=np.float64)
        self._y = np.array([e.lat for e in self._events], dtype=np.float64)

    @classmethod
    def from_geojson(cls, obj: Any) -> InMemoryEventCounter:
        """Build from a FeatureCollection; every problem names the feature."""
        features = obj.get("features") if isinstance(obj, dict) else None
        if not isinstance(features, list):
            raise InvalidInput("events must be a GeoJSON FeatureCollection")
        return cls(_event(f, i) for i, f in enumerate(features))

    def count_by_type(self, layer: ZoneLayer, zone: int, start: date | None, end: date | None) -> dict[str, int]:
        """See :class:`EventCounter`."""
        if not self._events:
            return {}
        inside = layer.grids[zone].contains(self._x, self._y)
        counts = Counter(
            e.event_type
            for e, hit in zip(self._events, inside, strict=True)
            if hit and (start is None or e.date_end >= start) and (end is None or e.date_start <= end)
        )
        return dict(sorted(counts.items()))


def _event(feature: Any, i: int) -> _Event:
    try:
        lon, lat = feature["geometry"]["coordinates"][:2]
        props = feature["properties"]
        begin = date.fromisoformat(props["date_start"])
        finish = date.fromisoformat(props["date_end"]) if props.get("date_end") else begin
        return _Event(float(lon), float(lat), str(props["event_type"]), begin, finish)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"event feature {i}: needs a Point, event_type and an ISO date_start ({exc})") from None


def check_period(start: date | None, end: date | None) -> None:
    """Raise :class:`InvalidParameter` when ``start`` is after ``end``.

    Examples
    --------
    >>> check_period(date(2020, 11, 10), date(2020, 9, 27))
    Traceback (most recent call last):
    ...
    app.analysis.errors.InvalidParameter: invalid value for 'start': 2020-11-10 is after end 2020-09-27

    """
    if start is not None and end is not None and start > end:
        raise InvalidParameter("start", f"{start} is after end {end}")


def zone_summary(
    index: ZoneIndex,
    layer_id: str,
    population: PopulationRaster | None = None,
    counter: EventCounter | None = None,
    start: date | None = None,
    end: date | None = None,
    day: date | None = None,
    infos: LayerInfos | None = None,
) -> dict[str, Any]:
    """Per zone of ``layer_id`` valid on ``day``: id, readable name, area (km2, EPSG:6933), population, events.

    Population is ``None`` without a raster and ``events`` is left out without a counter; ``notes`` says so.
    Events are counted between ``start`` and ``end`` inside the zone's area as it was on ``day``.
    """
    check_period(start, end)
    layer = index.layer(layer_id)
    info = (infos or LayerInfos()).get(layer.id)
    key = f"zones:{layer.id}:{index.versions.get(layer.id, id(layer))}"
    people = population.cached_sums(key, list(layer.geoms)) if population is not None else None
    zones = []
    valid = layer.valid_on(day)
    for z, zone in enumerate(layer.zones):
        if not valid[z]:
            continue
        row: dict[str, Any] = info.describe(z, zone) | {
            "area_km2": round(float(layer.area_km2[z]), 3),
            "population": None if people is None else round(float(people[z]), 1),
        }
        if counter is not None:
            counts = counter.count_by_type(layer, z, start, end)
            row["events"] = counts
            row["event_count"] = sum(counts.values())
        zones.append(row)
    notes = []
    if counter is None:
        notes.append("no event store is configured: event counts are omitted")
    return {
        "layer": layer.id,
        "title": layer.title,
        "period": {"start": start.isoformat() if start else None, "end": end.isoformat() if end else None},
        "zones": zones,
        "notes": notes,
    }
