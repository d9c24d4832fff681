"""Area-weighted zonal sums with exact coverage fractions, on synthetic rasters with known sums."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
from rasterio.transform import from_origin

from app.analysis.errors import LimitExceeded
from app.analysis.limits import Limits
from app.analysis.population import PopulationRaster, coverage_fractions

WriteRaster = Callable[..., Path]


@pytest.fixture
def counting_raster(write_raster: WriteRaster) -> Path:
    """10 x 10 cells of 0.1 degree from 46 E 40 N; cell (row r, col c) holds 100 * r + c."""
    values = (np.arange(10)[:, None] * 100 + np.arange(10)[None, :]).astype("float32")
    return write_raster(values, 46.0, 40.0, 0.1)


def test_whole_cells_sum_exactly(counting_raster: Path) -> None:
    with PopulationRaster(counting_raster) as raster:
        # rows 0-1, cols 0-2: 0+1+2+100+101+102
        assert raster.sums([shapely.box(46.0, 39.8, 46.3, 40.0)])[0] == pytest.approx(306)


def test_a_polygon_cutting_cells_in_half_counts_half(counting_raster: Path) -> None:
    with PopulationRaster(counting_raster) as raster:
        # column 4 halved (x 46.45-46.5) across rows 2 and 3: (204 + 304) / 2
        assert raster.sums([shapely.box(46.45, 39.6, 46.5, 39.8)])[0] == pytest.approx(254)


def test_a_diagonal_cut_counts_the_triangle(counting_raster: Path) -> None:
    with PopulationRaster(counting_raster) as raster:
        # the lower-left triangle of cell (row 9, col 0) is half of it: 900 / 2
        triangle = shapely.Polygon([(46.0, 39.0), (46.1, 39.0), (46.0, 39.1)])
        assert raster.sums([triangle])[0] == pytest.approx(450)


def test_a_strip_thinner_than_a_cell_is_not_lost(write_raster: WriteRaster) -> None:
    path = write_raster(np.full((4, 4), 1000, dtype="float32"), 46.0, 40.0, 0.1)
    # 0.01 degree wide strip along the middle of column 1, missing every cell centre: 4 cells * 1000 * 0.1
    with PopulationRaster(path) as raster:
        assert raster.sums([shapely.box(46.12, 39.6, 46.13, 40.0)])[0] == pytest.approx(400)


def test_coverage_fractions_add_up_to_the_area() -> None:
    disc = shapely.Point(5, 5).buffer(3.3, quad_segs=32)
    fractions = coverage_fractions(disc, from_origin(0, 10, 1, 1), (10, 10))
    assert fractions.sum() == pytest.approx(disc.area, rel=1e-12)
    assert fractions.max() == 1.0 and fractions.min() == 0.0


def test_nodata_cells_count_as_zero(write_raster: WriteRaster) -> None:
    values = np.array([[5.0, -99.0], [5.0, 5.0]], dtype="float32")
    path = write_raster(values, 46.0, 40.0, 0.5, nodata=-99.0)
    with PopulationRaster(path) as raster:
        assert raster.sums([shapely.box(46.0, 39.0, 47.0, 40.0)])[0] == pytest.approx(15)


def test_a_projected_raster_is_summed_in_its_own_crs(write_raster: WriteRaster) -> None:
    # UTM 38N raster, 1 km cells of 1 person each; a lon/lat polygon projected there covers its area in km2
    path = write_raster(np.ones((200, 200), dtype="float32"), 600_000, 4_450_000, 1000, crs="EPSG:32638")
    from pyproj import Transformer

    back = Transformer.from_crs("EPSG:32638", "EPSG:4326", always_xy=True)
    square_utm = shapely.box(650_000, 4_350_000, 680_500, 4_380_000)  # 30.5 km x 30 km
    square = shapely.transform(
        shapely.segmentize(square_utm, 500), lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1]))
    )
    with PopulationRaster(path) as raster:
        assert raster.sums([square])[0] == pytest.approx(915, rel=1e-4)


def test_polygons_off_the_raster_sum_to_zero(counting_raster: Path) -> None:
    with PopulationRaster(counting_raster) as raster:
        assert raster.sums([shapely.box(10, 10, 11, 11), None, shapely.Polygon()]).tolist() == [0, 0, 0]


def test_a_window_larger_than_the_limit_is_refused(counting_raster: Path) -> None:
    with PopulationRaster(counting_raster, Limits(max_raster_cells=20)) as raster:
        with pytest.raises(LimitExceeded, match="raster cells"):
            raster.sums([shapely.box(46.0, 39.0, 47.0, 40.0)])
