"""Helpers shared by the analysis tests (imported by name: the tests folders are not packages)."""

from __future__ import annotations

import geopandas as gpd
import shapely
from pyproj import Transformer

_FROM_EA = Transformer.from_crs("EPSG:6933", "EPSG:4326", always_xy=True)
_TO_EA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)


def ea_square(lon: float, lat: float, side_km: float, dx_km: float = 0.0) -> shapely.Polygon:
    """A square of ``side_km`` in EPSG:6933 (so of exactly side_km**2 km2), as a lon/lat polygon.

    Axis-parallel lines of the cylindrical EPSG:6933 are meridians and parallels, so the square is a lon/lat box.
    """
    x, y = _TO_EA.transform(lon, lat)
    x += dx_km * 1000
    half = side_km * 500
    (w, e), (s, n) = _FROM_EA.transform([x - half, x + half], [y - half, y + half])
    return shapely.box(w, s, e, n)


def place(places: gpd.GeoDataFrame, geonameid: int) -> tuple[float, float]:
    """Lon/lat of a GeoNames place of the built layer."""
    row = places[places["id"] == str(geonameid)]
    assert len(row) == 1, f"place {geonameid} not in the built layer"
    return float(row.geometry.x.iloc[0]), float(row.geometry.y.iloc[0])
