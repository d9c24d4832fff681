"""The admin-units layer: every point of the map's extent in exactly one named unit, gaps measured."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geodata.build import read_manifest
from geodata.errors import BuildCheckFailed
from geodata.units import fill_gaps, land_by_country, tile_units

EXTENT = (44.0, 38.0, 49.5, 41.5)
METRIC = "EPSG:32638"
EQUAL_AREA = "EPSG:6933"
FUZULI = (47.14529, 39.60094)  # GeoNames 148106


def _units(data_dir: Path, layer: str = "admin-units") -> gpd.GeoDataFrame:
    return gpd.read_file(data_dir / "layers" / f"{layer}.gpkg", layer=layer)


def _hits(units: gpd.GeoDataFrame, points: np.ndarray) -> np.ndarray:
    """How many units contain each point."""
    tree = shapely.STRtree(units.geometry.to_numpy())
    point_idx, _ = tree.query(points, predicate="within")
    return np.bincount(point_idx, minlength=len(points))


def test_dense_grid_falls_in_exactly_one_unit(built_data_dir: Path) -> None:
    units = _units(built_data_dir)
    west, south, east, north = EXTENT
    # cell centres of a 0.01 degree grid (about 0.9 km x 1.1 km): 550 x 350 = 192,500 points
    xs = np.arange(west + 0.005, east, 0.01)
    ys = np.arange(south + 0.005, north, 0.01)
    grid = shapely.points(*np.meshgrid(xs, ys))
    hits = _hits(units, grid.ravel())
    assert hits.min() == 1 and hits.max() == 1, (np.count_nonzero(hits == 0), np.count_nonzero(hits > 1))


def test_display_variants_still_tile_and_are_valid(built_data_dir: Path) -> None:
    west, south, east, north = EXTENT
    grid = shapely.points(*np.meshgrid(np.arange(west + 0.005, east, 0.02), np.arange(south + 0.005, north, 0.02)))
    for zoom in read_manifest(built_data_dir)["layers"]["admin-units"]["variants"]:
        variant = gpd.read_file(built_data_dir / "layers" / "admin-units.gpkg", layer=f"admin-units_z{zoom}")
        assert variant.is_valid.all(), zoom  # z10 had a self-intersection made by reprojection; repaired
        hits = _hits(variant, grid.ravel())
        assert hits.min() == 1 and hits.max() == 1, zoom


def test_gap_and_overlap_areas_are_measured_and_tiny(built_data_dir: Path) -> None:
    ea = _units(built_data_dir).to_crs(EQUAL_AREA).geometry
    box = gpd.GeoSeries([shapely.box(*EXTENT)], crs=4326).to_crs(EQUAL_AREA).iloc[0]
    union = shapely.union_all(ea.to_numpy())
    gap_km2 = box.difference(union).area / 1e6
    overlap_km2 = (ea.area.sum() - union.area) / 1e6
    assert gap_km2 < 0.01 and overlap_km2 < 0.01, (gap_km2, overlap_km2)
    assert union.area == pytest.approx(box.area, rel=1e-7)


def test_fuzuli_box_had_a_gap_and_now_has_none(built_data_dir: Path) -> None:
    """The issue's case: ~8% of a 20 km box around Fuzuli was in neither the oblast nor a district."""
    centre = gpd.GeoSeries([shapely.Point(*FUZULI)], crs=4326).to_crs(METRIC).iloc[0]
    box = gpd.GeoSeries([centre.buffer(10_000, cap_style="square")], crs=METRIC).to_crs(EQUAL_AREA).iloc[0]
    zones = [*_units(built_data_dir, "nagorno-karabakh").geometry, *_units(built_data_dir, "seven-districts").geometry]
    old = shapely.union_all(gpd.GeoSeries(zones, crs=4326).to_crs(EQUAL_AREA).to_numpy())
    old_gap = 1 - old.intersection(box).area / box.area
    assert 0.05 < old_gap < 0.12  # measured 8.4%
    new = shapely.union_all(_units(built_data_dir).to_crs(EQUAL_AREA).geometry.to_numpy())
    assert new.intersection(box).area / box.area == pytest.approx(1.0, abs=1e-6)
    # a point 5 km east of Fuzuli town, in that former gap, now has exactly one unit
    east = gpd.GeoSeries([shapely.Point(centre.x + 5_000, centre.y)], crs=METRIC).to_crs(4326).iloc[0]
    assert _hits(_units(built_data_dir), np.array([east]))[0] == 1


