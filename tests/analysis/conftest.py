"""Fixtures of the analysis tests: synthetic zones and rasters, and the real built layers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
from analysis_helpers import ea_square
from rasterio.transform import from_origin

from app.analysis.population import PopulationRaster
from app.layerstore import LayerStore
from app.layerstore.zones import ZoneIndex, ZoneLayer
from geodata.manifest import LAYERS_FOLDER
from geodata.population import PopulationRasterParams, build_population_raster

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def square_zones() -> ZoneIndex:
    """Two layers of squares near 46.5 E 39.5 N: 'grid' (two adjacent 10 km squares), 'big' (one 40 km square)."""
    grid = gpd.GeoDataFrame(
        {"id": ["west", "east"], "name": ["West", "East"]},
        geometry=[ea_square(46.5, 39.5, 10, -5), ea_square(46.5, 39.5, 10, 5)],
        crs="EPSG:4326",
    )
    big = gpd.GeoDataFrame({"id": ["big"], "name": ["Big"]}, geometry=[ea_square(46.5, 39.5, 40)], crs="EPSG:4326")
    return ZoneIndex(
        {"grid": ZoneLayer.from_frame("grid", "Grid", grid), "big": ZoneLayer.from_frame("big", "Big", big)}
    )


@pytest.fixture
def write_raster(tmp_path: Path) -> Callable[..., Path]:
    """Write a single-band GeoTIFF from an array: ``write_raster(values, west, north, res, crs="EPSG:4326")``."""

    def write(values: np.ndarray, west: float, north: float, res: float, crs: str = "EPSG:4326", **extra) -> Path:
        path = tmp_path / f"raster-{len(list(tmp_path.glob('raster-*.tif')))}.tif"
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=values.shape[1],
            height=values.shape[0],
            count=1,
            dtype=values.dtype,
            crs=crs,
            transform=from_origin(west, north, res, res),
            **extra,
        ) as dst:
            dst.write(values, 1)
        return path

    return write


@pytest.fixture(scope="session")
def zone_index(built_data_dir: Path) -> ZoneIndex:
    """The real layers, built from the geodata mirror into a temporary folder."""
    return LayerStore.open(built_data_dir).zones


@pytest.fixture(scope="session")
def places(built_data_dir: Path) -> gpd.GeoDataFrame:
    """The built places layer."""
    return pyogrio.read_dataframe(built_data_dir / LAYERS_FOLDER / "places.gpkg", layer="places")


@pytest.fixture(scope="session")
def population_tif(places: gpd.GeoDataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The indicative population raster built from the real places."""
    path = tmp_path_factory.mktemp("population") / "population.tif"
    build_population_raster(places, path, PopulationRasterParams())
    return path


@pytest.fixture
def population(population_tif: Path) -> Iterator[PopulationRaster]:
    """The indicative raster, opened."""
    with PopulationRaster(population_tif) as raster:
        yield raster
