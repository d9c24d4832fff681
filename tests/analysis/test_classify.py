"""Point classification: edges with and without a precision radius, exactness of the grids, real places."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from analysis_helpers import place
from pyproj import Transformer

from app.analysis.classify import Membership, classify
from app.layerstore.zones import ZoneIndex, metric_xy, to_metric

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
_FROM_UTM = Transformer.from_crs("EPSG:32638", "EPSG:4326", always_xy=True)


def _offset_from_east_edge(index: ZoneIndex, metres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points ``metres`` east of the middle of the 'big' square's east edge (negative: inside), in lon/lat."""
    w, s, e, n = index.layer("big").geoms[0].bounds
    x, y = _TO_UTM.transform(e, (s + n) / 2)
    lon, lat = _FROM_UTM.transform(x + metres, np.full(metres.shape, y))
    return np.asarray(lon), np.asarray(lat)


@pytest.mark.parametrize(
    ("offset_m", "radius_m", "expected"),
    [
        (-10, 0, Membership.INSIDE),
        (10, 0, Membership.OUTSIDE),
        (-10, 100, Membership.POSSIBLY_INSIDE),
        (10, 100, Membership.POSSIBLY_INSIDE),
        (-1000, 100, Membership.INSIDE),
        (1000, 100, Membership.OUTSIDE),
        (1000, 25_000, Membership.POSSIBLY_INSIDE),
    ],
)
def test_membership_near_an_edge(
    square_zones: ZoneIndex, offset_m: float, radius_m: float, expected: Membership
) -> None:
    lon, lat = _offset_from_east_edge(square_zones, np.array([float(offset_m)]))
    result = classify(square_zones, lon, lat, np.array([float(radius_m)]), ["big"], distances=False)
    assert Membership(int(result.membership["big"][0, 0])) is expected
    assert bool(result.contains["big"][0, 0]) is (offset_m < 0)


def test_without_radius_membership_is_containment(square_zones: ZoneIndex) -> None:
    lon, lat = _offset_from_east_edge(square_zones, np.array([-3.0, 3.0]))
    result = classify(square_zones, lon, lat, None, distances=False)
    assert result.membership["big"][0].tolist() == [Membership.INSIDE, Membership.OUTSIDE]


def test_grid_lookup_equals_shapely_on_random_points(zone_index: ZoneIndex) -> None:
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(44.8, 48.2, 200_000), rng.uniform(38.4, 40.6, 200_000)
    result = classify(zone_index, lon, lat, distances=False)
    for layer in zone_index.layers.values():
        for z, geom in enumerate(layer.geoms):
            assert np.array_equal(result.contains[layer.id][z], shapely.intersects_xy(geom, lon, lat)), (layer.id, z)


def test_radius_membership_equals_shapely_on_random_points(zone_index: ZoneIndex) -> None:
    rng = np.random.default_rng(11)
    n = 30_000
    lon, lat = rng.uniform(44.5, 48.5, n), rng.uniform(38.3, 41.3, n)
    radius = rng.choice([0.0, 500.0, 5_000.0, 25_000.0, 150_000.0], size=n)
    result = classify(zone_index, lon, lat, radius, ["seven-districts", "iran-border-zone"], distances=False)
    pts = shapely.points(*metric_xy(lon, lat))
    for layer_id in ("seven-districts", "iran-border-zone"):
        layer = zone_index.layer(layer_id)
        for z, geom in enumerate(layer.geoms):
            inside = shapely.intersects_xy(geom, lon, lat)
            near = (radius > 0) & shapely.dwithin(shapely.boundary(layer.geoms_metric[z]), pts, radius)
            expected = np.where(
                near, Membership.POSSIBLY_INSIDE, np.where(inside, Membership.INSIDE, Membership.OUTSIDE)
            )
            assert np.array_equal(result.membership[layer_id][z], expected), (layer_id, z)


def test_points_on_zone_vertices_count_as_inside(zone_index: ZoneIndex) -> None:
    geom = zone_index.layer("nagorno-karabakh").geoms[0]
    xy = shapely.get_coordinates(geom)[::7]
    result = classify(zone_index, xy[:, 0], xy[:, 1], layers=["nagorno-karabakh"], distances=False)
    assert result.contains["nagorno-karabakh"][0].all()


def test_distances_equal_geos_distances(zone_index: ZoneIndex, places: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(43.0, 50.0, 20_000), rng.uniform(37.5, 42.0, 20_000)
    result = classify(zone_index, lon, lat)
    pts = shapely.points(*metric_xy(lon, lat))
    np.testing.assert_allclose(result.iran_border_km, shapely.distance(zone_index.iran_border, pts) / 1000, atol=1e-6)
    np.testing.assert_allclose(
        result.line_of_contact_km, shapely.distance(zone_index.line_of_contact, pts) / 1000, atol=1e-6
    )
    place_pts = to_metric(places.geometry.values)
    nearest = shapely.distance(place_pts[None, :], pts[:, None]).min(axis=1) / 1000
    np.testing.assert_allclose(result.nearest_place_km, nearest, atol=1e-6)


def _zone_ids(index: ZoneIndex, result, layer: str) -> set[str]:
    zones = index.layer(layer).zones
    return {zones[z].id for z in np.flatnonzero(result.contains[layer][:, 0])}


def test_horadiz_is_in_fuzuli_and_within_5_km_of_iran(zone_index: ZoneIndex, places: gpd.GeoDataFrame) -> None:
    lon, lat = place(places, 148003)  # Horadiz
    result = classify(zone_index, np.array([lon]), np.array([lat]))
    assert _zone_ids(zone_index, result, "seven-districts") == {"AZ-FUZ"}
    assert {"AZ-5km", "AZ-10km", "AZ-20km"} <= _zone_ids(zone_index, result, "iran-border-zone")
    assert result.iran_border_km[0] < 5
    assert zone_index.places["id"].iloc[int(result.nearest_place[0])] == "148003"


@pytest.mark.parametrize("geonameid", [146970, 147105], ids=["Khankendi", "Shusha"])
def test_khankendi_and_shusha_are_in_the_former_oblast(
    zone_index: ZoneIndex, places: gpd.GeoDataFrame, geonameid: int
) -> None:
    lon, lat = place(places, geonameid)
    result = classify(zone_index, np.array([lon]), np.array([lat]))
    assert _zone_ids(zone_index, result, "nagorno-karabakh") == {"nkao"}
    assert _zone_ids(zone_index, result, "seven-districts") == set()
    assert result.iran_border_km[0] > 50


def test_goris_in_armenia_is_in_no_zone(zone_index: ZoneIndex, places: gpd.GeoDataFrame) -> None:
    lon, lat = place(places, 174895)  # Goris
    result = classify(zone_index, np.array([lon]), np.array([lat]))
    # no conflict zone; only its administrative unit (every point of the map has exactly one)
    assert all(not matrix.any() for layer, matrix in result.contains.items() if layer != "admin-units")
    assert _zone_ids(zone_index, result, "admin-units") == {"ARM"}


def test_progress_reports_every_point(square_zones: ZoneIndex) -> None:
    seen: list[int] = []
    n = 600_000
    classify(square_zones, np.full(n, 46.5), np.full(n, 39.5), distances=False, on_progress=seen.append)
    assert sum(seen) == n and len(seen) > 1