def test_units_are_named_and_keep_the_reference_zones(built_data_dir: Path) -> None:
    units = _units(built_data_dir).set_index("id")
    assert units["name"].notna().all()
    assert set(units[units.kind == "country"].index) == {"ARM", "IRN", "GEO", "TUR", "RUS"}
    assert units.loc["outside", "kind"] == "outside"  # the Caspian Sea, reported as outside the study area
    assert units.loc["AZE-tartar-district", "name"] == "Tartar District"
    districts = _units(built_data_dir, "seven-districts").set_index("id")
    for code, row in districts.iterrows():
        # the district layer's polygon lies within its unit (which adds only filled gaps)
        assert row.geometry.difference(units.loc[code].geometry).area < 1e-8, code
        assert units.loc[code, "area_km2"] >= row.area_km2 - 0.1
    assert "khankendi-city" not in " ".join(units.index)  # absorbed into the oblast
    manifest = read_manifest(built_data_dir)["layers"]["admin-units"]
    assert manifest["licence"]["name"] == "CC BY-SA 3.0"


def _lines(*coords: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.LineString(c) for c in coords], crs=4326)


def test_land_by_country_uses_the_coast_of_the_coarse_polygons() -> None:
    # two countries split by a precise line at x=1; the coarse polygons stop at x=2.5, sea beyond
    coarse = gpd.GeoDataFrame(
        {"ADM0_A3": ["AAA", "BBB"]}, geometry=[shapely.box(0, 0, 1.1, 2), shapely.box(0.9, 0, 2.5, 2)], crs=4326
    )
    land = land_by_country(_lines([(1, 0), (1, 2)]), coarse, (0, 0, 3, 2))
    assert land["AAA"].area == pytest.approx(2.0) and land["BBB"].area == pytest.approx(3.0)


def test_land_by_country_refuses_an_ambiguous_face() -> None:
    coarse = gpd.GeoDataFrame(
        {"ADM0_A3": ["AAA", "BBB"]}, geometry=[shapely.box(0, 0, 1, 2), shapely.box(1, 0, 2, 2)], crs=4326
    )
    with pytest.raises(BuildCheckFailed, match="only 50% one country"):
        land_by_country(_lines([(0.5, 5), (0.5, 6)]), coarse, (0, 0, 2, 2))


def test_fill_gaps_gives_a_gap_to_the_longest_neighbour() -> None:
    units = [{"id": "a", "geometry": shapely.box(0, 0, 1, 3)}, {"id": "b", "geometry": shapely.box(1.5, 0, 2, 1)}]
    fill_gaps(units, shapely.box(1, 0, 1.5, 3))  # touches a along 3, b along 1
    assert units[0]["geometry"].area == pytest.approx(4.5) and units[0]["gap_filled_km2"] > 0
    assert units[1]["geometry"].area == pytest.approx(0.5) and "gap_filled_km2" not in units[1]


def test_tile_units_covers_the_extent_with_no_overlap() -> None:
    land = {"AZE": shapely.box(0, 0, 2, 2), "ARM": shapely.box(2, 0, 3, 2)}
    refs = [{"id": "r", "name": "Ref", "kind": "district", "geometry": shapely.box(0, 0, 1, 1)}]
    rayons = [("Big District", shapely.box(0, 0, 2, 1.5)), ("Tiny District", shapely.box(1.999, 1.999, 2, 2))]
    units = tile_units(land, (0, 0, 4, 2), refs, rayons, {"ARM": "Armenia"}, min_part_km2=1.0)
    ids = [u["id"] for u in units]
    assert ids == ["r", "AZE-big-district", "ARM", "outside"]
    geoms = [u["geometry"] for u in units]
    assert sum(g.area for g in geoms) == pytest.approx(8.0)
    assert shapely.union_all(geoms).area == pytest.approx(8.0)
    # the strip above Big District (y 1.5-2, 1 km2-scale in degrees) went to its longest neighbour
    assert units[1]["gap_filled_km2"] > 0
