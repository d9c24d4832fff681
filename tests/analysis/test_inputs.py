"""Reading analysis input: GeoJSON shapes and CRSs, CSV columns, precision codes, limits."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from pyproj import Transformer

from app.analysis.errors import AnalysisError, InvalidCRS, InvalidGeometry, InvalidInput, LimitExceeded, MalformedInput
from app.analysis.inputs import (
    WHERE_PREC_RADIUS_M,
    parse_json,
    read_csv_points,
    read_features,
    read_geojson_points,
)
from app.analysis.limits import Limits

BOWTIE = {"type": "Polygon", "coordinates": [[[46, 39], [47, 40], [47, 39], [46, 40], [46, 39]]]}
SQUARE = {"type": "Polygon", "coordinates": [[[46, 39], [47, 39], [47, 40], [46, 40], [46, 39]]]}


def _fc(*geometries: dict, **extra) -> dict:
    features = [{"type": "Feature", "id": f"f{i}", "geometry": g, "properties": {}} for i, g in enumerate(geometries)]
    return {"type": "FeatureCollection", "features": features, **extra}


def test_a_bare_geometry_is_one_feature() -> None:
    features = read_features(SQUARE, Limits())
    assert features.ids == [0] and features.geoms[0].area == 1.0


def test_feature_ids_and_properties_are_kept() -> None:
    obj = _fc(SQUARE)
    obj["features"][0]["properties"] = {"site": "camp 3"}
    features = read_features(obj, Limits())
    assert features.ids == ["f0"] and features.properties == [{"site": "camp 3"}]


def test_invalid_geometry_names_the_reason() -> None:
    with pytest.raises(InvalidGeometry, match="Self-intersection") as caught:
        read_features(_fc(SQUARE, BOWTIE), Limits())
    assert caught.value.feature == "'f1'"


def test_repair_makes_the_bowtie_valid() -> None:
    features = read_features(_fc(BOWTIE), Limits(), repair=True)
    assert features.geoms[0].is_valid and features.geoms[0].area == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1, 2], "expected a GeoJSON object"),
        ({"type": "Circle"}, "unknown GeoJSON type 'Circle'"),
        ({"type": "FeatureCollection"}, "no 'features' array"),
        ({"type": "FeatureCollection", "features": [{"type": "Polygon"}]}, r"features\[0\] is not a GeoJSON Feature"),
        ({"type": "Feature", "geometry": None}, "geometry must be a GeoJSON geometry"),
        ({"type": "Polygon", "coordinates": [[[46, 39], [47]]]}, "malformed Polygon coordinates"),
        ({"type": "Feature", "geometry": SQUARE, "properties": [1]}, "'properties' must be an object"),
    ],
)
def test_malformed_geojson_names_the_problem(obj: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_features(obj, Limits())


def test_lon_lat_out_of_range_asks_for_a_crs() -> None:
    with pytest.raises(InvalidCRS, match="declare the crs"):
        read_features({"type": "Point", "coordinates": [500000, 4400000]}, Limits())


def test_a_declared_utm_crs_is_transformed() -> None:
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32638", always_xy=True)
    ring = [list(to_utm.transform(x, y)) for x, y in SQUARE["coordinates"][0]]
    obj = _fc({"type": "Polygon", "coordinates": [ring]}, crs={"type": "name", "properties": {"name": "EPSG:32638"}})
    bounds = read_features(obj, Limits()).geoms[0].bounds
    assert bounds == pytest.approx((46, 39, 47, 40), abs=1e-9)


def test_declared_epsg_4326_is_latitude_first() -> None:
    obj = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}},
        "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [39.5, 46.5]}, "properties": {}}],
    }
    points = read_geojson_points(obj, Limits())
    assert (points.lon[0], points.lat[0]) == pytest.approx((46.5, 39.5))


@pytest.mark.parametrize("crs", [{"type": "name", "properties": {"name": "EPSG:999999"}}, {"type": "link"}])
def test_unknown_or_malformed_crs(crs: dict) -> None:
    with pytest.raises(InvalidCRS):
        read_features(_fc(SQUARE, crs=crs), Limits())


def test_limits_on_features_and_vertices() -> None:
    with pytest.raises(LimitExceeded, match="input features: 2 > limit 1"):
        read_features(_fc(SQUARE, SQUARE), Limits(max_features=1))
    with pytest.raises(LimitExceeded, match="vertices"):
        read_features(_fc(SQUARE, SQUARE), Limits(max_vertices=9))


def test_parse_json_reports_empty_and_broken_bodies() -> None:
    with pytest.raises(MalformedInput, match="empty"):
        parse_json(b"  ")
    with pytest.raises(MalformedInput, match="not valid JSON"):
        parse_json(b"{'single': 'quotes'}")


def test_csv_points_with_precision_columns() -> None:
    body = b"id,Latitude,Longitude,precision_m,where_prec\na,39.5,46.5,,2\nb,39.6,46.6,300,2\nc,39.7,46.7,,\n"
    points = read_csv_points(body, Limits())
    assert points.ids == ["a", "b", "c"]
    assert points.radius_m.tolist() == [25_000, 300, 0]
    assert list(points.properties.columns) == ["id", "Latitude", "Longitude", "precision_m", "where_prec"]


def test_where_prec_codes_map_to_documented_radii() -> None:
    body = "lat,lon,where_prec\n" + "".join(f"39.5,46.5,{code}\n" for code in range(1, 8))
    points = read_csv_points(body.encode(), Limits())
    assert points.radius_m.tolist() == [WHERE_PREC_RADIUS_M[c] for c in range(1, 8)]
    assert points.radius_m[0] == 0 and points.radius_m[1] == 25_000


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"", MalformedInput, "empty"),
        (b"x,y\n1,2\n", InvalidInput, "needs a latitude and a longitude column"),
        (b"lat,lon\n39.5,46.5\nnorth,46.5\n", InvalidInput, "row 2: column 'lat' is not a number: 'north'"),
        (b"lat,lon,where_prec\n39.5,46.5,9\n", InvalidInput, "where_prec '9' is not a UCDP code"),
        (b"lat,lon,precision_m\n39.5,46.5,-4\n", InvalidInput, "precision_m must be between"),
        (b"lat,lon\n95,46.5\n", InvalidCRS, "not a longitude/latitude in range"),
        (b'lat,lon\n"39.5,46.5\n', MalformedInput, "CSV does not parse"),
        (b"lat,lon\n39.5,\xff\n", MalformedInput, "not UTF-8"),
    ],
)
def test_bad_csv_names_the_problem(body: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        read_csv_points(body, Limits())


def test_row_limit() -> None:
    with pytest.raises(LimitExceeded, match="points"):
        read_csv_points(b"lat,lon\n" + b"39.5,46.5\n" * 11, Limits(max_rows=10))


def test_geojson_points_only() -> None:
    with pytest.raises(InvalidInput, match="Point features"):
        read_geojson_points(_fc(SQUARE), Limits())


def test_geojson_points_with_where_prec_property() -> None:
    fc = orjson.loads(orjson.dumps(_fc({"type": "Point", "coordinates": [46.5, 39.5]})))
    fc["features"][0]["properties"] = {"where_prec": 3}
    points = read_geojson_points(fc, Limits())
    assert points.radius_m.tolist() == [50_000.0] and np.isclose(points.lon[0], 46.5)


def test_a_blank_optional_cell_is_a_missing_value() -> None:
    """Issue 13: one blank ``precision_m`` cell answered 500 (the radii array was read-only)."""
    points = read_csv_points(b"id,latitude,longitude,precision_m\nA,39.6,47.1,\nB,39.7,47.0,500\n", Limits())
    assert points.radius_m is not None and points.radius_m.tolist() == [0.0, 500.0]


@pytest.mark.parametrize(
    "body",
    [
        b'{"x": [5848, 368], "type": []}',  # found by schemathesis: a list where the GeoJSON type goes
        b'{"type": "Feature", "geometry": {"type": {"a": 1}, "coordinates": [46, 39]}}',
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": [1]}}]}',
    ],
)
def test_a_type_that_is_not_a_string_is_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(AnalysisError):
        read_features(body, Limits())


def test_a_crs_whose_properties_are_not_an_object_is_refused() -> None:
    body = b'{"type": "Point", "coordinates": [46, 39], "crs": {"type": "name", "properties": [1]}}'
    with pytest.raises(AnalysisError):
        read_features(body, Limits())
