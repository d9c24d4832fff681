"""Named units that tile the map's extent: the oblast, the seven districts, the other rayons, the countries.

Every point of the extent falls in exactly one unit: a unit of the ``nagorno-karabakh`` or ``seven-districts``
layers, another Azerbaijani rayon (geoBoundaries ADM2) by its name, a neighbouring country (Natural Earth) by
its name, or the unit ``outside`` (the Caspian Sea and anything else that is no country's land), which is
outside the study area. The pieces are made to tile by construction:

1. The extent is cut into faces by the 10m border lines; each face belongs to the country whose 50m polygon
   covers most of its land, and the 50m polygons give the coast (:func:`land_by_country`).
2. Azerbaijan's land is shared out in priority order: the oblast, then the districts, then each rayon
   (minus everything before it).
3. What is left (geoBoundaries' gaps and its slivers, and rayons the oblast stands for, such as Khankendi
   City) goes, piece by piece, to the unit it shares the longest boundary with; the area each unit gains is
   recorded in ``gap_filled_km2``, so the correction is visible rather than silent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.ops import polygonize, unary_union

from geodata.crs import EQUAL_AREA_CRS, STORAGE_CRS
from geodata.errors import BuildCheckFailed
from geodata.transforms import M2_PER_KM2, area_km2

if TYPE_CHECKING:
    from geodata.builders import BuildContext
    from geodata.layerdefs import LayerDefinition

#: Unit id of everything in the extent that is no country's land (the Caspian Sea): outside the study area.
OUTSIDE = "outside"


def land_by_country(
    border_lines: gpd.GeoDataFrame,
    countries: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float],
    code_column: str = "ADM0_A3",
    min_majority: float = 0.9,
    extend_deg: float = 0.05,
) -> dict[str, BaseGeometry]:
    """Each country's land inside ``extent``: borders from precise lines, coast from coarse polygons.

    Like :func:`geodata.transforms.country_faces`, but a face may also hold sea: only its land (the part
    covered by any coarse polygon) counts towards the majority and is given to the country. Raises
    ``BuildCheckFailed`` when a face's land has no clear majority.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> line = gpd.GeoDataFrame(geometry=[shapely.LineString([(1, 0), (1, 2)])], crs="EPSG:4326")
    >>> coarse = gpd.GeoDataFrame({"ADM0_A3": ["AAA", "BBB"]},
    ...     geometry=[shapely.box(0, 0, 1.01, 2), shapely.box(1, 0, 1.5, 2)], crs="EPSG:4326")
    >>> land = land_by_country(line, coarse, (0, 0, 3, 2))
    >>> sorted(land), round(land["AAA"].area, 3), round(land["BBB"].area, 3)
    (['AAA', 'BBB'], 2.0, 1.0)

    """
    box = shapely.box(*extent)
    coarse = countries.to_crs(STORAGE_CRS)
    coarse = coarse[coarse.intersects(box)]
    land = shapely.union_all(coarse.geometry.to_numpy()).intersection(box)
    # Border lines that end at the sea are extended a little so that they cross the coarse coast, and the
    # coast itself cuts the faces: otherwise the sea would join the land faces of two countries.
    lines = [_extended(part, extend_deg) for part in _parts(border_lines.to_crs(STORAGE_CRS).geometry)]
    clipped = [shapely.intersection(g, box) for g in [*lines, land.boundary]]
    faces = list(polygonize(unary_union([*clipped, box.boundary])))
    owners: dict[str, list[BaseGeometry]] = {}
    for face in faces:
        face_land = face.intersection(land)
        if face_land.area <= 0:
            continue
        # shares of squared degrees: only a ratio within one face, so the CRS does not matter
        shares = shapely.area(shapely.intersection(coarse.geometry.to_numpy(), face)) / face_land.area
        best = int(np.argmax(shares))
        if shares[best] < min_majority:
            raise BuildCheckFailed(
                f"a border face near {face.representative_point().wkt} is only {shares[best]:.0%} one "
                f"country's land: the border lines do not cut the extent {extent}"
            )
        owners.setdefault(str(coarse[code_column].iloc[best]), []).append(face_land)
    return {code: _polygonal(unary_union(parts)) for code, parts in owners.items()}


def _parts(geoms: Sequence[BaseGeometry] | gpd.GeoSeries) -> list[LineString]:
    out: list[LineString] = []
    for g in geoms:
        merged = shapely.line_merge(g) if g.geom_type == "MultiLineString" else g
        out.extend(getattr(merged, "geoms", [merged]))
    return out


def _extended(line: LineString, by: float) -> LineString:
    """``line`` with both ends prolonged by ``by`` along their last segments (dangles do not make faces)."""
    coords = np.asarray(line.coords)[:, :2]
    if len(coords) < 2:
        return line
    head, tail = coords[0] - coords[1], coords[-1] - coords[-2]
    head = coords[0] + head / (np.hypot(*head) or 1.0) * by
    tail = coords[-1] + tail / (np.hypot(*tail) or 1.0) * by
    return LineString(np.vstack([head, coords, tail]))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.make_valid(unary_union(parts)) if parts else shapely.Polygon()


def slug(name: str) -> str:
    """A feature id from a rayon name.

    Examples
    --------
    >>> slug("Lankaran City"), slug("Agdam District")
    ('lankaran-city', 'agdam-district')

    """
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def fill_gaps(units: list[dict[str, Any]], gaps: BaseGeometry, min_area: float = 0.0) -> None:
    """Give each piece of ``gaps`` to the unit it shares the longest boundary with (in place).

    Each unit is a dict with ``geometry``; the area it gains (km2, equal-area) is added to its
    ``gap_filled_km2``. Pieces of at most ``min_area`` (squared degrees) are numeric dust and go the same way.
    """
    pieces = [p for p in _polygons(gaps) if p.area > min_area]
    # Largest first, so that a small piece enclosed by a large gap joins the unit the large gap went to.
    pieces.sort(key=lambda p: -p.area)
    for piece in pieces:
        shell = piece.boundary
        touch = [shapely.length(shapely.intersection(shell, u["geometry"].buffer(1e-7))) for u in units]
        best = int(np.argmax(touch))
        if touch[best] <= 0:
            raise BuildCheckFailed(
                f"a gap of {_km2(piece):.3f} km2 near {piece.representative_point().wkt} touches no unit"
            )
        unit = units[best]
        unit["geometry"] = _polygonal(unary_union([unit["geometry"], piece]))
        unit["gap_filled_km2"] = unit.get("gap_filled_km2", 0.0) + _km2(piece)


def _polygons(geom: BaseGeometry) -> list[BaseGeometry]:
    """The polygons of any geometry, collections flattened."""
    if geom.geom_type == "Polygon":
        return [geom]
    return [p for part in getattr(geom, "geoms", []) for p in _polygons(part)]


def _km2(geom: BaseGeometry) -> float:
    return float(area_km2(gpd.GeoSeries([geom], crs=STORAGE_CRS)).iloc[0])


def _rayons(adm2: gpd.GeoDataFrame, aze: BaseGeometry) -> list[tuple[str, BaseGeometry]]:
    """The geoBoundaries ADM2 units on Azerbaijan's land, one geometry per name (``Lankaran District`` comes twice)."""
    merged: dict[str, list[BaseGeometry]] = {}
    for name, geom in zip(adm2["shapeName"], adm2.to_crs(STORAGE_CRS).geometry, strict=True):
        merged.setdefault(str(name), []).append(shapely.make_valid(geom))
    return [(name, shapely.union_all(geoms).intersection(aze)) for name, geoms in sorted(merged.items())]


