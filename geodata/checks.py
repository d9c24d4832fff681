"""Build checks. Each raises :class:`BuildCheckFailed` with a message that names the layer and feature."""

from __future__ import annotations

import itertools

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geodata.crs import EQUAL_AREA_CRS, METRIC_CRS
from geodata.errors import BuildCheckFailed
from geodata.transforms import M2_PER_KM2, max_excursion_m


def check_valid(layer_id: str, layer: gpd.GeoDataFrame) -> None:
    """Every geometry is present, non-empty and valid."""
    for fid, geom in zip(layer["id"], layer.geometry, strict=True):
        if geom is None or geom.is_empty:
            raise BuildCheckFailed(f"layer {layer_id!r}, feature {fid!r}: empty geometry")
        if not geom.is_valid:
            raise BuildCheckFailed(
                f"layer {layer_id!r}, feature {fid!r}: invalid geometry ({shapely.is_valid_reason(geom)})"
            )


def check_no_overlap(layer_id: str, zones: gpd.GeoDataFrame, others: gpd.GeoDataFrame, max_km2: float) -> None:
    """No two zones of ``zones``, nor a zone and a feature of ``others``, share more than ``max_km2``."""
    ea = zones.to_crs(EQUAL_AREA_CRS)
    pairs = list(itertools.combinations(zip(ea["id"], ea.geometry, strict=True), 2))
    other = others.to_crs(EQUAL_AREA_CRS)
    pairs += [
        (a, b) for a in zip(ea["id"], ea.geometry, strict=True) for b in zip(other["id"], other.geometry, strict=True)
    ]
    for (id_a, a), (id_b, b) in pairs:
        shared = a.intersection(b).area / M2_PER_KM2
        if shared > max_km2:
            raise BuildCheckFailed(
                f"layer {layer_id!r}: {id_a!r} and {id_b!r} overlap by {shared:.3f} km2 (limit {max_km2} km2)"
            )


def check_within_border(
    layer_id: str, zones: gpd.GeoDataFrame, foreign: BaseGeometry, border: gpd.GeoSeries, max_m: float
) -> None:
    """No zone reaches more than ``max_m`` metres into ``foreign`` (a polygon in CRS84) past ``border``."""
    metric = zones.to_crs(METRIC_CRS)
    foreign_m = gpd.GeoSeries([foreign], crs=zones.crs).to_crs(METRIC_CRS).iloc[0]
    border_m = shapely.union_all(border.to_crs(METRIC_CRS).to_numpy())
    for fid, geom in zip(metric["id"], metric.geometry, strict=True):
        reach = max_excursion_m(geom, foreign_m, border_m)
        if reach > max_m:
            raise BuildCheckFailed(
                f"layer {layer_id!r}, feature {fid!r}: extends {reach:.0f} m past the border (limit {max_m} m)"
            )


def check_nested(layer_id: str, bands: gpd.GeoDataFrame, tolerance_km2: float = 0.01) -> None:
    """Within each side, every band contains the narrower ones (up to ``tolerance_km2`` of numeric noise)."""
    ea = bands.to_crs(EQUAL_AREA_CRS)
    for _side, group in ea.groupby("side"):
        ordered = group.sort_values("width_km")
        for (_, narrow), (_, wide) in itertools.pairwise(ordered.iterrows()):
            outside = narrow.geometry.difference(wide.geometry).area / M2_PER_KM2
            if outside > tolerance_km2:
                raise BuildCheckFailed(
                    f"layer {layer_id!r}: band {narrow['id']!r} sticks {outside:.3f} km2 out of {wide['id']!r}"
                )
