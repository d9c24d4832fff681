"""Overlap areas and shares on squares of exact area, population on a uniform raster, and real districts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
from analysis_helpers import ea_square
from pyproj import Geod

from app.analysis.errors import InvalidInput, UnknownLayer
from app.analysis.inputs import Features
from app.analysis.overlap import overlap
from app.analysis.population import PopulationRaster
from app.layerstore.zones import ZoneIndex


def _features(*geoms: shapely.Geometry) -> Features:
    return Features([f"f{i}" for i in range(len(geoms))], [{} for _ in geoms], np.array(geoms, dtype=object))


def _rows(result, layer: str) -> dict[str, dict]:
    return {row["zone_id"]: row for row in result.overlaps if row["layer"] == layer}


def test_the_fixture_squares_have_their_area_by_geodesy() -> None:
    # independent of the code under test: geodesic area of the densified square
    square = shapely.segmentize(ea_square(46.5, 39.5, 10), 0.001)
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(square)
    assert abs(area) / 1e6 == pytest.approx(100, rel=2e-4)


def test_input_straddling_two_zones_splits_in_half(square_zones: ZoneIndex) -> None:
    result = overlap(square_zones, _features(ea_square(46.5, 39.5, 10)), ["grid"])
    rows = _rows(result, "grid")
    assert set(rows) == {"west", "east"}
    for row in rows.values():
        assert row["area_km2"] == pytest.approx(50, rel=1e-6)
        assert row["share_of_input"] == pytest.approx(0.5, rel=1e-6)
        assert row["share_of_zone"] == pytest.approx(0.5, rel=1e-6)
    assert result.inputs[0]["area_km2"] == pytest.approx(100, rel=1e-6)


def test_input_inside_a_zone_is_all_of_the_input(square_zones: ZoneIndex) -> None:
    result = overlap(square_zones, _features(ea_square(46.5, 39.5, 10, dx_km=5)), ["big"])
    (row,) = result.overlaps
    assert row["share_of_input"] == pytest.approx(1.0, rel=1e-9)
    assert row["share_of_zone"] == pytest.approx(100 / 1600, rel=1e-6)


def test_zones_merely_touching_the_input_are_left_out(square_zones: ZoneIndex) -> None:
    result = overlap(square_zones, _features(ea_square(46.5, 39.5, 10, dx_km=-5)), ["grid"])
    assert [r["zone_id"] for r in result.overlaps] == ["west"]


def test_each_feature_gets_its_own_rows(square_zones: ZoneIndex) -> None:
    far = shapely.box(10, 10, 11, 11)
    result = overlap(square_zones, _features(ea_square(46.5, 39.5, 4, dx_km=5), far))
    assert {(r["feature"], r["layer"], r["zone_id"]) for r in result.overlaps} == {
        ("f0", "grid", "east"),
        ("f0", "big", "big"),
    }
    assert [i["id"] for i in result.inputs] == ["f0", "f1"]


def test_population_of_the_pieces_on_a_uniform_raster(
    square_zones: ZoneIndex, write_raster: Callable[..., Path]
) -> None:
    # 5 people per 0.01 degree cell; zone squares are lon/lat boxes, so the count is 5 * (box area / cell area)
    path = write_raster(np.full((200, 200), 5, dtype="float32"), 45.5, 40.5, 0.01)
    square = ea_square(46.5, 39.5, 10)
    with PopulationRaster(path) as raster:
        result = overlap(square_zones, _features(square), ["grid"], raster)
    rows = _rows(result, "grid")
    expected_half = 5 * square.area / 2 / 0.01**2
    assert rows["west"]["population"] == pytest.approx(expected_half, rel=1e-3)
    assert result.inputs[0]["population"] == pytest.approx(2 * expected_half, rel=1e-3)


def test_pieces_are_the_intersections(square_zones: ZoneIndex) -> None:
    result = overlap(square_zones, _features(ea_square(46.5, 39.5, 10)), ["grid"])
    pieces = result.as_dict(include_pieces=True)["pieces"]["features"]
    assert len(pieces) == 2
    union = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in pieces])
    assert union.symmetric_difference(ea_square(46.5, 39.5, 10)).area < 1e-12


def test_points_are_refused(square_zones: ZoneIndex) -> None:
    with pytest.raises(InvalidInput, match="classify"):
        overlap(square_zones, _features(shapely.Point(46.5, 39.5)))


def test_unknown_layer(square_zones: ZoneIndex) -> None:
    with pytest.raises(UnknownLayer, match="known: grid, big"):
        overlap(square_zones, _features(ea_square(46.5, 39.5, 10)), ["nope"])


def test_a_district_overlaps_itself_entirely(zone_index: ZoneIndex) -> None:
    layer = zone_index.layer("seven-districts")
    fuzuli = layer.geoms[[z.id for z in layer.zones].index("AZ-FUZ")]
    result = overlap(zone_index, _features(fuzuli), ["seven-districts"])
    rows = _rows(result, "seven-districts")
    assert rows["AZ-FUZ"]["share_of_input"] == pytest.approx(1.0, abs=1e-6)
    assert rows["AZ-FUZ"]["share_of_zone"] == pytest.approx(1.0, abs=1e-6)
    # neighbours share only an edge (or slivers of float noise)
    assert all(r["area_km2"] < 0.01 for z, r in rows.items() if z != "AZ-FUZ")


def test_the_oblast_area_is_near_the_published_figure(zone_index: ZoneIndex) -> None:
    # the NKAO covered 4,400 km2 (Great Soviet Encyclopedia); the built outline is a drawn approximation
    assert zone_index.layer("nagorno-karabakh").area_km2[0] == pytest.approx(4400, rel=0.05)
