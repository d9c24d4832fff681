"""Display variants: simplified copies of layers for web zoom levels.

Layers that tile together (the oblast and the seven districts) are simplified as one coverage, so a border
two zones share stays one line at every zoom, with no gaps or slivers between neighbours.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import polygonize, unary_union

from geodata.crs import METRIC_CRS, STORAGE_CRS


def simplify_layer(layer: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify each geometry on its own (topology kept within a geometry), in metres."""
    metric = layer.to_crs(METRIC_CRS)
    metric["geometry"] = shapely.simplify(metric.geometry.to_numpy(), tolerance_m, preserve_topology=True)
    return metric.to_crs(STORAGE_CRS)


def simplify_coverage(layers: Mapping[str, gpd.GeoDataFrame], tolerance_m: float) -> dict[str, gpd.GeoDataFrame]:
    """Simplify polygon layers that tile together as one coverage; return the same layers, simplified.

    The polygons are first noded into a clean coverage (every shared edge has the same vertices on both
    sides), then ``shapely.coverage_simplify`` simplifies each shared edge once.
    """
    names, geoms = [], []
    for name, layer in layers.items():
        for i, geom in enumerate(layer.to_crs(METRIC_CRS).geometry):
            names.append((name, i))
            geoms.append(geom)
    noded = _noded_coverage(geoms)
    simplified = shapely.coverage_simplify(np.array(noded, dtype=object), tolerance_m)
    out = {name: layer.to_crs(METRIC_CRS).copy() for name, layer in layers.items()}
    for (name, i), geom in zip(names, simplified, strict=True):
        out[name].iloc[i, out[name].columns.get_loc("geometry")] = shapely.make_valid(geom)
    return {name: _valid_in_storage_crs(layer) for name, layer in out.items()}


def _valid_in_storage_crs(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to the storage CRS; repair what reprojection made invalid (a vertex rounded across an edge)."""
    stored = layer.to_crs(STORAGE_CRS)
    invalid = ~stored.is_valid
    if invalid.any():
        repaired = [_polygonal(shapely.make_valid(g)) for g in stored.geometry[invalid]]
        stored.loc[invalid, "geometry"] = gpd.GeoSeries(repaired, index=stored.index[invalid], crs=STORAGE_CRS)
    return stored


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    return shapely.union_all([p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")])


def _noded_coverage(geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Rebuild polygons from the union of all their boundaries so neighbours share identical vertices."""
    faces = list(polygonize(unary_union([g.boundary for g in geoms])))
    tree = shapely.STRtree(geoms)
    owned: list[list[shapely.Geometry]] = [[] for _ in geoms]
    for face in faces:
        inside = tree.query(face.point_on_surface(), predicate="within")
        if len(inside):
            owned[int(min(inside))].append(face)
    return [shapely.union_all(parts) if parts else g for parts, g in zip(owned, geoms, strict=True)]
