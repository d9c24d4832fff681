"""Pure geometry steps of the pipeline. Each takes and returns shapely geometries or GeoDataFrames.

No I/O here: the build module reads sources and writes layers; these functions only compute, so each is
tested on small fixtures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polygonize, unary_union

from geodata.crs import EQUAL_AREA_CRS, METRIC_CRS, STORAGE_CRS
from geodata.errors import BuildCheckFailed

M2_PER_KM2 = 1_000_000.0
#: Longest edge, in metres, of a polygon computed in a projected CRS before it is stored in degrees.
DENSIFY_M = 250.0


def area_km2(geoms: gpd.GeoSeries) -> pd.Series:
    """Area of each geometry in km2, computed in an equal-area CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> square = gpd.GeoSeries([shapely.box(0, 0, 1000, 1000)], crs="EPSG:6933")
    >>> round(float(area_km2(square.to_crs("EPSG:4326")).iloc[0]), 6)
    1.0

    """
    return geoms.to_crs(EQUAL_AREA_CRS).area / M2_PER_KM2


def length_km(geoms: gpd.GeoSeries) -> pd.Series:
    """Geodesic length of each line in km (on the WGS 84 ellipsoid)."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    return pd.Series([geod.geometry_length(g) / 1000.0 for g in geoms.to_crs(STORAGE_CRS)], index=geoms.index)


def _line_parts(geoms: Iterable[BaseGeometry]) -> list[LineString]:
    parts: list[LineString] = []
    for g in geoms:
        if isinstance(g, MultiLineString):
            parts.extend(g.geoms)
        elif isinstance(g, LineString):
            parts.append(g)
        else:
            raise ValueError(f"expected line geometries, got {g.geom_type}")
    return parts


def close_lines_into_polygon(lines: Sequence[BaseGeometry], snap_tolerance: float) -> Polygon:
    """Close line pieces whose end points miss each other into one polygon.

    End points closer than ``snap_tolerance`` (in the lines' units) are merged at their mean position, then
    the pieces are polygonised; the largest face is returned. Raises ``ValueError`` when the pieces still do
    not close, naming the loose ends.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> pieces = [LineString([(0, 0), (10, 0), (10, 10)]), LineString([(10.2, 10), (0, 10), (0, 0.3)])]
    >>> round(close_lines_into_polygon(pieces, snap_tolerance=0.5).area, 1)
    99.8

    """
    parts = _line_parts(lines)
    ends = np.array([c for p in parts for c in (p.coords[0], p.coords[-1])])[:, :2]
    cluster = _cluster_points(ends, snap_tolerance)
    centres = {c: ends[cluster == c].mean(axis=0) for c in np.unique(cluster)}
    snapped = []
    for i, part in enumerate(parts):
        coords = np.asarray(part.coords)[:, :2].copy()
        coords[0] = centres[cluster[2 * i]]
        coords[-1] = centres[cluster[2 * i + 1]]
        snapped.append(LineString(coords))
    loose = [tuple(ends[i]) for i in range(len(ends)) if np.count_nonzero(cluster == cluster[i]) < 2]
    if loose:
        raise ValueError(f"{len(loose)} line ends have no partner within {snap_tolerance}: {loose[:4]}")
    faces = list(polygonize(unary_union(snapped)))
    if not faces:
        raise ValueError("the snapped lines enclose no area")
    return max(faces, key=lambda f: f.area)


