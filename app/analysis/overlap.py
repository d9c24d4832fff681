"""Overlap of input areas with the zones: km2 in EPSG:6933, shares both ways, and estimated population.

On a ``day``, only the zones of dated layers valid that day count, so an area is not counted twice (once in
the state before a capture and once after). ``area_margin_km2`` is the length of the zone's edge inside the
input area times the layer's positional accuracy: how much the area may be off because the edge is coarse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from app.analysis.dated import LayerInfo, LayerInfos
from app.analysis.errors import InvalidGeometry, InvalidInput
from app.analysis.inputs import Features
from app.analysis.population import PopulationRaster
from app.layerstore.zones import ZoneIndex, ZoneLayer, to_equal_area, to_metric

ProgressCallback = Callable[[int], None]
_POLYGONAL = frozenset({"Polygon", "MultiPolygon"})


@dataclass
class OverlapResult:
    """Per input feature its area; per (feature, zone) pair with a non-empty intersection, one row."""

    inputs: list[dict[str, Any]]
    overlaps: list[dict[str, Any]]
    pieces: list[BaseGeometry]
    notes: list[str] = field(default_factory=list)

    def as_dict(self, include_pieces: bool = False) -> dict[str, Any]:
        """JSON-ready: ``inputs``, ``overlaps``, ``notes`` and, when asked, ``pieces`` as a FeatureCollection."""
        out: dict[str, Any] = {"inputs": self.inputs, "overlaps": self.overlaps, "notes": self.notes}
        if include_pieces:
            out["pieces"] = {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": shapely.geometry.mapping(piece), "properties": row}
                    for row, piece in zip(self.overlaps, self.pieces, strict=True)
                ],
            }
        return out


def polygonal(features: Features) -> Features:
    """Keep the polygonal parts of each geometry (after ``make_valid`` a polygon may gain lines or points).

    Raises :class:`InvalidInput` for a feature with no area at all (points and lines belong to classify).
    """
    geoms = features.geoms.copy()
    for i, geom in enumerate(geoms):
        if geom.geom_type in _POLYGONAL:
            continue
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
        if not parts:
            raise InvalidInput(
                f"feature {features.ids[i]!r}: overlap needs Polygon or MultiPolygon geometries, got "
                f"{geom.geom_type}; classify points with POST /analysis/classify"
            )
        geoms[i] = shapely.union_all(parts)
    return Features(features.ids, features.properties, geoms)


def overlap(
    index: ZoneIndex,
    features: Features,
    layers: list[str] | None = None,
    population: PopulationRaster | None = None,
    on_progress: ProgressCallback | None = None,
    day: date | None = None,
    infos: LayerInfos | None = None,
) -> OverlapResult:
    """Intersect each input polygon with each zone of the chosen layers (valid on ``day``).

    Parameters
    ----------
    index
        The zones.
    features
        Polygons in CRS84 (see :func:`app.analysis.inputs.read_features`).
    layers
        Zone layer ids (None: all).
    population
        Raster for population estimates (None: population omitted, with a note).
    on_progress
        Called with 1 after each input feature.
    day
        Only zones of dated layers valid on this day (None: every zone).
    infos
        Readable zone names and layer accuracies (None: zone names as stored, no margins).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from app.layerstore.zones import ZoneLayer
    >>> frame = gpd.GeoDataFrame({"id": ["z"]}, geometry=[box(46, 39, 47, 40)], crs="EPSG:4326")
    >>> index = ZoneIndex({"demo": ZoneLayer.from_frame("demo", "Demo", frame)})
    >>> result = overlap(index, Features(["a"], [{}], np.array([box(46.5, 39, 47.5, 40)])))
    >>> row = result.overlaps[0]
    >>> row["zone_id"], round(row["share_of_input"], 3), round(row["share_of_zone"], 3)
    ('z', 0.5, 0.5)

    """
    selected = index.select(layers)
    features = polygonal(features)
    input_ea = to_equal_area(features.geoms)
    input_km2 = shapely.area(input_ea) / 1e6
    result = OverlapResult([], [], [])
    infos = infos or LayerInfos()
    valid = {layer.id: layer.valid_on(day) for layer in selected}
    input_population = population.sums(list(features.geoms)) if population is not None else None
    for i, geom in enumerate(features.geoms):
        result.inputs.append(
            {
                "id": features.ids[i],
                "area_km2": round(float(input_km2[i]), 6),
                "population": None if input_population is None else round(float(input_population[i]), 1),
            }
        )
        for layer in selected:
            zones = _Zones(layer, valid[layer.id], infos.get(layer.id))
            _overlap_one(result, features.ids[i], geom, float(input_km2[i]), zones, population)
        if on_progress is not None:
            on_progress(1)
    return result


@dataclass
class _Zones:
    """A layer, the mask of its zones valid on the day, and how to name them."""

    layer: ZoneLayer
    valid: np.ndarray
    info: LayerInfo


def _overlap_one(
    result: OverlapResult,
    feature_id: Any,
    geom: BaseGeometry,
    input_km2: float,
    zones: _Zones,
    population: PopulationRaster | None,
) -> None:
    layer = zones.layer
    candidates = layer.tree.query(geom, predicate="intersects")
    candidates = candidates[zones.valid[candidates]]
    if not candidates.size:
        return
    try:
        pieces = shapely.intersection(geom, layer.geoms[candidates])
    except shapely.errors.GEOSException as exc:
        raise InvalidGeometry(repr(feature_id), str(exc)) from None
    pieces = np.array([_polygonal_part(p) for p in pieces], dtype=object)
    km2 = shapely.area(to_equal_area(pieces)) / 1e6
    keep = km2 > 0
    people = population.sums(list(pieces[keep])) if population is not None else None
    margins = _area_margins(geom, layer, candidates[keep], zones.info.accuracy_m)
    for n, (z, piece, area) in enumerate(zip(candidates[keep], pieces[keep], km2[keep], strict=True)):
        zone = layer.zones[int(z)]
        described = zones.info.describe(int(z), zone)
        result.overlaps.append(
            {
                "feature": feature_id,
                "layer": layer.id,
                "zone_id": zone.id,
                "zone_name": described["name"],
                **{k: described[k] for k in ("controlled_by", "since", "until") if k in described},
                "area_km2": round(float(area), 6),
                "area_margin_km2": round(float(margins[n]), 3),
                "share_of_input": float(area / input_km2) if input_km2 > 0 else None,
                "share_of_zone": float(area / layer.area_km2[z]) if layer.area_km2[z] > 0 else None,
                "population": None if people is None else round(float(people[n]), 1),
            }
        )
        result.pieces.append(piece)


def _area_margins(geom: BaseGeometry, layer: ZoneLayer, zones: np.ndarray, accuracy_m: float) -> np.ndarray:
    """Per zone: length (km) of its edge inside ``geom`` times the layer's accuracy (km): km2 that may be off."""
    if accuracy_m <= 0 or not zones.size:
        return np.zeros(zones.size)
    inner = shapely.intersection(layer.boundaries_metric[zones], to_metric(geom))
    return shapely.length(inner) / 1000.0 * accuracy_m / 1000.0


def _polygonal_part(geom: BaseGeometry) -> BaseGeometry:
    """Intersections of polygons may carry shared edges or corners: keep the area."""
    if geom.geom_type in _POLYGONAL or geom.is_empty:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()
