"""geodata.population: the indicative raster spread from GeoNames places."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer

from app.analysis.population import PopulationRaster
from geodata.population import CAVEAT, PopulationRasterParams, build_population_raster

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
_FROM_UTM = Transformer.from_crs("EPSG:32638", "EPSG:4326", always_xy=True)


def _places(rows: list[tuple[str, float, float, int]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "population": [r[3] for r in rows]},
        geometry=shapely.points([(r[1], r[2]) for r in rows]),
        crs="EPSG:4326",
    )


def _circle(lon: float, lat: float, radius_km: float) -> shapely.Polygon:
    x, y = _TO_UTM.transform(lon, lat)
    disc = shapely.Point(x, y).buffer(radius_km * 1000, quad_segs=64)
    return shapely.transform(disc, lambda xy: np.column_stack(_FROM_UTM.transform(xy[:, 0], xy[:, 1])))


@pytest.fixture
def three_places() -> gpd.GeoDataFrame:
    return _places([("b", 46.70, 39.60, 5_000), ("a", 46.50, 39.50, 250_000), ("c", 47.10, 39.20, 800)])


def test_total_population_is_preserved(three_places: gpd.GeoDataFrame, tmp_path: Path) -> None:
    meta = build_population_raster(three_places, tmp_path / "p.tif", PopulationRasterParams())
    with rasterio.open(tmp_path / "p.tif") as ds:
        total = ds.read(1).astype(np.float64).sum()
    assert total == pytest.approx(255_800, rel=1e-6)
    assert meta["places_used"] == 3 and meta["crs"] == "EPSG:4326"


def test_each_place_keeps_its_own_total(three_places: gpd.GeoDataFrame, tmp_path: Path) -> None:
    build_population_raster(three_places, tmp_path / "p.tif", PopulationRasterParams())
    with PopulationRaster(tmp_path / "p.tif") as raster:
        sums = raster.sums([_circle(46.50, 39.50, 15), _circle(46.70, 39.60, 4), _circle(47.10, 39.20, 2.5)])
    # 15 km is beyond 3 sigma of the 4 km kernel: nothing of place a leaks out, and b is 19 km away
    assert sums.tolist() == pytest.approx([250_000, 5_000, 800], rel=1e-4)


def test_kernel_is_gaussian_with_the_class_sigma(tmp_path: Path) -> None:
    build_population_raster(_places([("a", 46.5, 39.5, 1_000_000)]), tmp_path / "p.tif", PopulationRasterParams())
    sigma, truncate = 4.0, 3.0
    with PopulationRaster(tmp_path / "p.tif") as raster:
        within_sigma = raster.sums([_circle(46.5, 39.5, sigma)])[0]
    # share of a 2D Gaussian within r: 1 - exp(-r^2 / 2 sigma^2), renormalised for the truncation at 3 sigma
    expected = (1 - math.exp(-0.5)) / (1 - math.exp(-(truncate**2) / 2))
    assert within_sigma / 1_000_000 == pytest.approx(expected, rel=0.03)


def test_output_is_byte_for_byte_deterministic(three_places: gpd.GeoDataFrame, tmp_path: Path) -> None:
    first = build_population_raster(three_places, tmp_path / "1.tif", PopulationRasterParams())
    shuffled = three_places.iloc[[2, 0, 1]]
    second = build_population_raster(shuffled, tmp_path / "2.tif", PopulationRasterParams())
    assert first["sha256"] == second["sha256"] == hashlib.sha256((tmp_path / "2.tif").read_bytes()).hexdigest()


def test_tags_carry_method_and_caveat(three_places: gpd.GeoDataFrame, tmp_path: Path) -> None:
    build_population_raster(three_places, tmp_path / "p.tif", PopulationRasterParams())
    with PopulationRaster(tmp_path / "p.tif") as raster:
        assert raster.info.caveat == CAVEAT
        assert "Gaussian" in (raster.info.method or "")
    assert "September 2023" in CAVEAT


def test_places_outside_a_given_extent_are_counted_not_spread(tmp_path: Path) -> None:
    places = _places([("in", 46.5, 39.5, 100), ("out", 50.5, 39.5, 7)])
    meta = build_population_raster(places, tmp_path / "p.tif", PopulationRasterParams(extent=(46, 39, 47, 40)))
    assert (meta["places_used"], meta["places_outside"], meta["population_outside"]) == (1, 1, 7.0)
    assert meta["total_population"] == pytest.approx(100)


def test_rejects_places_without_population(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=shapely.points([(46.5, 39.5)]), crs="EPSG:4326")
    with pytest.raises(ValueError, match="population"):
        build_population_raster(frame, tmp_path / "p.tif", PopulationRasterParams())


def test_real_places_raster_keeps_the_geonames_total(places: gpd.GeoDataFrame, population_tif: Path) -> None:
    with rasterio.open(population_tif) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.read(1).astype(np.float64).sum() == pytest.approx(float(places["population"].sum()), rel=1e-6)


def test_no_one_is_spread_within_a_ruins_empty_radius(tmp_path: Path) -> None:
    places = _places([("a", 46.50, 39.50, 10_000), ("ruin", 46.55, 39.50, 0)])
    places["sigma_km"] = [5.0, float("nan")]
    places["empty_radius_km"] = [float("nan"), 3.0]
    meta = build_population_raster(places, tmp_path / "p.tif", PopulationRasterParams())
    with PopulationRaster(tmp_path / "p.tif") as raster:
        # cells are emptied by their centre: a disc 0.5 km narrower than the empty radius holds no one
        inside, total = raster.sums([_circle(46.55, 39.50, 2.5), shapely.box(45, 38, 48, 41)])
    assert inside == pytest.approx(0, abs=1e-6)
    assert total == pytest.approx(10_000, rel=1e-6) and meta["total_population"] == pytest.approx(10_000)


def test_kernels_stay_inside_their_own_unit(tmp_path: Path) -> None:
    """A town 1 km from a border (on a grid line) keeps all its people on its own side."""
    west, east = shapely.box(45, 38, 46.5, 41), shapely.box(46.5, 38, 48, 41)
    units = gpd.GeoDataFrame({"id": ["w", "e"]}, geometry=[west, east], crs="EPSG:4326")
    places = _places([("town", 46.488, 39.5, 50_000)])
    build_population_raster(places, tmp_path / "p.tif", PopulationRasterParams(), units)
    with PopulationRaster(tmp_path / "p.tif") as raster:
        in_west, in_east = raster.sums([west, east])
    assert in_east == pytest.approx(0, abs=1e-6) and in_west == pytest.approx(50_000, rel=1e-6)
    build_population_raster(places, tmp_path / "q.tif", PopulationRasterParams())
    with PopulationRaster(tmp_path / "q.tif") as raster:
        assert raster.sums([east])[0] > 1_000  # without units, the kernel crosses the border
