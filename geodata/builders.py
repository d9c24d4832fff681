"""One builder per kind of layer: ``(context, definition) -> GeoDataFrame`` in CRS84 with an ``id`` column.

Builders read sources and earlier layers through :class:`BuildContext`, compute with the pure steps of
:mod:`geodata.transforms`, and run the checks specific to their layer. Parameters come from the layer file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString

from geodata import checks
from geodata import control as ctl
from geodata import transforms as tf
from geodata.crs import EQUAL_AREA_CRS, METRIC_CRS, STORAGE_CRS
from geodata.errors import BuildCheckFailed, LayerDefinitionError
from geodata.layerdefs import LayerDefinition
from geodata.names import apply_names, load_names
from geodata.transforms import M2_PER_KM2
from geodata.units import build_admin_units, land_by_country


@dataclass
class BuildContext:
    """Access to verified source files and already-built layers during one build."""

    source_paths: dict[str, Path]
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    _read_cache: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    def read(self, source_id: str) -> gpd.GeoDataFrame:
        """Read a vector source once per build."""
        if source_id not in self._read_cache:
            self._read_cache[source_id] = gpd.read_file(self.source_paths[source_id]).to_crs(STORAGE_CRS)
        return self._read_cache[source_id]

    def json(self, source_id: str) -> Any:
        """Load a JSON (non-GeoJSON) source."""
        return json.loads(self.source_paths[source_id].read_text(encoding="utf-8"))

    def layer(self, layer_id: str) -> gpd.GeoDataFrame:
        """A layer built earlier in this build (declared in ``depends_on``)."""
        try:
            return self.layers[layer_id]
        except KeyError:
            raise LayerDefinitionError(f"layer {layer_id!r} is needed but was not built first") from None


Builder = Callable[[BuildContext, LayerDefinition], gpd.GeoDataFrame]


def _frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=STORAGE_CRS)


def _border_faces(ctx: BuildContext, p: Mapping[str, Any]) -> dict[str, Any]:
    lines = ctx.read("ne-boundary-lines-land")
    extent = tuple(p["extent"])
    lines = lines[lines.intersects(shapely.box(*extent))]
    return tf.country_faces(lines, ctx.read("ne-countries-50m"), extent)


def _aze_irn_lines(ctx: BuildContext) -> gpd.GeoDataFrame:
    return _iran_lines(ctx, ("AZE",))


def _iran_lines(ctx: BuildContext, neighbours: tuple[str, ...] = ("AZE", "ARM")) -> gpd.GeoDataFrame:
    """Natural Earth 10m lines between Iran and ``neighbours``."""
    lines = ctx.read("ne-boundary-lines-land")
    sides = {"IRN", *neighbours}
    pair = lines["adm0_a3_l"].isin(sides) & lines["adm0_a3_r"].isin(sides)
    return lines[
        pair
        & (lines["adm0_a3_l"] != lines["adm0_a3_r"])
        & ((lines["adm0_a3_l"] == "IRN") | (lines["adm0_a3_r"] == "IRN"))
    ]


def build_oblast(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """Close Natural Earth's former-oblast reference lines into one polygon."""
    p = d.params
    lines = ctx.read("ne-boundary-lines-disputed")
    pieces = lines[lines["name"] == p["line_name"]]
    if pieces.empty:
        raise BuildCheckFailed(f"layer {d.id!r}: no lines named {p['line_name']!r} in the source")
    ring = tf.close_lines_into_polygon(list(pieces.to_crs(METRIC_CRS).geometry), p["snap_tolerance_m"])
    layer = _frame([{**p["properties"], "geometry": ring}])
    layer = layer.set_crs(METRIC_CRS, allow_override=True).to_crs(STORAGE_CRS)
    layer["area_km2"] = tf.area_km2(layer.geometry).round(1)
    layer["published_area_km2"] = float(p["published_area_km2"])
    layer["line_pieces"] = len(pieces)
    return layer


