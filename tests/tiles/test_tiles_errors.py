"""Tile requests that cannot be served: 404 for what is outside the tileset, 400 for bad parameters."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

TILE = "/collections/seven-districts/tiles/WebMercatorQuad"


@pytest.mark.parametrize(
    ("path", "named"),
    [
        (f"{TILE}/19/0/0", "tileMatrix 19 is outside 0..18"),
        (f"{TILE}/3/8/0", "tileRow 8 is outside 0..7"),
        (f"{TILE}/3/0/-1", "tileCol -1 is outside 0..7"),
        ("/collections/seven-districts/tiles/WorldCRS84Quad/0/0/0", "offered: WebMercatorQuad"),
        ("/collections/nowhere/tiles/WebMercatorQuad/0/0/0", "'nowhere' not found"),
        ("/tileMatrixSets/NZTM2000", "offered: WebMercatorQuad"),
    ],
)
def test_outside_the_tileset_is_404_naming_the_value(client: TestClient, path: str, named: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert named in response.json()["description"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "tileMatrix"),
        ("?bbox=1,2,3,4", "bbox"),
        ("?filter=nosuch%20%3D%201", "filter"),
        ("?filter=name%20%3D", "filter"),
        ("?datetime=2020-13-01", "datetime"),
        ("?filter=name%3D%27x%27&filter-crs=EPSG:3857", "filter-crs"),
    ],
)
def test_bad_parameters_are_400(client: TestClient, query: str, parameter: str) -> None:
    z = "a" if parameter == "tileMatrix" else "8"
    response = client.get(f"{TILE}/{z}/97/161{query}")
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter
