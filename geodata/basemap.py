"""The offline basemap: land, borders, rivers and labels from sources already in the mirror, for maps without tiles.

One layer of mixed geometries, told apart by ``kind``:

- ``land``: country polygons (Natural Earth 1:50m) clipped to the extent; the sea and everything outside stay blank;
- ``border``: 1:10m land borders as lines;
- ``river``: 1:10m rivers and lake centre lines (the mirror has no lake or reservoir polygons);
- ``country-label``: one point per country where its name is written (chosen in the layer file, checked inside);
- ``place-label``: GeoNames places, each with the ``min_zoom`` from which its label is drawn, thinned so labels
  keep ``label_spacing_px`` apart at every zoom: the towns of ``priority_names`` first, then larger places first.

Kept in its own module (the builders of the zone layers live in :mod:`geodata.builders`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geodata.builders import BuildContext, Builder
from geodata.crs import STORAGE_CRS
from geodata.errors import BuildCheckFailed
from geodata.layerdefs import LayerDefinition

WEB_MERCATOR = "EPSG:3857"
M_PER_PX_Z0 = 156_543.033_928_041


def build_basemap(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """Land, borders, rivers, country names and thinned place labels within ``params.extent``."""
    p = d.params
    extent = shapely.box(*p["extent"])
    parts = [
        _land(ctx, extent),
        _lines(ctx.read("ne-boundary-lines-land"), extent, "border", "name"),
        _lines(ctx.read("ne-rivers"), extent, "river", "name"),
        _country_labels(ctx, p["country_labels"]),
        _place_labels(ctx, p),
    ]
    frame = gpd.GeoDataFrame([row for part in parts for row in part], geometry="geometry", crs=STORAGE_CRS).reset_index(
        drop=True
    )
    frame["min_zoom"] = frame["min_zoom"].astype("int32")
    return frame


def _land(ctx: BuildContext, extent: shapely.Geometry) -> list[dict[str, Any]]:
    countries = ctx.read("ne-countries-50m")
    rows = []
    for _, c in countries[countries.intersects(extent)].sort_values("ADM0_A3").iterrows():
        geometry = shapely.intersection(c.geometry, extent)
        rows.append(_row(f"land-{c['ADM0_A3']}", "land", str(c["NAME"]), 0, geometry))
    return rows


def _lines(frame: gpd.GeoDataFrame, extent: shapely.Geometry, kind: str, name_column: str) -> list[dict[str, Any]]:
    rows = []
    inside = frame[frame.intersects(extent)]
    for i, (_, f) in enumerate(inside.sort_values([name_column, "min_zoom"], na_position="last").iterrows()):
        geometry = shapely.intersection(f.geometry, extent)
        if geometry.is_empty:
            continue
        name = f.get(name_column)
        label = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        rows.append(_row(f"{kind}-{i}", kind, label, 0, geometry))
    return rows


def _country_labels(ctx: BuildContext, labels: Mapping[str, Sequence[float]]) -> list[dict[str, Any]]:
    countries = ctx.read("ne-countries-50m").set_index("ADM0_A3")
    rows = []
    for code, (lon, lat) in sorted(labels.items()):
        if code not in countries.index:
            raise BuildCheckFailed(f"basemap: country label {code!r} is not a Natural Earth ADM0_A3 code")
        point = shapely.Point(lon, lat)
        if not countries.loc[code, "geometry"].contains(point):
            raise BuildCheckFailed(f"basemap: the label point of {code} ({lon}, {lat}) lies outside the country")
        rows.append(_row(f"country-{code}", "country-label", str(countries.loc[code, "NAME"]), 0, point))
    return rows


def _place_labels(ctx: BuildContext, p: Mapping[str, Any]) -> list[dict[str, Any]]:
    west, south, east, north = p["extent"]
    places = [
        c
        for c in ctx.json("geonames-cities500").values()
        if c["countrycode"] in p["countries"]
        and west <= c["longitude"] <= east
        and south <= c["latitude"] <= north
        and int(c["population"]) >= int(p["min_population"])
    ]
    # the towns the reporting names come first whatever their (often dated) GeoNames population
    first = {name: rank for rank, name in enumerate(p.get("priority_names", []))}
    places.sort(key=lambda c: (first.get(c["name"], len(first)), -int(c["population"]), int(c["geonameid"])))
    names = p.get("label_names", {})
    points = gpd.GeoSeries([shapely.Point(c["longitude"], c["latitude"]) for c in places], crs=STORAGE_CRS).to_crs(
        WEB_MERCATOR
    )
    xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()]) if len(points) else np.empty((0, 2))
    zooms = label_zooms(xy, range(int(p["first_label_zoom"]), int(p["last_label_zoom"]) + 1), p["label_spacing_px"])
    rows = []
    for c, zoom in zip(places, zooms, strict=True):
        if zoom is None:
            continue
        point = shapely.Point(c["longitude"], c["latitude"])
        label = names.get(c["name"], c["name"])
        rows.append(_row(f"place-{c['geonameid']}", "place-label", label, zoom, point, int(c["population"])))
    return rows


def label_zooms(xy: np.ndarray, zooms: range, spacing_px: Sequence[float]) -> list[int | None]:
    """The first zoom at which each point's label is drawn, ``None`` if never.

    Points come in priority order (largest first). At each zoom the labels of the zoom before stay, then each
    further point is added when it keeps ``spacing_px`` (x, y) pixels from every label already placed, so labels
    never appear and disappear as one zooms in.

    Examples
    --------
    >>> import numpy as np
    >>> # two points 20 km apart: one label at zoom 6 (1 px = 2.4 km), both from zoom 8 (1 px = 0.6 km)
    >>> label_zooms(np.array([[0.0, 0.0], [20_000.0, 0.0]]), range(6, 10), (30, 12))
    [6, 8]

    """
    first: list[int | None] = [None] * len(xy)
    for zoom in zooms:
        metres = M_PER_PX_Z0 / 2**zoom
        dx, dy = spacing_px[0] * metres, spacing_px[1] * metres
        placed = [i for i, z in enumerate(first) if z is not None]
        chosen = xy[placed] if placed else np.empty((0, 2))
        for i in range(len(xy)):
            if first[i] is not None:
                continue
            if len(chosen) and np.any((np.abs(chosen[:, 0] - xy[i, 0]) < dx) & (np.abs(chosen[:, 1] - xy[i, 1]) < dy)):
                continue
            first[i] = zoom
            chosen = np.vstack([chosen, xy[i]])
    return first


def _row(
    feature_id: str, kind: str, name: str, min_zoom: int, geometry: shapely.Geometry, population: int = 0
) -> dict[str, Any]:
    return {
        "id": feature_id,
        "kind": kind,
        "name": name,
        "min_zoom": min_zoom,
        "population": population,
        "geometry": geometry,
    }


#: Builders of this module, merged into the build's table by :mod:`geodata.build`.
BASEMAP_BUILDERS: dict[str, Builder] = {"basemap": build_basemap}
