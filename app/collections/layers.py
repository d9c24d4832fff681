"""The built zone layers as collections, served from the layer store's tables (nothing is read from files here).

Each table of a layer (full resolution and the display variants ``<id>_z6`` ...) gets a shapely STRtree for
``bbox`` queries and its features pre-converted to GeoJSON dicts; time filters use the store's validity rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
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
from app.errors import FeatureNotFound, InvalidParameter
from app.layerstore import LayerStore, LayerTable, StoredLayer
from app.layerstore.validity import COLUMNS as _DATE_COLUMNS
from app.layerstore.validity import Validity
from geodata.manifest import LayerEntry

_DTYPE_TYPES: dict[str, QueryableType] = {"int": "integer", "uint": "integer", "float": "number", "bool": "boolean"}


@dataclass(frozen=True)
class _Frame:
    """One table of a layer (full resolution or a display variant), indexed for queries."""

    data: GeoDataFrame
    tree: shapely.STRtree
    features: list[Feature]
    validity: Validity | None

    @classmethod
    def of(cls, table: LayerTable) -> _Frame:
        data = table.frame
        return cls(data, shapely.STRtree(data.geometry.values), _to_features(data), table.validity)


class LayerCollection:
    """A built layer served from memory (implements :class:`app.collections.base.Collection`)."""

    mutable = False  # a layer changes only with a new build (and a new data version)

    def __init__(self, meta: CollectionMeta, layer: StoredLayer) -> None:
        self.meta = meta
        self._layer = layer
        self._full = _Frame.of(layer.full)
        self._frames = {id(layer.full): self._full} | {id(t): _Frame.of(t) for t in layer.variants.values()}
        self._index = {f["id"]: i for i, f in enumerate(self._full.features)}
        self._queryables = _queryables(layer.full.frame)

    def queryables(self) -> dict[str, Queryable]:
        """Every attribute column, typed from its dtype, plus ``geometry``."""
        return dict(self._queryables)

    def version_now(self) -> str:
        """The layer's version: a built layer does not change while it is served."""
        return self.meta.version

    def items(self, query: ItemsQuery) -> FeaturePage:
        """One page of the features matching ``query`` (see :class:`~app.collections.base.Collection`)."""
        if query.cursor is not None:
            raise InvalidParameter("cursor", "this collection pages by offset (its next links carry offset)")
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
        """The frame of the store's table for ``zoom`` (see :meth:`app.layerstore.StoredLayer.table`)."""
        return self._frames[id(self._layer.table(zoom))]


def layer_collections(store: LayerStore) -> list[LayerCollection]:
    """Every layer of the store as a collection, in manifest order."""
    return [LayerCollection(_meta(store, layer.entry), layer) for layer in store]


def _meta(store: LayerStore, entry: LayerEntry) -> CollectionMeta:
    temporal_extent = None
    if entry.valid_from or entry.valid_to:
        temporal_extent = TimeInterval(
            temporal.start_of(entry.valid_from) if entry.valid_from else None,
            temporal.start_of(entry.valid_to) if entry.valid_to else None,  # validity is half-open
        )
    files = {fmt: store.layers_dir / name for fmt, name in entry.files.items()}
    return CollectionMeta(
        id=entry.id,
        title=entry.title,
        description=entry.description,
        version=entry.version,
        bbox=entry.bbox,
        geometry_type=entry.geometry_type,
        licence=Licence(entry.licence.name, entry.licence.url),
        attribution=entry.attribution,
        keywords=entry.keywords,
        temporal=temporal_extent,
        downloads={fmt: path for fmt, path in files.items() if path.is_file()},
        style=dict(entry.style),
        zooms=tuple(sorted(entry.variants)),
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
    if frame.validity is None:
        return np.ones(len(frame.data), dtype=bool)
    return frame.validity.overlaps(interval.start, interval.end)


def _equals_mask(frame: GeoDataFrame, name: str, value: Any) -> np.ndarray:
    if name not in frame.columns:
        raise InvalidParameter(name, "not a property of this collection")
    return frame[name].eq(value).fillna(False).to_numpy(dtype=bool)


def iter_frames(collection: LayerCollection) -> Iterator[GeoDataFrame]:
    """The full-resolution frame and every display variant (for checks and benchmarks)."""
    for frame in collection._frames.values():
        yield frame.data
