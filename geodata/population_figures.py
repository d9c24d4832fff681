"""The typed population figures (``population_figures.toml``): settlements and regions with their citations.

The file is the project's own data (figures copied from censuses and official publications, each cited), so
it is committed; GeoNames gives only the coordinates of most entries (by ``geonameid``).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from geodata.crs import STORAGE_CRS
from geodata.errors import LayerDefinitionError

FIGURES_PATH = Path(__file__).resolve().parent / "population_figures.toml"
_COLUMNS = ("name", "population", "year", "kind", "verified", "source_publisher", "source_title", "source_url")


def load_figures(path: Path = FIGURES_PATH) -> dict[str, Any]:
    """The figures file as a dict (``meta``, ``places``, ``checks``)."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


def figures_frame(figures: Mapping[str, Any], geonames_json: Path) -> gpd.GeoDataFrame:
    """One point per ``places`` entry, in CRS84, with the columns the raster builder reads.

    Raises ``LayerDefinitionError`` naming the entry when a geonameid is unknown or an entry lacks a place.
    """
    cities = json.loads(geonames_json.read_text(encoding="utf-8"))
    by_id = {int(c["geonameid"]): (float(c["longitude"]), float(c["latitude"])) for c in cities.values()}
    rows = []
    for n, entry in enumerate(figures["places"]):
        if "geonameid" in entry:
            if int(entry["geonameid"]) not in by_id:
                raise LayerDefinitionError(
                    f"population figure {entry['name']!r}: unknown geonameid {entry['geonameid']}"
                )
            lon, lat = by_id[int(entry["geonameid"])]
        elif "lon" in entry and "lat" in entry:
            lon, lat = float(entry["lon"]), float(entry["lat"])
        else:
            raise LayerDefinitionError(f"population figure {entry.get('name', n)!r}: give a geonameid or lon and lat")
        rows.append(
            {
                "id": f"{n:03d}",
                **{c: entry.get(c) for c in _COLUMNS},
                "verified": bool(entry.get("verified", True)),
                "sigma_km": float(entry.get("sigma_km", "nan")),
                "empty_radius_km": float(entry.get("empty_radius_km", "nan")),
                "geometry": shapely.Point(lon, lat),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=STORAGE_CRS)