def tile_units(
    land: Mapping[str, BaseGeometry],
    extent: tuple[float, float, float, float],
    reference_units: Sequence[Mapping[str, Any]],
    rayons: Sequence[tuple[str, BaseGeometry]],
    country_names: Mapping[str, str],
    absorbed: Sequence[str] = (),
    min_part_km2: float = 1.0,
) -> list[dict[str, Any]]:
    """Share Azerbaijan's land (``land["AZE"]``) out to units, then add the other countries and ``outside``.

    ``reference_units`` (the oblast and the districts, with ``id``, ``name``, ``kind``, ``geometry``) come
    first; each of ``rayons`` gets what is left of it, less its parts under ``min_part_km2`` and less the
    rayons named in ``absorbed`` (whose land is the oblast's); the rest is filled with :func:`fill_gaps`.
    """
    aze = land["AZE"]
    units: list[dict[str, Any]] = []
    taken: list[BaseGeometry] = []
    for ref in reference_units:
        geom = _polygonal(ref["geometry"].intersection(aze).difference(unary_union(taken)))
        units.append({**ref, "country": "Azerbaijan", "geometry": geom, "gap_filled_km2": 0.0})
        taken.append(geom)
    covered = unary_union(taken)
    for name, geom in rayons:
        if name in absorbed:
            continue
        rest = _polygonal(geom.difference(covered))
        parts = [p for p in getattr(rest, "geoms", [rest]) if _km2(p) >= min_part_km2]
        if not parts:
            continue
        piece = _polygonal(unary_union(parts))
        units.append(
            {"id": f"AZE-{slug(name)}", "name": name, "kind": "rayon", "country": "Azerbaijan", "geometry": piece}
        )
        units[-1]["gap_filled_km2"] = 0.0
        covered = unary_union([covered, piece])
    fill_gaps(units, aze.difference(covered))
    covered = unary_union([u["geometry"] for u in units])
    for code in sorted(land):
        if code == "AZE":
            continue
        if code not in country_names:
            raise BuildCheckFailed(f"no name for country {code!r} in the extent; add it to params.country_names")
        # less what is already taken, so that numeric noise along the borders cannot make an overlap
        geom = _polygonal(land[code].difference(covered))
        units.append(
            {
                "id": code,
                "name": country_names[code],
                "kind": "country",
                "country": country_names[code],
                "geometry": geom,
                "gap_filled_km2": 0.0,
            }
        )
        covered = unary_union([covered, geom])
    # The rest of the box is no country's land: the sea, outside the study area.
    sea = _polygonal(shapely.box(*extent).difference(covered))
    if not sea.is_empty:
        units.append(
            {
                "id": OUTSIDE,
                "name": "Outside the study area (Caspian Sea)",
                "kind": "outside",
                "country": None,
                "geometry": sea,
                "gap_filled_km2": 0.0,
            }
        )
    return units


