"""Every error path answers 4xx with a JSON body naming the problem, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from ogc_models import ErrorBody


@pytest.mark.parametrize(
    ("url", "status", "names"),
    [
        ("/collections/nowhere", 404, "nowhere"),
        ("/collections/nowhere/items", 404, "nowhere"),
        ("/collections/tiny/items/zzz", 404, "zzz"),
        ("/collections/tiny/items?colour=red", 400, "colour"),
        ("/collections?limit=3", 400, "limit"),
        ("/collections/tiny/items/a?bbox=1,2,3,4", 400, "bbox"),
        ("/collections/tiny/items?limit=0", 400, "limit"),
        ("/collections/tiny/items?limit=100001", 400, "limit"),
        ("/collections/tiny/items?limit=ten", 400, "limit"),
        ("/collections/tiny/items?offset=-1", 400, "offset"),
        ("/collections/tiny/items?bbox=1,2,3", 400, "bbox"),
        ("/collections/tiny/items?bbox=a,b,c,d", 400, "bbox"),
        ("/collections/tiny/items?bbox=10,50,20,40", 400, "bbox"),
        ("/collections/tiny/items?bbox=0,0,1,100", 400, "bbox"),
        ("/collections/tiny/items?bbox=1,2,3,4&bbox-crs=EPSG:2154", 400, "bbox-crs"),
        ("/collections/tiny/items?bbox-crs=EPSG:4326", 400, "bbox-crs"),
        ("/collections/tiny/items?datetime=yesterday", 400, "datetime"),
        ("/collections/tiny/items?datetime=2020-12-01/2020-01-01", 400, "datetime"),
        ("/collections/tiny/items?datetime=2020-01-01T10:00:00", 400, "datetime"),
        ("/collections/tiny/items?datetime=2020-01-01TT", 400, "datetime"),
        ("/collections/tiny/items?datetime=2020-13-01T", 400, "datetime"),
        ("/collections/tiny/items?datetime=2020-01-01T/2019-01-01T", 400, "datetime"),
        ("/collections/tiny/items?datetime=%D9%A2020-01-01", 400, "datetime"),
        ("/collections/tiny/items?crs=EPSG:32638", 400, "crs"),
        ("/collections/tiny/items?f=kml", 400, "f"),
        ("/collections/tiny/items?f=gpkg", 400, "f"),
        ("/collections/tiny/items?zoom=99", 400, "zoom"),
        ("/collections/tiny/items?population=many", 400, "population"),
        ("/collections/tiny/items?geometry=POINT(1 2)", 400, "geometry"),
        ("/collections/tiny/items?filter=name%20%3D", 400, "filter"),
        ("/collections/tiny/items?filter=colour%20%3D%20'red'", 400, "colour"),
        ("/collections/tiny/items?filter=population%20%3D%20'many'", 400, "population"),
        ("/collections/tiny/items?filter=name%20LIKE%203", 400, "filter"),
        ("/collections/tiny/items?filter=T_MEETS(valid_to,%20DATE('2020-01-01'))", 400, "T_MEETS"),
        ("/collections/tiny/items?filter=S_INTERSECTS(geometry,%20POINT(1))", 400, "filter"),
        ("/collections/tiny/items?filter=name%3D'a'&filter-lang=cql2-json", 400, "filter-lang"),
        ("/collections/tiny/items?filter=name%3D'a'&filter-crs=EPSG:3857", 400, "filter-crs"),
        ("/no/such/path", 404, "/no/such/path"),
    ],
)
def test_bad_requests_name_the_problem(tiny_client: TestClient, url: str, status: int, names: str) -> None:
    response = tiny_client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = ErrorBody.model_validate(response.json())
    assert names in body.description or names == body.parameter
    assert "Traceback" not in response.text


def test_absurdly_long_filter_is_refused(tiny_client: TestClient) -> None:
    response = tiny_client.get("/collections/tiny/items", params={"filter": "population = 1 OR " * 3000 + "1 = 1"})
    assert response.status_code == 400
    assert "filter" in response.json()["description"]


def test_unexpected_errors_are_json_500_without_traceback(tiny_client: TestClient) -> None:
    app = tiny_client.app
    registry = app.state.collections  # type: ignore[attr-defined]
    broken = registry.get("tiny")
    original = broken.items
    broken.items = lambda query: 1 / 0  # a backend bug
    try:
        with TestClient(app, raise_server_exceptions=False) as raw:
            raw.app.state.collections = registry  # type: ignore[attr-defined]
            response = raw.get("/collections/tiny/items")
    finally:
        broken.items = original
    assert response.status_code == 500
    assert response.json()["code"] == "ServerError"
    assert "ZeroDivision" not in response.text
