"""No body reaches a 500: CSV and GeoJSON bodies through ``create_app`` answer 200 or a 4xx naming the problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testsupport import make_settings

from app.main import create_app

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

cells = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
    st.floats(38, 41, allow_nan=False).map(str),
    st.floats(38, 41, allow_nan=False).map(lambda v: str(v).replace(".", ",")),
    st.sampled_from(["", " ", "-", "=1+1", "@x", "1e400", "nan", '"', "\ufeff"]),
)
headers = st.lists(
    st.sampled_from(["lat", "lon", "Latitude", "LNG", "id", "precision_m", "where_prec", "name", "", "lat"]),
    max_size=6,
)


@pytest.fixture(scope="module")
def client(built_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(built_data_dir))) as test_client:
        yield test_client


def _check(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["description"], "a 4xx names the problem"


@FUZZ
@given(
    headers,
    st.lists(st.lists(cells, max_size=7), max_size=4),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["json", "csv", "geojson"]),
)
def test_csv_bodies_never_500(client, header, rows, sep, newline, fmt) -> None:
    body = newline.join(sep.join(r) for r in [header, *rows]).encode()
    params = {"format": fmt, "layers": "control-2020,seven-districts"}
    _check(client.post("/analysis/classify", params=params, content=body, headers={"content-type": "text/csv"}))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
points = st.builds(
    lambda xy, props, fid: {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": xy},
        "properties": props,
    },
    st.lists(st.floats(-200, 200, allow_nan=False), min_size=0, max_size=3),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(["precision_m", "where_prec", "zones", "id"]), json_values)),
    json_values,
)


@FUZZ
@given(
    st.one_of(json_values, st.lists(points, max_size=3).map(lambda fs: {"type": "FeatureCollection", "features": fs})),
    st.sampled_from(["json", "csv", "geojson"]),
)
def test_geojson_bodies_never_500(client, obj, fmt) -> None:
    body = json.dumps(obj).encode()
    params = {"format": fmt, "layers": "seven-districts"}
    _check(
        client.post("/analysis/classify", params=params, content=body, headers={"content-type": "application/geo+json"})
    )
    _check(
        client.post(
            "/analysis/overlap",
            params={"layers": "seven-districts"},
            content=body,
            headers={"content-type": "application/geo+json"},
        )
    )