def build_districts(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """Districts from geoBoundaries, clipped to Azerbaijan's side of the 10m borders, minus the oblast."""
    p = d.params
    adm2 = ctx.read("geoboundaries-aze-adm2")
    table = pd.DataFrame(p["districts"])
    raw = adm2.merge(table, left_on="shapeName", right_on="source_name", how="inner")
    missing = set(table["source_name"]) - set(raw["shapeName"])
    if missing:
        raise BuildCheckFailed(f"layer {d.id!r}: districts {sorted(missing)} not found in geoBoundaries")
    raw = raw.set_index(pd.Index(table["source_name"].tolist()).get_indexer(raw["shapeName"])).sort_index()
    raw["raw_area_km2"] = tf.area_km2(raw.geometry).round(1)
    faces = _border_faces(ctx, p)
    clipped = tf.clip_to_country(raw, {c: faces[c] for c in ["AZE", *p["neighbours"]]}, keep="AZE")
    oblast = ctx.layer("nagorno-karabakh")
    zones = tf.subtract(clipped, shapely.union_all(oblast.geometry.to_numpy()), "removed_oblast_km2")
    zones["area_km2"] = tf.area_km2(zones.geometry).round(1)
    keep = [
        *table.columns.drop("source_name"),
        "raw_area_km2",
        *(f"removed_{c.lower()}_km2" for c in p["neighbours"]),
        "removed_oblast_km2",
        "area_km2",
        "geometry",
    ]
    zones = zones[keep].reset_index(drop=True)
    checks.check_no_overlap(d.id, zones, oblast, p["max_overlap_km2"])
    checks.check_within_border(d.id, zones, faces["IRN"], _aze_irn_lines(ctx).geometry, p["max_past_border_m"])
    return zones


def build_border(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """Iran's borders with Azerbaijan and Armenia, in named stretches.

    A stretch with ``country`` takes every line between Iran and that country (Armenia); the Azerbaijan-Iran
    lines are cut where the nearest geoBoundaries district changes and grouped by the stretches' ``districts``.
    """
    p = d.params
    lines = _iran_lines(ctx, tuple(p.get("neighbours", ("AZE", "ARM"))))
    adm2 = ctx.read("geoboundaries-aze-adm2").to_crs(METRIC_CRS)
    group_of = {name: sid for sid, seg in p["segments"].items() for name in seg.get("districts", ())}
    by_country = {seg["country"]: sid for sid, seg in p["segments"].items() if "country" in seg}
    runs: dict[tuple[str, str, str], list[LineString]] = {}
    adjacent: dict[str, set[str]] = {}
    for left, right, geom in zip(
        lines["adm0_a3_l"], lines["adm0_a3_r"], lines.to_crs(METRIC_CRS).geometry, strict=True
    ):
        neighbour = right if left == "IRN" else left
        for part in tf._line_parts([geom]):
            if neighbour in by_country:
                runs.setdefault((by_country[neighbour], left, right), []).append(part)
                continue
            for district, run in _runs_by_nearest(part, adm2):
                sid = group_of.get(district, p["default_segment"])
                runs.setdefault((sid, left, right), []).append(run)
                adjacent.setdefault(sid, set()).add(district)
    rows = []
    for sid, seg in p["segments"].items():
        directions = sorted((left, right) for (s, left, right) in runs if s == sid)
        if not directions:
            raise BuildCheckFailed(f"layer {d.id!r}: segment {sid!r} matched no part of the border")
        # Natural Earth records the country on each side of the line's direction; bands depend on it, so a
        # stretch whose pieces run in both directions becomes one feature per direction.
        for n, (left, right) in enumerate(directions):
            rows.append(
                {
                    "id": sid if n == 0 else f"{sid}-{n + 1}",
                    "name": seg["name"],
                    "countries": seg["countries"],
                    "districts": ", ".join(sorted(adjacent.get(sid, ()))),
                    "left_country": left,
                    "right_country": right,
                    "published_length_km": seg.get("published_length_km"),
                    "published_length_source": seg.get("published_length_source"),
                    "geometry": MultiLineString(runs[(sid, left, right)]),
                }
            )
    layer = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_CRS).to_crs(STORAGE_CRS)
    layer["length_km"] = tf.length_km(layer.geometry).round(2)
    return layer


def _runs_by_nearest(line: LineString, polygons: gpd.GeoDataFrame) -> list[tuple[str, LineString]]:
    """Split a line where the nearest polygon changes; return (polygon name, run) pairs in line order."""
    coords = np.asarray(line.coords)[:, :2]
    _, nearest = polygons.sindex.nearest(shapely.points(coords), return_all=False)
    names = polygons["shapeName"].to_numpy()[nearest]
    out, start = [], 0
    for i in range(1, len(coords) + 1):
        if i == len(coords) or names[i] != names[start]:
            stop = min(i, len(coords) - 1)
            if stop > start:
                out.append((str(names[start]), LineString(coords[start : stop + 1])))
            start = stop
    return out


def build_border_bands(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """Bands of set widths on both sides of Iran's borders with Azerbaijan and Armenia, in metres.

    Each side's bands are clipped to that country's land (10m borders, 50m coast), so no band reaches into a
    third country or the sea.
    """
    p = d.params
    sides: dict[str, dict[str, str]] = p["sides"]
    bands = tf.one_sided_bands(
        _iran_lines(ctx, tuple(sides.keys() - {"IRN"})), p["widths_km"], {c: s["code"] for c, s in sides.items()}
    )
    extent = tuple(p["extent"])
    lines = ctx.read("ne-boundary-lines-land")
    land = land_by_country(lines[lines.intersects(shapely.box(*extent))], ctx.read("ne-countries-50m"), extent)
    country_of = {s["code"]: c for c, s in sides.items()}
    bands["geometry"] = [
        shapely.make_valid(g.intersection(land[country_of[s]]))
        for g, s in zip(bands.geometry, bands["side"], strict=True)
    ]
    bands["id"] = [f"{s}-{w:g}km" for s, w in zip(bands["side"], bands["width_km"], strict=True)]
    bands["country"] = [sides[country_of[s]]["name"] for s in bands["side"]]
    bands["borders"] = [sides[country_of[s]]["borders"] for s in bands["side"]]
    bands["name"] = [
        f"{w:g} km on the {sides[country_of[s]]['adjective']} side ({sides[country_of[s]]['borders']})"
        for s, w in zip(bands["side"], bands["width_km"], strict=True)
    ]
    bands["area_km2"] = tf.area_km2(bands.geometry).round(1)
    checks.check_nested(d.id, bands)
    return bands[["id", "name", "side", "country", "borders", "width_km", "area_km2", "geometry"]]


def build_ceasefire_line(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """The 1994 line of contact from Natural Earth, as one multi-line."""
    p = d.params
    lines = ctx.read("ne-boundary-lines-disputed")
    pieces = lines[lines["name"] == p["line_name"]]
    if pieces.empty:
        raise BuildCheckFailed(f"layer {d.id!r}: no lines named {p['line_name']!r}")
    geom = MultiLineString(tf._line_parts(pieces.geometry))
    layer = _frame([{**p["properties"], "pieces": len(geom.geoms), "geometry": geom}])
    layer["length_km"] = tf.length_km(layer.geometry).round(1)
    return layer


def build_ceasefire_area(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """The area held under the 1994 ceasefire: Natural Earth's breakaway polygon."""
    p = d.params
    areas = ctx.read("ne-disputed-areas")
    match = areas[areas["BRK_A3"] == p["brk_a3"]]
    if len(match) != 1:
        raise BuildCheckFailed(f"layer {d.id!r}: expected one polygon with BRK_A3={p['brk_a3']}, got {len(match)}")
    layer = _frame(
        [
            {
                **p["properties"],
                "note_brk": match["NOTE_BRK"].iloc[0],
                "geometry": shapely.make_valid(match.geometry.iloc[0]),
            }
        ]
    )
    layer["area_km2"] = tf.area_km2(layer.geometry).round(1)
    return layer


_SCRIPTS = re.compile(r"^[\s\w'’ʻ.\-()]+$")


def _keep_name(name: str) -> bool:
    """Keep alternate names in Latin, Cyrillic or Armenian script (the languages of the region's reporting)."""
    return bool(_SCRIPTS.match(name)) and all(
        c.isascii()
        or "\u00c0" <= c <= "\u024f"
        or "\u0400" <= c <= "\u04ff"
        or "\u0530" <= c <= "\u058f"
        or not c.isalpha()
        for c in name
    )


def build_places(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """GeoNames places of the region with alternate names and the zones each falls in."""
    p = d.params
    west, south, east, north = p["extent"]
    rows = []
    for c in ctx.json("geonames-cities500").values():
        if c["countrycode"] in p["countries"] and west <= c["longitude"] <= east and south <= c["latitude"] <= north:
            alternates = sorted({n for n in c["alternatenames"] if _keep_name(n)} - {c["name"]})
            rows.append(
                {
                    "id": str(c["geonameid"]),
                    "name": c["name"],
                    "country": c["countrycode"],
                    "population": int(c["population"]),
                    "alternate_names": "; ".join(alternates),
                    "geometry": shapely.Point(c["longitude"], c["latitude"]),
                }
            )
    places = apply_names(_frame(rows), load_names())
    # GeoNames ids in numeric order, then the places the names table adds (ids that are not numbers)
    places = places.sort_values("id", key=lambda s: s.map(lambda v: (not v.isdigit(), int(v) if v.isdigit() else 0, v)))
    return _with_zones(ctx, places.reset_index(drop=True), p["zone_layers"])


def _with_zones(ctx: BuildContext, places: gpd.GeoDataFrame, zone_layers: list[str]) -> gpd.GeoDataFrame:
    """Add, per zone layer, a column of the zone ids containing each place, and a combined ``zones`` list."""
    combined: list[list[str]] = [[] for _ in range(len(places))]
    for layer_id in zone_layers:
        zones = ctx.layer(layer_id)
        hits = places.sindex.query(zones.geometry, predicate="contains")
        per_place: list[list[str]] = [[] for _ in range(len(places))]
        for zone_idx, place_idx in zip(*hits, strict=True):
            per_place[place_idx].append(str(zones["id"].iloc[zone_idx]))
        places[layer_id.replace("-", "_")] = ["; ".join(sorted(z)) or None for z in per_place]
        for i, z in enumerate(per_place):
            combined[i].extend(f"{layer_id}:{zid}" for zid in sorted(z))
    places["zones"] = ["; ".join(z) for z in combined]
    return places


BUILDERS: dict[str, Builder] = {
    "oblast": build_oblast,
    "districts": build_districts,
    "border": build_border,
    "border_bands": build_border_bands,
    "ceasefire_line": build_ceasefire_line,
    "ceasefire_area": build_ceasefire_area,
    "places": build_places,
    "admin_units": build_admin_units,
}


def build_control(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """Dated control of the former oblast and the seven districts, 1994-2023 (schematic).

    The area is the oblast plus the seven districts. It starts as held under the 1994 ceasefire (Natural Earth's
    B38 area) or by Azerbaijan, then each change of ``params.changes`` gives a region (``params.areas``) to a
    controller from its date; see :mod:`geodata.control`. The build fails if the features valid on any change
    date overlap or leave a gap above ``max_sliver_km2``, or if a corridor comes within ``shusha_clearance_km``
    of Shusha.
    """
    p = d.params
    units = _control_units(ctx)
    regions = _control_regions(ctx, p, units)
    controllers = dict(p["controllers"])
    held = shapely.union_all(ctx.layer("ceasefire-1994-area").to_crs(EQUAL_AREA_CRS).geometry.to_numpy())
    base = p["base"]
    faces = [
        ctl.Face(unit, part, [ctl.Period(base["date"], controllers[who], "ceasefire-1994")])
        for unit, geom in units.items()
        for who, part in (("held", geom.intersection(held)), ("azerbaijan", geom.difference(held)))
        if part.area >= p["min_piece_km2"] * M2_PER_KM2
    ]
    changes = {c["id"]: _control_change(c, regions, controllers, p["areas"]) for c in p["changes"]}
    min_m2 = p["min_piece_km2"] * M2_PER_KM2
    merged = ctl.merge_histories(ctl.apply_changes(faces, changes.values(), min_m2))
    names = {
        "NKAO": p["oblast_name"],
        **dict(zip(ctx.layer("seven-districts")["id"], ctx.layer("seven-districts")["name"], strict=True)),
    }
    base_info = {
        "basis": base["basis"],
        "precision": base["precision"],
        "schematic": True,
        **_source_fields(base["sources"]),
    }
    rows = ctl.features(merged, names, changes, {controllers[k]: v for k, v in base["part_names"].items()}, base_info)
    layer = gpd.GeoDataFrame(rows, geometry="geometry", crs=EQUAL_AREA_CRS)
    _check_control(d.id, layer, shapely.union_all(list(units.values())), p)
    layer["area_km2"] = (layer.geometry.area / M2_PER_KM2).round(1)
    layer["geometry"] = shapely.segmentize(layer.geometry.to_numpy(), tf.DENSIFY_M)
    layer = layer.to_crs(STORAGE_CRS)
    layer["geometry"] = [ctl.polygonal(g) for g in layer.geometry]  # reprojection can leave self-touching rings
    return layer


def _control_units(ctx: BuildContext) -> dict[str, shapely.Geometry]:
    """The seven districts and the oblast (``NKAO``) in the equal-area CRS: the area the map covers."""
    districts = ctx.layer("seven-districts").to_crs(EQUAL_AREA_CRS)
    oblast = shapely.union_all(ctx.layer("nagorno-karabakh").to_crs(EQUAL_AREA_CRS).geometry.to_numpy())
    return {"NKAO": oblast, **dict(zip(districts["id"], districts.geometry, strict=True))}


def _control_regions(
    ctx: BuildContext, p: Mapping[str, Any], units: Mapping[str, shapely.Geometry]
) -> dict[str, shapely.Geometry]:
    """Each named area of ``params.areas`` built from its recipe, in file order (an area may use earlier ones)."""
    whole = shapely.union_all(list(units.values()))
    regions: dict[str, shapely.Geometry] = {"whole": whole, **units}
    for area_id, a in p["areas"].items():
        if "adm2" in a:
            adm2 = ctx.read("geoboundaries-aze-adm2")
            geom = shapely.union_all(adm2[adm2["shapeName"].isin(a["adm2"])].to_crs(EQUAL_AREA_CRS).geometry.to_numpy())
        elif "polygon" in a:
            geom = _to_equal_area(shapely.Polygon(a["polygon"]))
        elif "circle" in a:
            centre = gpd.GeoSeries([shapely.Point(a["circle"]["centre"])], crs=STORAGE_CRS).to_crs(METRIC_CRS)
            geom = _to_equal_area(centre.buffer(a["circle"]["radius_km"] * 1000).iloc[0], METRIC_CRS)
        elif "route" in a:
            geom = _route_band(ctx, p, a["route"])
        else:
            geom = shapely.union_all([regions[r] for r in a["union"]])
        if "within" in a:
            geom = geom.intersection(shapely.union_all([regions[r] for r in a["within"]]))
        for other in a.get("minus", ()):
            geom = geom.difference(regions[other])
        regions[area_id] = shapely.make_valid(geom.intersection(whole))
    return regions


def _to_equal_area(geom: shapely.Geometry, crs: str = STORAGE_CRS) -> shapely.Geometry:
    dense = shapely.segmentize(geom, tf.DENSIFY_M if crs != STORAGE_CRS else 0.002)
    return gpd.GeoSeries([dense], crs=crs).to_crs(EQUAL_AREA_CRS).iloc[0]


def _route_band(ctx: BuildContext, p: Mapping[str, Any], route: Mapping[str, Any]) -> shapely.Geometry:
    """A flat-ended band of ``width_km`` along straight segments through the route's points (schematic)."""
    places = {str(c["geonameid"]): (c["longitude"], c["latitude"]) for c in ctx.json("geonames-cities500").values()}
    points = [places[str(v)] if isinstance(v, int) else tuple(v) for v in route["via"]]
    band = gpd.GeoSeries([LineString(points)], crs=STORAGE_CRS).to_crs(METRIC_CRS)
    band = band.buffer(route["width_km"] * 500, cap_style="flat")
    on_az_side = _to_equal_area(_border_faces(ctx, p)["AZE"])
    return shapely.make_valid(_to_equal_area(band.iloc[0], METRIC_CRS).intersection(on_az_side))


def _source_fields(sources: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The first source as flat fields, and every source in one readable ``sources`` text."""
    first = sources[0]
    listed = " | ".join(
        f"{s['publisher']}, {s['date']}: {s['title']}{' (descriptive title)' if s.get('descriptive') else ''}"
        + (f" <{s['url']}>" if s.get("url") else "")
        for s in sources
    )
    return {
        "source_publisher": first["publisher"],
        "source_date": first["date"],
        "source_title": first["title"],
        "source_url": first.get("url"),
        "sources": listed,
    }


def _control_change(
    c: Mapping[str, Any],
    regions: Mapping[str, shapely.Geometry],
    controllers: Mapping[str, str],
    areas: Mapping[str, Any],
) -> ctl.Change:
    area = areas.get(c["area"], {"name": c["area"], "precision": c.get("precision", "")})
    info = {
        "basis": c["basis"].strip(),
        "precision": area["precision"].strip(),
        "schematic": True,
        "announced_on": c.get("announced_on"),
        "confirmed_on": c.get("confirmed_on"),
        "date_note": c.get("date_note", "").strip() or None,
        **_source_fields(c["sources"]),
    }
    return ctl.Change(
        c["id"], c["date"], controllers[c["controlled_by"]], regions[c["area"]], c.get("name", area["name"]), info
    )


def _check_control(layer_id: str, layer: gpd.GeoDataFrame, whole: shapely.Geometry, p: Mapping[str, Any]) -> None:
    """On every change date: no overlap, no gap above the tolerance; every corridor clear of Shusha."""
    limit = p["max_sliver_km2"] * M2_PER_KM2
    for day in sorted({c["date"] for c in p["changes"]} | {p["base"]["date"]}):
        valid = layer[(layer["valid_from"] <= day) & (layer["valid_to"].isna() | (layer["valid_to"] > day))]
        overlap, gap = ctl.overlap_and_gap_m2(list(valid.geometry), whole)
        if overlap > limit or gap > limit:
            raise BuildCheckFailed(
                f"layer {layer_id!r} on {day}: features overlap by {overlap / M2_PER_KM2:.3f} km2 and leave "
                f"{gap / M2_PER_KM2:.3f} km2 uncovered (limit {p['max_sliver_km2']} km2)"
            )
    shusha = gpd.GeoSeries([shapely.Point(p["shusha_lonlat"])], crs=STORAGE_CRS).to_crs(METRIC_CRS).iloc[0]
    corridors = layer[layer["controlled_by"] == p["controllers"]["peacekeepers"]].to_crs(METRIC_CRS)
    for fid, geom in zip(corridors["id"], corridors.geometry, strict=True):
        if geom.distance(shusha) < p["shusha_clearance_km"] * 1000:
            raise BuildCheckFailed(
                f"layer {layer_id!r}, feature {fid!r}: {geom.distance(shusha) / 1000:.2f} km from Shusha "
                f"(the corridor must stay {p['shusha_clearance_km']} km clear)"
            )


BUILDERS["control"] = build_control


from geodata.truces import build_truces  # noqa: E402  (imports this module's BuildContext only for typing)

BUILDERS["truces"] = build_truces
