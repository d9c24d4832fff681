"""Where the static map and the alt text read zones and events from: two small interfaces and their implementations."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box, shape

from app.layerstore import LayerStore, ZoneIndex
from app.webmap.errors import MapNotConfiguredError

BBox = tuple[float, float, float, float]


class ZoneSource(Protocol):
    """Zone layers by id, as GeoDataFrames in EPSG:4326, and the zone index that counts points in them."""

    index: ZoneIndex

    def zones(self, layer_id: str, *, as_of: date | None = None) -> gpd.GeoDataFrame:
        """Features of ``layer_id`` (those valid on ``as_of`` for dated layers)."""
        ...


class EventSource(Protocol):
    """Reported events as point GeoDataFrames in EPSG:4326 with the events collection's properties."""

    def events(self, *, bbox: BBox | None, start: date, end: date) -> gpd.GeoDataFrame:
        """Events inside ``bbox`` whose date range overlaps ``start``-``end``."""
        ...


@dataclass(frozen=True)
class ViewFilter:
    """The events a view shows: inside ``bbox`` (CRS84), overlapping ``start``-``end``, of these types and states."""

    bbox: BBox
    start: date
    end: date
    event_types: tuple[str, ...] = ()
    verification: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventDensity:
    """A view's events counted where they are stored: per square cell, per stored zone label, and those not drawn.

    ``x``, ``y`` are the Web Mercator centres of the cells holding drawn events and ``counts`` their events;
    ``zones`` counts drawn events per stored ``'<layer>:<zone>'`` label; ``unmapped`` the events located only to
    the country or in waters/airspace.
    """

    x: np.ndarray
    y: np.ndarray
    counts: np.ndarray
    unmapped: int
    zones: dict[str, int]

    @property
    def drawn(self) -> int:
        """How many events the cells hold."""
        return int(self.counts.sum())


@runtime_checkable
class CountedEvents(Protocol):
    """An event source that counts a view's events where they are stored, above ``max_markers`` of them."""

    max_markers: int

    def density(self, where: ViewFilter, cell: float, unmapped_from: int) -> EventDensity | None:
        """The view's events counted per cell of ``cell`` metres, or None when they are few enough to read."""
        ...


@dataclass(frozen=True)
class MapData:
    """The two sources the static map needs (set on ``app.state.map_data``)."""

    zones: ZoneSource
    events: EventSource


class StoreZones:
    """Zone layers from the layer store (read once at start-up), filtered by the store's validity rule."""

    def __init__(self, store: LayerStore) -> None:
        self.store = store
        self.index = store.zones

    def zones(self, layer_id: str, *, as_of: date | None = None) -> gpd.GeoDataFrame:
        """Features of ``layer_id``; a dated layer keeps the features valid on ``as_of``."""
        if layer_id not in self.store:
            raise MapNotConfiguredError(f"layer {layer_id!r} is not in the manifest")
        return self.store.frame(layer_id, as_of=as_of)


class GeoJSONEvents:
    """Events held in memory from a GeoJSON FeatureCollection (a file, or features from the API)."""

    def __init__(self, features: Sequence[Mapping[str, Any]]) -> None:
        points = [f for f in features if (f.get("geometry") or {}).get("type") == "Point"]
        rows = [dict(f.get("properties") or {}) for f in points]
        frame = gpd.GeoDataFrame(rows, geometry=[shape(f["geometry"]) for f in points], crs=4326)
        if len(frame):
            frame["date_start"] = frame.get("date_start", pd.Series(dtype=str)).astype(str)
            end = frame["date_end"] if "date_end" in frame else frame["date_start"]
            frame["date_end"] = end.where(end.notna() & (end.astype(str) != "None"), frame["date_start"]).astype(str)
        self.frame = frame

    @classmethod
    def from_file(cls, path: Path) -> GeoJSONEvents:
        """Read a GeoJSON FeatureCollection of events."""
        body = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(body.get("features", []))

    def events(self, *, bbox: BBox | None, start: date, end: date) -> gpd.GeoDataFrame:
        """Events inside ``bbox`` whose ``date_start``-``date_end`` overlaps ``start``-``end``."""
        frame = self.frame
        if not len(frame):
            return frame
        keep = (frame["date_start"] <= end.isoformat()) & (frame["date_end"] >= start.isoformat())
        if bbox is not None:
            keep &= frame.intersects(box(*bbox))
        return frame[keep]