def _cluster_points(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Label points so that points within ``tolerance`` of each other (transitively) share a label."""
    labels = np.arange(len(points))

    def root(i: int) -> int:
        while labels[i] != i:
            labels[i] = labels[labels[i]]
            i = int(labels[i])
        return i

    for i in range(len(points)):
        near = np.flatnonzero(np.hypot(*(points - points[i]).T) <= tolerance)
        for j in near:
            labels[root(int(j))] = root(i)
    return np.array([root(i) for i in range(len(points))])


def country_faces(
    border_lines: gpd.GeoDataFrame,
    countries: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float],
    code_column: str = "ADM0_A3",
    min_majority: float = 0.9,
) -> dict[str, BaseGeometry]:
    """Split ``extent`` along precise border lines and name each piece by country.

    The border lines (e.g. Natural Earth 10m) cut the extent into faces; each face is given to the country
    whose coarse polygon (e.g. Natural Earth 50m) covers most of it. So the result follows the precise lines
    while the coarse polygons only say which side is which. Raises ``BuildCheckFailed`` when a face has no
    clear majority (the lines do not cut the extent cleanly, e.g. the extent reaches a coast).
    """
    box = shapely.box(*extent)
    clipped = [shapely.intersection(g, box) for g in border_lines.to_crs(STORAGE_CRS).geometry]
    faces = gpd.GeoSeries(list(polygonize(unary_union([*clipped, box.boundary]))), crs=STORAGE_CRS)
    faces_ea = faces.to_crs(EQUAL_AREA_CRS)
    coarse = countries.to_crs(EQUAL_AREA_CRS)
    owners: dict[str, list[BaseGeometry]] = {}
    for face, face_ea in zip(faces, faces_ea, strict=True):
        shares = coarse.geometry.intersection(face_ea).area / face_ea.area
        best = int(np.argmax(shares.to_numpy()))
        if shares.iloc[best] < min_majority:
            raise BuildCheckFailed(
                f"a border face of {face_ea.area / M2_PER_KM2:.1f} km2 near {face.representative_point().wkt} "
                f"is only {shares.iloc[best]:.0%} one country: the border lines do not cut the extent {extent}"
            )
        owners.setdefault(str(coarse[code_column].iloc[best]), []).append(face)
    return {code: unary_union(parts) for code, parts in owners.items()}


def clip_to_country(zones: gpd.GeoDataFrame, faces: Mapping[str, BaseGeometry], keep: str) -> gpd.GeoDataFrame:
    """Clip zones to country ``keep``; add ``removed_<code>_km2`` columns for the area given to each neighbour."""
    out = zones.to_crs(STORAGE_CRS).copy()
    for code, face in sorted(faces.items()):
        if code == keep:
            continue
        lost = gpd.GeoSeries(out.geometry.intersection(face), crs=STORAGE_CRS)
        out[f"removed_{code.lower()}_km2"] = area_km2(lost).round(2)
    out["geometry"] = _polygonal(out.geometry.intersection(faces[keep]))
    return out


def subtract(zones: gpd.GeoDataFrame, cutter: BaseGeometry, column: str) -> gpd.GeoDataFrame:
    """Remove ``cutter`` from every zone; record the removed area in km2 in ``column``."""
    out = zones.copy()
    removed = gpd.GeoSeries(out.geometry.intersection(cutter), crs=out.crs)
    out[column] = area_km2(removed).round(2)
    out["geometry"] = _polygonal(out.geometry.difference(cutter))
    return out


def _polygonal(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Keep only the polygonal parts of each geometry (overlay can leave slivers of lines or points)."""
    return geoms.apply(
        lambda g: shapely.make_valid(
            unary_union([p for p in getattr(g, "geoms", [g]) if p.geom_type in ("Polygon", "MultiPolygon")])
        )
    )


def one_sided_bands(lines: gpd.GeoDataFrame, widths_km: Sequence[float], sides: Mapping[str, str]) -> gpd.GeoDataFrame:
    """Bands of each width on each side of border lines, computed in metres.

    ``lines`` has ``adm0_a3_l`` and ``adm0_a3_r`` (the country on the left and right of the line's direction,
    as Natural Earth records them); ``sides`` maps those codes to the label of each side (e.g. AZE -> AZ).
    Each band is the flat-ended buffer of the line cut by the line itself; each piece goes to the side whose
    thin one-sided strip it touches most (wide one-sided buffers of a winding river line have artefacts, thin
    ones do not). Each band includes the narrower ones. Returns one feature per (width, side), with
    properties ``width_km`` and ``side``.
    """
    metric = lines.to_crs(METRIC_CRS)
    rows: list[dict] = []
    for width in sorted(widths_km):
        pieces: dict[str, list[BaseGeometry]] = {label: [] for label in sides.values()}
        for left, right, geom in zip(metric["adm0_a3_l"], metric["adm0_a3_r"], metric.geometry, strict=True):
            merged = shapely.line_merge(geom, directed=True)
            for part in _line_parts([merged]):
                left_piece, right_piece = _split_buffer(part, width * 1000)
                pieces[sides[left]].append(left_piece)
                pieces[sides[right]].append(right_piece)
        for label, parts in pieces.items():
            # Union with the narrower band of the same side: where a line ends at a sharp turn (the
            # tripoints with Turkey and Armenia) GEOS's flat end caps of two widths differ by up to ~1 km2.
            narrower = [r["geometry"] for r in rows if r["side"] == label]
            rows.append({"width_km": float(width), "side": label, "geometry": unary_union([*parts, *narrower])})
    bands = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_CRS)
    # Densify before reprojecting: a long straight buffer edge in metres is a curve in degrees, and without
    # extra vertices a narrower band's vertex on that edge would land outside the wider band.
    bands["geometry"] = shapely.segmentize(bands.geometry.to_numpy(), DENSIFY_M)
    return bands.to_crs(STORAGE_CRS)


def _split_buffer(line: LineString, width_m: float, probe_m: float = 20.0) -> tuple[BaseGeometry, BaseGeometry]:
    """The flat-ended buffer of ``line``, split into its (left, right) halves by the line."""
    band = line.buffer(width_m, cap_style="flat")
    faces = list(polygonize(unary_union([band.boundary, line])))
    left_probe = line.buffer(probe_m, single_sided=True)
    right_probe = line.buffer(-probe_m, single_sided=True)
    left: list[BaseGeometry] = []
    right: list[BaseGeometry] = []
    for face in faces:
        if not band.contains(face.point_on_surface()):
            continue
        on_left = face.intersection(left_probe).area >= face.intersection(right_probe).area
        (left if on_left else right).append(face)
    return unary_union(left), unary_union(right)


def max_excursion_m(zone: BaseGeometry, foreign: BaseGeometry, border: BaseGeometry) -> float:
    """How far, in metres, ``zone`` reaches into ``foreign`` past ``border`` (all in a metric CRS)."""
    inside = zone.intersection(foreign)
    if inside.is_empty:
        return 0.0
    points = shapely.points(shapely.get_coordinates(inside))
    return float(shapely.distance(points, border).max())
