"""Mapbox Vector Tile encoding of CRS84 geometries (mapbox-vector-tile, after a vectorised move into tile units).

Geometries are projected to EPSG:3857, scaled to tile units (y down, as MVT counts them) and clipped to the
tile grown by :data:`~app.tiles.grid.BUFFER` with numpy and shapely, so the encoder only writes integers:
its own per-vertex Python transform is the slow part of the library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

from app.tiles.grid import BUFFER, EXTENT, TileAddress, to_mercator

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
_OPTIONS = {"y_coord_down": True, "extents": EXTENT, "on_invalid_geometry": on_invalid_geometry_make_valid}


def to_tile_units(tile: TileAddress, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tile units (0..EXTENT from the top-left corner) of CRS84 coordinates.

    Examples
    --------
    >>> x, y = to_tile_units(TileAddress(0, 0, 0), np.array([0.0, -180.0]), np.array([0.0, 85.0511287798066]))
    >>> (x.round(3) + 0.0).tolist(), (y.round(3) + 0.0).tolist()
    ([2048.0, 0.0], [2048.0, 0.0])

    """
    left, _, _, top = tile.bounds
    mx, my = to_mercator(lon, lat)
    scale = EXTENT / tile.size
    return (mx - left) * scale, (top - my) * scale


def encode_layer(
    name: str, tile: TileAddress, geometries: Sequence[Any], properties: Sequence[Mapping[str, Any]]
) -> bytes:
    """One MVT layer ``name`` of CRS84 ``geometries`` and their ``properties``; b"" when nothing is in the tile.

    Property values that MVT cannot hold (None, lists, objects) are left out by the encoder.
    """
    local = shapely.transform(
        np.asarray(geometries, dtype=object), lambda xy: np.column_stack(to_tile_units(tile, xy[:, 0], xy[:, 1]))
    )
    clipped = shapely.clip_by_rect(local, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    features = [
        {"geometry": shape, "properties": props}
        for geom, props in zip(clipped, properties, strict=True)
        if (shape := _single_kind(geom)) is not None
    ]
    if not features:
        return b""
    return bytes(mapbox_vector_tile.encode([{"name": name, "features": features}], default_options=_OPTIONS))


def encode_points(
    name: str, tile: TileAddress, x: np.ndarray, y: np.ndarray, properties: Sequence[Mapping[str, Any]]
) -> bytes:
    """One MVT layer of points given in tile units (those beyond the buffer are left out); b"" for none."""
    inside = (x >= -BUFFER) & (x <= EXTENT + BUFFER) & (y >= -BUFFER) & (y <= EXTENT + BUFFER)
    points = shapely.points(np.round(x[inside]), np.round(y[inside]))
    kept = [props for props, keep in zip(properties, inside, strict=True) if keep]
    if not kept:
        return b""
    features = [{"geometry": p, "properties": props} for p, props in zip(points, kept, strict=True)]
    return bytes(mapbox_vector_tile.encode([{"name": name, "features": features}], default_options=_OPTIONS))


def _single_kind(geom: Any) -> Any:
    """The geometry as MVT can hold it (no collections: the parts of the highest dimension), None if empty."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type != "GeometryCollection":
        return geom
    parts = shapely.get_parts(geom)
    top = max(shapely.get_dimensions(parts))
    kept = [p for p in parts if shapely.get_dimensions(p) == top and not p.is_empty]
    return shapely.union_all(kept) if kept else None
