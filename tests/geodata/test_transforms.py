"""Unit tests of the pure geometry steps, on small fixtures with answers known by construction."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, box

from geodata import transforms as tf
from geodata.errors import BuildCheckFailed

UTM = "EPSG:32638"


def test_area_km2_of_metric_square_is_exact() -> None:
    squares = gpd.GeoSeries([box(500_000, 4_400_000, 503_000, 4_402_000)], crs=UTM)
    # 3 km x 2 km in UTM; UTM's scale factor near the central meridian is 0.9996, so the true area is
    # 6 / 0.9996**2 km2.
    assert tf.area_km2(squares).iloc[0] == pytest.approx(6 / 0.9996**2, rel=1e-3)


def test_length_km_is_geodesic() -> None:
    one_degree_of_latitude = gpd.GeoSeries([LineString([(46.0, 39.0), (46.0, 40.0)])], crs="EPSG:4326")
    assert tf.length_km(one_degree_of_latitude).iloc[0] == pytest.approx(111.04, abs=0.05)


def test_close_lines_snaps_gaps_below_tolerance() -> None:
    pieces = [LineString([(0, 0), (100, 0), (100, 100)]), LineString([(100.4, 100), (0, 100), (0.2, 0.3)])]
    poly = tf.close_lines_into_polygon(pieces, snap_tolerance=1.0)
    assert poly.is_valid
    assert poly.area == pytest.approx(10_000, rel=0.01)


def test_close_lines_names_loose_ends_above_tolerance() -> None:
    pieces = [LineString([(0, 0), (100, 0), (100, 100)]), LineString([(100, 100), (0, 100), (0, 30)])]
    with pytest.raises(ValueError, match="no partner within 1.0"):
        tf.close_lines_into_polygon(pieces, snap_tolerance=1.0)


def _two_countries() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Country A west of x=1, B east of it; the precise border wiggles, the coarse polygons are straight."""
    border = LineString([(1.0, -1.0), (1.05, 0.5), (0.95, 1.5), (1.0, 3.0)])
    lines = gpd.GeoDataFrame({"adm0_a3_l": ["BBB"], "adm0_a3_r": ["AAA"]}, geometry=[border], crs="EPSG:4326")
    coarse = gpd.GeoDataFrame(
        {"ADM0_A3": ["AAA", "BBB"]}, geometry=[box(-1, -1, 1, 3), box(1, -1, 3, 3)], crs="EPSG:4326"
    )
    return lines, coarse


def test_country_faces_follow_precise_line() -> None:
    lines, coarse = _two_countries()
    faces = tf.country_faces(lines, coarse, (0.0, 0.0, 2.0, 2.0))
    assert set(faces) == {"AAA", "BBB"}
    assert faces["AAA"].contains(shapely.Point(1.02, 0.5))  # east of x=1 but west of the precise line
    assert faces["BBB"].contains(shapely.Point(0.98, 1.5))
    assert faces["AAA"].union(faces["BBB"]).area == pytest.approx(4.0)


def test_country_faces_rejects_extent_the_lines_do_not_cut() -> None:
    lines, coarse = _two_countries()
    coarse = coarse.assign(geometry=[box(-1, -1, 1.5, 3), box(1.5, -1, 3, 3)])  # coarse border 0.5 deg off
    with pytest.raises(BuildCheckFailed, match="only"):
        tf.country_faces(lines, coarse, (0.0, 0.0, 2.0, 2.0))


def test_clip_to_country_reports_removed_area() -> None:
    lines, coarse = _two_countries()
    faces = tf.country_faces(lines, coarse, (0.0, 0.0, 2.0, 2.0))
    zone = gpd.GeoDataFrame({"id": ["z"]}, geometry=[box(0.5, 0.2, 1.5, 0.8)], crs="EPSG:4326")
    clipped = tf.clip_to_country(zone, faces, keep="AAA")
    kept = tf.area_km2(clipped.geometry).iloc[0]
    expected_lost = tf.area_km2(gpd.GeoSeries([zone.geometry.iloc[0].intersection(faces["BBB"])], crs=4326)).iloc[0]
    assert clipped["removed_bbb_km2"].iloc[0] == pytest.approx(expected_lost, abs=0.01)
    assert kept + expected_lost == pytest.approx(tf.area_km2(zone.geometry).iloc[0], rel=1e-6)


def test_subtract_records_removed_area() -> None:
    zones = gpd.GeoDataFrame({"id": ["a"]}, geometry=[box(0, 0, 4, 4)], crs=UTM)
    out = tf.subtract(zones, box(0, 0, 2, 4), "removed")
    assert out.geometry.iloc[0].equals(box(2, 0, 4, 4))
    assert out["removed"].iloc[0] == pytest.approx(0.0, abs=0.01)  # 8 m2 rounds to 0.00 km2


def test_one_sided_bands_straight_line() -> None:
    # A 40 km west-to-east line in UTM: left of its direction is north.
    line = LineString([(480_000, 4_400_000), (520_000, 4_400_000)])
    lines = gpd.GeoDataFrame({"adm0_a3_l": ["NNN"], "adm0_a3_r": ["SSS"]}, geometry=[line], crs=UTM)
    bands = tf.one_sided_bands(lines, [5, 10], {"NNN": "N", "SSS": "S"}).to_crs(UTM)
    for _, band in bands.iterrows():
        assert band.geometry.area / 1e6 == pytest.approx(40 * band.width_km, rel=1e-3)
        inner = band.geometry.representative_point()
        assert (inner.y > 4_400_000) == (band.side == "N")


def test_one_sided_bands_nest_on_a_winding_line() -> None:
    t = np.linspace(0, 6 * np.pi, 400)
    line = LineString(np.column_stack([480_000 + t * 5_000, 4_400_000 + 3_000 * np.sin(t)]))
    lines = gpd.GeoDataFrame({"adm0_a3_l": ["NNN"], "adm0_a3_r": ["SSS"]}, geometry=[line], crs=UTM)
    bands = tf.one_sided_bands(lines, [2, 5, 10], {"NNN": "N", "SSS": "S"}).to_crs(UTM)
    for side in ("N", "S"):
        ordered = bands[bands.side == side].sort_values("width_km").geometry.to_list()
        for narrow, wide in zip(ordered, ordered[1:], strict=False):
            assert narrow.difference(wide).area < 10.0  # m2
    north = bands[(bands.side == "N") & (bands.width_km == 2)].geometry.iloc[0]
    south = bands[(bands.side == "S") & (bands.width_km == 2)].geometry.iloc[0]
    assert north.intersection(south).area < 10.0


def test_max_excursion() -> None:
    border = LineString([(0, -10), (0, 10)])
    foreign = box(0, -10, 10, 10)
    assert tf.max_excursion_m(box(-5, -1, 3, 1), foreign, border) == pytest.approx(3.0)
    assert tf.max_excursion_m(box(-5, -1, -1, 1), foreign, border) == 0.0
