"""Coordinate reference systems offered by the API (OGC API - Features Part 2).

Data are stored in CRS84 (longitude, latitude). ``EPSG:4326`` is served in its authority axis order,
latitude first, as Part 2 requires; pyproj follows the authority order, so no swapping is written here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from app.errors import InvalidParameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
#: Every CRS offered, by URI, with the pyproj definition.
SUPPORTED: dict[str, str] = {CRS84: "OGC:CRS84", EPSG4326: "EPSG:4326", EPSG3857: "EPSG:3857"}
_ALIASES = {
    "[OGC:CRS84]": CRS84,
    "OGC:CRS84": CRS84,
    "CRS84": CRS84,
    "[EPSG:4326]": EPSG4326,
    "EPSG:4326": EPSG4326,
    "[EPSG:3857]": EPSG3857,
    "EPSG:3857": EPSG3857,
    "http://www.opengis.net/def/crs/EPSG/0/900913": EPSG3857,
}


def parse_crs(value: str | None, parameter: str) -> str:
    """The canonical URI of a supported CRS (``None`` means CRS84); raises :class:`InvalidParameter`.

    Examples
    --------
    >>> parse_crs("EPSG:4326", "crs")
    'http://www.opengis.net/def/crs/EPSG/0/4326'

    """
    if value is None or value == "":
        return CRS84
    uri = value.strip().replace("https://", "http://")
    uri = _ALIASES.get(uri, uri)
    if uri not in SUPPORTED:
        raise InvalidParameter(parameter, f"unsupported CRS {value!r}; supported: {', '.join(SUPPORTED)}")
    return uri


@cache
def _transformer(source: str, target: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(SUPPORTED[source]), CRS.from_user_input(SUPPORTED[target]))


def bbox_to_crs84(bbox: tuple[float, float, float, float], crs: str) -> tuple[float, float, float, float]:
    """A bounding box given in ``crs`` (axis order of that CRS) as CRS84 ``(west, south, east, north)``."""
    if crs == CRS84:
        return bbox
    west, south, east, north = _transformer(crs, CRS84).transform_bounds(*bbox, densify_pts=21)
    if not all(np.isfinite([west, south, east, north])):
        raise InvalidParameter("bbox", f"the box {list(bbox)} lies outside the area of {crs}")
    return west, south, east, north


def bbox_from_crs84(bbox: tuple[float, float, float, float], crs: str) -> list[float]:
    """A CRS84 bounding box expressed in ``crs`` (in its axis order)."""
    if crs == CRS84:
        return list(bbox)
    return [float(v) for v in _transformer(CRS84, crs).transform_bounds(*bbox, densify_pts=21)]


def reproject_features(features: list[dict[str, Any]], crs: str) -> list[dict[str, Any]]:
    """New feature dicts with geometries transformed from CRS84 into ``crs`` (the inputs are left untouched)."""
    if crs == CRS84 or not features:
        return features
    transformer = _transformer(CRS84, crs)

    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    shapes = shapely.from_geojson([_dumps(f["geometry"]) for f in features])
    out = []
    for feature, geom in zip(features, shapes, strict=True):
        moved = shapely.transform(geom, transform) if geom is not None else None
        out.append({**feature, "geometry": _loads(shapely.to_geojson(moved)) if moved is not None else None})
    return out


def _dumps(geometry: Any) -> str:
    import orjson

    return orjson.dumps(geometry).decode() if geometry is not None else "null"


def _loads(text: str) -> Any:
    import orjson

    return orjson.loads(text)
