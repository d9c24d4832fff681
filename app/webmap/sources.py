"""Where the static map and the alt text read zones and events from: two small interfaces and their implementations."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd
from shapely.geometry import box, shape

from app.webmap.errors import MapNotConfiguredError

BBox = tuple[float, float, float, float]


class ZoneSource(Protocol):
    """Zone layers by id, as GeoDataFrames in EPSG:4326."""

    def zones(self, layer_id: str, *, as_of: date | None = None) -> gpd.GeoDataFrame:
        """Features of ``layer_id`` (those valid on ``as_of`` for dated layers)."""
        ...


class EventSource(Protocol):
    """Reported events as point GeoDataFrames in EPSG:4326 with the events collection's properties."""

    def events(self, *, bbox: BBox | None, start: date, end: date) -> gpd.GeoDataFrame:
        """Events inside ``bbox`` whose date range overlaps ``start``-``end``."""
        ...


@dataclass(frozen=True)
class MapData:
    """The two sources the static map needs (set on ``app.state.map_data``)."""

    zones: ZoneSource
    events: EventSource


class BuiltLayers:
    """Zone layers read from a built data folder (``<data_dir>/layers/<id>.gpkg``), each read once."""

    def __init__(self, data_dir: Path, manifest: Mapping) -> None:
        self.layers_dir = Path(data_dir) / "layers"
        self.manifest = manifest
        self._cache: dict[str, gpd.GeoDataFrame] = {}
        self._lock = Lock()

    def zones(self, layer_id: str, *, as_of: date | None = None) -> gpd.GeoDataFrame:
        """Features of ``layer_id``; a dated layer keeps the features valid on ``as_of``."""
        frame = self._read(layer_id)
        if as_of is None or "valid_from" not in frame.columns:
            return frame
        day = as_of.isoformat()
        starts = frame["valid_from"].fillna("0000-00-00").astype(str)
        ends = frame.get("valid_to", pd.Series([None] * len(frame), index=frame.index)).fillna("9999-99-99").astype(str)
        return frame[(starts <= day) & (ends > day)]  # validity is half-open: [valid_from, valid_to)

    def _read(self, layer_id: str) -> gpd.GeoDataFrame:
        meta = self.manifest.get("layers", {}).get(layer_id)
        if meta is None:
            raise MapNotConfiguredError(f"layer {layer_id!r} is not in the manifest")
        with self._lock:
            if layer_id not in self._cache:
                path = self.layers_dir / meta["files"]["gpkg"]
                if not path.exists():
                    raise MapNotConfiguredError(f"built layer file {path} is missing")
                self._cache[layer_id] = gpd.read_file(path, layer=layer_id).to_crs(4326)
            return self._cache[layer_id]


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
