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
from geodata import transforms as tf
from geodata.crs import METRIC_CRS, STORAGE_CRS
from geodata.errors import BuildCheckFailed, LayerDefinitionError
from geodata.layerdefs import LayerDefinition
from geodata.names import apply_names, load_names
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


_SOURCE_KEYS = ("publisher", "date", "title")


def build_control(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """Schematic control periods of the seven districts in 2020, and the Lachin corridor.

    Each district splits into the part held under the 1994 ceasefire (held until the district's change date,
    Azerbaijani after it) and the rest (Azerbaijani throughout). Intervals are half-open: a feature is valid
    from ``valid_from`` (inclusive) until ``valid_to`` (exclusive).
    """
    p = d.params
    districts = ctx.layer("seven-districts").set_index("id")
    held_1994 = shapely.union_all(ctx.layer("ceasefire-1994-area").geometry.to_numpy())
    corridor = _corridor(ctx, p["corridor"])
    rows = []
    for change in p["changes"]:
        district = districts.loc[change["district"]]
        base = {"district_id": change["district"], "district": district["name"], "schematic": True}
        changed = {"basis": change["basis"], **{f"source_{k}": change["source"][k] for k in _SOURCE_KEYS}}
        unchanged = {"basis": p["unchanged_basis"], **dict.fromkeys((f"source_{k}" for k in _SOURCE_KEYS), None)}
        held = district.geometry.intersection(held_1994)
        rest = district.geometry.difference(held_1994)
        after = held.difference(corridor.geometry) if change["district"] == "AZ-LAC" else held
        pieces = [
            (f"{change['district']}-held", held, p["held_by"], p["ceasefire_date"], change["date"], changed),
            (f"{change['district']}-{change['date']}", after, "Azerbaijan", change["date"], None, changed),
            (f"{change['district']}-az", rest, "Azerbaijan", p["ceasefire_date"], None, unchanged),
        ]
        for fid, geom, by, start, end, why in pieces:
            if tf.area_km2(gpd.GeoSeries([geom], crs=STORAGE_CRS)).iloc[0] >= p["min_piece_km2"]:
                rows.append(
                    {
                        "id": fid,
                        **base,
                        **why,
                        "controlled_by": by,
                        "valid_from": start,
                        "valid_to": end,
                        "geometry": shapely.make_valid(geom),
                    }
                )
    rows.append(
        {
            "id": "lachin-corridor",
            "district_id": "AZ-LAC",
            "district": "Lachin",
            "schematic": True,
            "basis": corridor.basis,
            "controlled_by": corridor.controlled_by,
            "valid_from": corridor.valid_from,
            "valid_to": corridor.valid_to,
            **{f"source_{k}": corridor.source[k] for k in _SOURCE_KEYS},
            "geometry": corridor.geometry,
        }
    )
    layer = _frame(rows)
    layer["area_km2"] = tf.area_km2(layer.geometry).round(1)
    return layer


@dataclass(frozen=True)
class _Corridor:
    geometry: shapely.Geometry
    basis: str
    controlled_by: str
    valid_from: str
    valid_to: str | None
    source: Mapping[str, str]


def _corridor(ctx: BuildContext, p: Mapping[str, Any]) -> _Corridor:
    """A band of ``width_km`` along a road drawn through GeoNames places, on Azerbaijan's side of the border."""
    places = {str(c["geonameid"]): (c["longitude"], c["latitude"]) for c in ctx.json("geonames-cities500").values()}
    road = LineString([places[str(g)] for g in p["via_geonameids"]])
    band = gpd.GeoSeries([road], crs=STORAGE_CRS).to_crs(METRIC_CRS).buffer(p["width_km"] * 500, cap_style="flat")
    band = gpd.GeoSeries(shapely.segmentize(band.to_numpy(), tf.DENSIFY_M), crs=METRIC_CRS).to_crs(STORAGE_CRS)
    faces = _border_faces(ctx, p)
    geom = shapely.make_valid(band.iloc[0].intersection(faces["AZE"]))
    return _Corridor(geom, p["basis"], p["controlled_by"], p["valid_from"], p.get("valid_to"), p["source"])


BUILDERS["control"] = build_control
