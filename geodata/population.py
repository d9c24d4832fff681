"""An indicative population raster spread from settlement populations (the build uses published figures).

Method (written into the GeoTIFF's tags and returned as metadata):

* Grid: EPSG:4326, cells of 30 arc-seconds (1/120 degree, about 0.72 km x 0.93 km here), the grid of the
  1 km WorldPop and GHS-POP products, so any of them can replace this raster without changing the analysis.
  The extent is the places' bounding box padded by ``pad_deg`` and snapped to the grid (or ``params.extent``).
* Each place with a population spreads it with a Gaussian kernel whose sigma depends on its population class
  (``sigma_km``: under 1,000 people 0.5 km, under 10,000 1 km, under 100,000 2 km, else 4 km), truncated at
  ``truncate_sigmas`` sigma. Distances are measured in kilometres on the ground (longitude scaled by the cosine
  of the place's latitude) and each cell's weight is multiplied by its relative area (cosine of its latitude).
* The weights of each place are normalised over the cells inside the grid, so every place's population is
  preserved exactly (up to float32 rounding of the cells); places outside the grid are left out and counted.
* Places are added in order of their ``id``, so the output is byte-for-byte deterministic.

* A place may set its own ``sigma_km`` (a region's total spread around its centre), and a place with
  ``empty_radius_km`` (a town in ruins) keeps every kernel out of that disc; kernels are renormalised, so
  totals are still preserved.

The result is indicative: the figures are of mixed dates and settlements are not people's homes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.transform import from_origin

#: km per degree of latitude (WGS 84 mean) and per degree of longitude at the equator.
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON = 111.320

CAVEAT = (
    "Indicative only: published census and official settlement figures of mixed years (2005-2016, each cited), "
    "spread around each settlement with a Gaussian kernel; not a census count or a modelled population grid. "
    "Dated as of 2020-09-27, the eve of the war. Displacement it does not show: in 1993 Azerbaijani residents "
    "fled the districts around Nagorno-Karabakh (Aghdam, Fuzuli, Jabrayil, Zangilan, Qubadli towns lay in ruins "
    "and empty until 2020: zero here); in October-November 2020 Armenian residents left Hadrut, Shushi (Shusha) "
    "and, before the handovers, the Kalbajar, Lachin and Agdam areas; in September 2023 nearly all Armenians of "
    "Nagorno-Karabakh left for Armenia (100,417 arrivals by 30 September, of an estimated 120,000). Figures for "
    "Nagorno-Karabakh do not describe the present."
)


@dataclass(frozen=True)
class PopulationRasterParams:
    """Parameters of :func:`build_population_raster`.

    Examples
    --------
    >>> PopulationRasterParams().sigma_for(500), PopulationRasterParams().sigma_for(250_000)
    (0.5, 4.0)

    """

    resolution_deg: float = 1 / 120
    #: ``(upper population bound, sigma in km)``, ascending; the last bound is infinite.
    sigma_km: tuple[tuple[float, float], ...] = ((1_000, 0.5), (10_000, 1.0), (100_000, 2.0), (math.inf, 4.0))
    truncate_sigmas: float = 3.0
    pad_deg: float = 0.25
    extent: tuple[float, float, float, float] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: What the places' populations are, for the method text.
    source: str = "GeoNames place populations"

    def sigma_for(self, population: float) -> float:
        """The kernel sigma (km) for a place of ``population``."""
        for bound, sigma in self.sigma_km:
            if population < bound:
                return sigma
        return self.sigma_km[-1][1]


@dataclass(frozen=True)
class _Grid:
    west: float
    north: float
    res: float
    width: int
    height: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], res: float) -> _Grid:
        west, south, east, north = (
            math.floor(bounds[0] / res) * res,
            math.floor(bounds[1] / res) * res,
            math.ceil(bounds[2] / res) * res,
            math.ceil(bounds[3] / res) * res,
        )
        return cls(west, north, res, max(1, round((east - west) / res)), max(1, round((north - south) / res)))

    def centres(self, row0: int, row1: int, col0: int, col1: int) -> tuple[np.ndarray, np.ndarray]:
        xs = self.west + (np.arange(col0, col1) + 0.5) * self.res
        ys = self.north - (np.arange(row0, row1) + 0.5) * self.res
        return xs, ys


def build_population_raster(
    places: gpd.GeoDataFrame, out_path: Path, params: PopulationRasterParams, units: gpd.GeoDataFrame | None = None
) -> dict:
    """Spread settlement populations onto a grid and write a deterministic float32 GeoTIFF.

    Parameters
    ----------
    places
        Points in EPSG:4326 with columns ``id`` and ``population`` (the built ``places`` layer).
    out_path
        The GeoTIFF to write (replaced if it exists).
    params
        Grid and kernel parameters.
    units
        Optional polygons (EPSG:4326) that tile the grid, e.g. the ``admin-units`` layer: each place's kernel
        is then kept inside the unit of its own cell (a town's people stay on their side of a border).

    Returns
    -------
    dict
        Metadata: path, crs, grid, totals, method, caveat and the file's sha256.

    Examples
    --------
    >>> import tempfile
    >>> from shapely import points
    >>> places = gpd.GeoDataFrame({"id": ["a", "b"], "population": [1000, 50]},
    ...                           geometry=points([[46.5, 39.5], [46.7, 39.6]]), crs="EPSG:4326")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     meta = build_population_raster(places, Path(tmp) / "pop.tif", PopulationRasterParams())
    >>> meta["total_population"], meta["places_used"], meta["crs"]
    (1050.0, 2, 'EPSG:4326')

    """
    _check_places(places)
    grid = _Grid.covering(_extent(places, params), params.resolution_deg)
    cells = np.zeros((grid.height, grid.width), dtype=np.float64)
    allowed = _allowed_cells(grid, places)
    zones = _zone_grid(grid, units)
    used, outside, outside_population = 0, 0, 0.0
    ordered = places.assign(_key=places["id"].astype(str)).sort_values("_key", kind="stable")
    sigmas = ordered["sigma_km"] if "sigma_km" in ordered.columns else [None] * len(ordered)
    for geom, population, sigma in zip(ordered.geometry, ordered["population"], sigmas, strict=True):
        if not population or population <= 0 or geom is None or geom.is_empty:
            continue
        sigma = None if sigma is None or not np.isfinite(sigma) else float(sigma)
        if _spread(
            cells, grid, (geom.x, geom.y, float(population), sigma), params, _own_zone(allowed, zones, grid, geom)
        ):
            used += 1
        else:
            outside += 1
            outside_population += float(population)
    method = _method_text(params)
    _write(out_path, cells.astype(np.float32), grid, {"CZMAP_METHOD": method, "CZMAP_CAVEAT": CAVEAT, **params.tags})
    return {
        "path": str(out_path),
        "crs": "EPSG:4326",
        "resolution_deg": grid.res,
        "width": grid.width,
        "height": grid.height,
        "bounds": [grid.west, grid.north - grid.height * grid.res, grid.west + grid.width * grid.res, grid.north],
        "total_population": float(cells.sum()),
        "places_used": used,
        "places_outside": outside,
        "population_outside": outside_population,
        "method": method,
        "caveat": CAVEAT,
        "units": "persons per cell",
        "sha256": hashlib.sha256(out_path.read_bytes()).hexdigest(),
    }


def _check_places(places: gpd.GeoDataFrame) -> None:
    missing = {"id", "population"} - set(places.columns)
    if missing:
        raise ValueError(f"places lacks column(s) {sorted(missing)}; needs id, population and point geometries")
    if places.crs is not None and not places.crs.equals("EPSG:4326"):
        raise ValueError(f"places must be in EPSG:4326, got {places.crs.to_string()}")
    kinds = set(places.geometry.geom_type.dropna())
    if kinds - {"Point"}:
        raise ValueError(f"places must be points, got {sorted(kinds)}")


def _extent(places: gpd.GeoDataFrame, params: PopulationRasterParams) -> tuple[float, float, float, float]:
    if params.extent is not None:
        return params.extent
    if places.empty:
        raise ValueError("no places and no extent: cannot size the population grid")
    w, s, e, n = places.total_bounds
    return w - params.pad_deg, s - params.pad_deg, e + params.pad_deg, n + params.pad_deg


def _zone_grid(grid: _Grid, units: gpd.GeoDataFrame | None) -> np.ndarray | None:
    """The 1-based index of the unit holding each cell's centre (0: none), or None without units."""
    if units is None:
        return None
    shapes = ((geom, i + 1) for i, geom in enumerate(units.to_crs("EPSG:4326").geometry))
    transform = from_origin(grid.west, grid.north, grid.res, grid.res)
    return rasterize(shapes, out_shape=(grid.height, grid.width), transform=transform, fill=0, dtype="int32")


def _own_zone(allowed: np.ndarray, zones: np.ndarray | None, grid: _Grid, geom: Any) -> np.ndarray:
    """``allowed``, further limited to the unit of the place's own cell."""
    col, row = math.floor((geom.x - grid.west) / grid.res), math.floor((grid.north - geom.y) / grid.res)
    if zones is None or not (0 <= col < grid.width and 0 <= row < grid.height) or zones[row, col] == 0:
        return allowed
    return allowed * (zones == zones[row, col])


def _allowed_cells(grid: _Grid, places: gpd.GeoDataFrame) -> np.ndarray:
    """1 where people may be spread, 0 within ``empty_radius_km`` of a place given one (towns in ruins)."""
    allowed = np.ones((grid.height, grid.width), dtype=np.float64)
    if "empty_radius_km" not in places.columns:
        return allowed
    xs, ys = grid.centres(0, grid.height, 0, grid.width)
    for geom, radius in zip(places.geometry, places["empty_radius_km"], strict=True):
        if radius is None or not np.isfinite(radius) or radius <= 0:
            continue
        dx = (xs[None, :] - geom.x) * _KM_PER_DEG_LON * math.cos(math.radians(geom.y))
        dy = (ys[:, None] - geom.y) * _KM_PER_DEG_LAT
        allowed[dx**2 + dy**2 <= radius**2] = 0.0
    return allowed


def _spread(
    cells: np.ndarray,
    grid: _Grid,
    place: tuple[float, float, float, float | None],
    p: PopulationRasterParams,
    allowed: np.ndarray,
) -> bool:
    """Add one place's kernel (lon, lat, population, sigma or None) to ``cells``; False if outside the grid."""
    lon, lat, population, sigma_km = place
    col, row = math.floor((lon - grid.west) / grid.res), math.floor((grid.north - lat) / grid.res)
    if not (0 <= col < grid.width and 0 <= row < grid.height):
        return False
    sigma = sigma_km or p.sigma_for(population)
    reach = p.truncate_sigmas * sigma
    km_lon = _KM_PER_DEG_LON * math.cos(math.radians(lat))
    dc, dr = math.ceil(reach / km_lon / grid.res) + 1, math.ceil(reach / _KM_PER_DEG_LAT / grid.res) + 1
    r0, r1, c0, c1 = max(0, row - dr), min(grid.height, row + dr + 1), max(0, col - dc), min(grid.width, col + dc + 1)
    xs, ys = grid.centres(r0, r1, c0, c1)
    dx = (xs[None, :] - lon) * km_lon
    dy = (ys[:, None] - lat) * _KM_PER_DEG_LAT
    d2 = dx**2 + dy**2
    weights = np.exp(-d2 / (2 * sigma**2)) * np.cos(np.radians(ys))[:, None]
    weights[d2 > reach**2] = 0.0
    weights *= allowed[r0:r1, c0:c1]
    total = weights.sum()
    if total <= 0:  # a kernel narrower than a cell: everything in the cell of the place
        cells[row, col] += population
    else:
        cells[r0:r1, c0:c1] += weights * (population / total)
    return True


def _method_text(p: PopulationRasterParams) -> str:
    classes = ", ".join(
        f"< {bound:,.0f}: {sigma:g} km" if math.isfinite(bound) else f"larger: {sigma:g} km"
        for bound, sigma in p.sigma_km
    )
    return (
        f"{p.source} spread with a Gaussian kernel (sigma by population class unless a place sets its own: {classes}; "
        f"truncated at {p.truncate_sigmas:g} sigma), normalised so each place's total is preserved; EPSG:4326 grid "
        f"of {p.resolution_deg * 3600:g} arc-seconds; persons per cell"
    )


def _write(out_path: Path, cells: np.ndarray, grid: _Grid, tags: dict[str, str]) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": from_origin(grid.west, grid.north, grid.res, grid.res),
        "compress": "deflate",
        "predictor": 3,
    }
    with rasterio.open(out_path, "w", **profile) as dst:
        dst.write(cells, 1)
        dst.update_tags(**tags)
        dst.update_tags(1, UNITS="persons per cell")
