"""The built zone layers as collections: read once from the GeoPackages, then served from memory.

Each layer keeps its full-resolution GeoDataFrame and its display variants (``<id>_z6`` ...), each with a
shapely STRtree for ``bbox`` queries and the features pre-converted to GeoJSON dicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from geopandas import GeoDataFrame

from app.collections import frame_filter, temporal
from app.collections.base import (
    CollectionMeta,
    Feature,
    FeaturePage,
    ItemsQuery,
    Licence,
    Queryable,
    QueryableType,
    TimeInterval,
)
from app.errors import FeatureNotFound, InvalidParameter, StoreUnavailable

_DTYPE_TYPES: dict[str, QueryableType] = {"int": "integer", "uint": "integer", "float": "number", "bool": "boolean"}
_DATE_COLUMNS = ("valid_from", "valid_to")


@dataclass(frozen=True)
class _Frame:
    """One table of a layer (full resolution or a display variant), indexed for queries."""

    data: GeoDataFrame
    tree: shapely.STRtree
    features: list[Feature]
    valid_from: pd.Series | None
    valid_to: pd.Series | None

    @classmethod
    def of(cls, data: GeoDataFrame) -> _Frame:
        data = data.reset_index(drop=True)
        has_validity = any(c in data.columns for c in _DATE_COLUMNS)
        return (
            cls(
                data=data,
                tree=shapely.STRtree(data.geometry.values),
                features=_to_features(data),
                valid_from=temporal.column_bounds(data["valid_from"], end=False) if "valid_from" in data else None,
                valid_to=temporal.validity_ends(data["valid_to"]) if "valid_to" in data else None,
            )
            if has_validity
            else cls(data, shapely.STRtree(data.geometry.values), _to_features(data), None, None)
        )


class LayerCollection:
    """A built layer served from memory (implements :class:`app.collections.base.Collection`)."""

    def __init__(self, meta: CollectionMeta, full: GeoDataFrame, variants: Mapping[int, GeoDataFrame]) -> None:
        self.meta = meta
        self._full = _Frame.of(full)
        self._variants = {zoom: _Frame.of(frame) for zoom, frame in sorted(variants.items())}
        self._index = {f["id"]: i for i, f in enumerate(self._full.features)}
        self._queryables = _queryables(full)

    def queryables(self) -> dict[str, Queryable]:
        """Every attribute column, typed from its dtype, plus ``geometry``."""
        return dict(self._queryables)

    def items(self, query: ItemsQuery) -> FeaturePage:
        """One page of the features matching ``query`` (see :class:`~app.collections.base.Collection`)."""
        frame = self._frame_for(query.zoom)
        mask = np.ones(len(frame.data), dtype=bool)
        if query.bbox is not None:
            mask &= _bbox_mask(frame, query.bbox)
        if query.datetime is not None:
            mask &= _time_mask(frame, query.datetime)
        for name, value in query.properties.items():
            mask &= _equals_mask(frame.data, name, value)
        if query.cql is not None:
            mask &= frame_filter.evaluate(frame.data, query.cql, self._queryables)
        rows = np.flatnonzero(mask)
        page = rows[query.offset : query.offset + query.limit]
        return FeaturePage([frame.features[i] for i in page], int(len(rows)))

    def item(self, feature_id: str) -> Feature:
        """The full-resolution feature with this id."""
        try:
            return self._full.features[self._index[feature_id]]
        except KeyError:
            raise FeatureNotFound(self.meta.id, feature_id) from None

    def _frame_for(self, zoom: int | None) -> _Frame:
        """The coarsest variant that is still detailed enough for ``zoom``; full resolution above the highest."""
        if zoom is None:
            return self._full
        for variant_zoom, frame in self._variants.items():
            if zoom <= variant_zoom:
                return frame
        return self._full


def load_layer_collections(data_dir: Path) -> list[LayerCollection]:
    """Every layer of ``<data_dir>/layers/manifest.json``, read into memory; raises :class:`StoreUnavailable`."""
    from geodata.build import LAYERS_FOLDER, read_manifest

    try:
        manifest = read_manifest(data_dir)
    except (OSError, ValueError) as exc:
        raise StoreUnavailable(f"cannot read the layer manifest in {data_dir}: {exc}") from exc
    folder = data_dir / LAYERS_FOLDER
    return [_load_layer(folder, entry) for entry in manifest["layers"].values()]


def _load_layer(folder: Path, entry: Mapping[str, Any]) -> LayerCollection:
    gpkg = folder / entry["files"]["gpkg"]
    try:
        full = pyogrio.read_dataframe(gpkg, layer=entry["id"])
        variants = {int(z): pyogrio.read_dataframe(gpkg, layer=v["layer"]) for z, v in entry["variants"].items()}
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise StoreUnavailable(f"cannot read layer {entry['id']!r} from {gpkg}: {exc}") from exc
    return LayerCollection(_meta(folder, entry), full, variants)


def _meta(folder: Path, entry: Mapping[str, Any]) -> CollectionMeta:
    valid_from, valid_to = entry.get("valid_from"), entry.get("valid_to")
    temporal_extent = None
    if valid_from or valid_to:
        temporal_extent = TimeInterval(
            temporal.start_of(date.fromisoformat(valid_from)) if valid_from else None,
            temporal.start_of(date.fromisoformat(valid_to)) if valid_to else None,  # validity is half-open
        )
    west, south, east, north = (float(v) for v in entry["bbox"])
    return CollectionMeta(
        id=entry["id"],
        title=entry["title"],
        description=entry.get("description", ""),
        version=entry["version"],
        bbox=(west, south, east, north),
        geometry_type=entry["geometry_type"],
        licence=Licence(entry["licence"]["name"], entry["licence"].get("url")),
        attribution=entry.get("attribution", ""),
        keywords=tuple(entry.get("keywords", ())),
        temporal=temporal_extent,
        downloads={fmt: folder / name for fmt, name in entry.get("files", {}).items() if (folder / name).is_file()},
        style=dict(entry.get("style", {})),
        zooms=tuple(sorted(int(z) for z in entry.get("variants", {}))),
    )


def _queryables(frame: GeoDataFrame) -> dict[str, Queryable]:
    found: dict[str, Queryable] = {}
    for name, dtype in frame.dtypes.items():
        if name == frame.geometry.name:
            continue
        kind: QueryableType = next((t for p, t in _DTYPE_TYPES.items() if str(dtype).startswith(p)), "string")
        fmt = "date" if name in _DATE_COLUMNS else None
        found[str(name)] = Queryable(str(name), kind, title=str(name).replace("_", " "), format=fmt)
    found["geometry"] = Queryable("geometry", "geometry", title="geometry")
    return found


def _to_features(frame: GeoDataFrame) -> list[Feature]:
    columns = [c for c in frame.columns if c != frame.geometry.name]
    records = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    geometries = shapely.to_geojson(frame.geometry.values)
    return [
        {"type": "Feature", "id": str(props["id"]), "geometry": _geojson(geom), "properties": _clean(props)}
        for props, geom in zip(records, geometries, strict=True)
    ]


def _geojson(text: str | None) -> dict[str, Any] | None:
    import orjson

    return orjson.loads(text) if text else None


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in props.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _bbox_mask(frame: _Frame, bbox: tuple[float, float, float, float]) -> np.ndarray:
    mask = np.zeros(len(frame.data), dtype=bool)
    mask[frame.tree.query(shapely.box(*bbox), predicate="intersects")] = True
    return mask


def _time_mask(frame: _Frame, interval: TimeInterval) -> np.ndarray:
    """Features whose validity intersects ``interval``; a feature without validity matches every interval."""
    start = temporal.bound(interval.start, end=False)
    end = temporal.bound(interval.end, end=True)
    mask = np.ones(len(frame.data), dtype=bool)
    if frame.valid_from is not None:
        mask &= (frame.valid_from <= end).to_numpy()
    if frame.valid_to is not None:
        mask &= (frame.valid_to >= start).to_numpy()
    return mask


def _equals_mask(frame: GeoDataFrame, name: str, value: Any) -> np.ndarray:
    if name not in frame.columns:
        raise InvalidParameter(name, "not a property of this collection")
    return frame[name].eq(value).fillna(False).to_numpy(dtype=bool)


def iter_frames(collection: LayerCollection) -> Iterator[GeoDataFrame]:
    """The full-resolution frame and every display variant (for checks and benchmarks)."""
    yield collection._full.data
    for frame in collection._variants.values():
        yield frame.data