def build_admin_units(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """The ``admin-units`` layer: named units that tile the map's extent (see the module docstring)."""
    p = d.params
    extent = tuple(p["extent"])
    lines = ctx.read("ne-boundary-lines-land")
    land = land_by_country(lines[lines.intersects(shapely.box(*extent))], ctx.read("ne-countries-50m"), extent)
    refs: list[dict[str, Any]] = []
    for layer_id, kind in (("nagorno-karabakh", "former oblast"), ("seven-districts", "district")):
        for fid, name, geom in zip(*(ctx.layer(layer_id)[c] for c in ("id", "name", "geometry")), strict=True):
            refs.append({"id": fid, "name": name, "kind": kind, "layer": layer_id, "geometry": geom})
    units = tile_units(
        land,
        extent,
        refs,
        _rayons(ctx.read("geoboundaries-aze-adm2"), land["AZE"]),
        p["country_names"],
        absorbed=p.get("absorbed", ()),
        min_part_km2=p.get("min_part_km2", 1.0),
    )
    layer = gpd.GeoDataFrame(units, geometry="geometry", crs=STORAGE_CRS)
    layer["layer"] = layer.get("layer", None)
    layer["area_km2"] = area_km2(layer.geometry).round(1)
    layer["gap_filled_km2"] = layer["gap_filled_km2"].astype(float).round(2)
    layer = layer[["id", "name", "kind", "country", "layer", "area_km2", "gap_filled_km2", "geometry"]]
    check_tiles(d.id, layer, extent, p.get("max_overlap_km2", 0.01))
    return layer


def check_tiles(
    layer_id: str, units: gpd.GeoDataFrame, extent: tuple[float, float, float, float], max_km2: float
) -> None:
    """The units cover ``extent`` with gaps and overlaps each under ``max_km2`` in total."""
    ea = units.to_crs(EQUAL_AREA_CRS).geometry
    box = gpd.GeoSeries([shapely.box(*extent)], crs=STORAGE_CRS).to_crs(EQUAL_AREA_CRS).iloc[0]
    union = shapely.union_all(ea.to_numpy())
    gap = box.difference(union).area / M2_PER_KM2
    overlap = (float(ea.area.sum()) - union.area) / M2_PER_KM2
    if gap > max_km2 or overlap > max_km2:
        raise BuildCheckFailed(
            f"layer {layer_id!r}: units leave {gap:.3f} km2 uncovered and overlap by {overlap:.3f} km2 "
            f"(limit {max_km2} km2 each)"
        )
