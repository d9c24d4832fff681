"""The tile matrix sets, tilesets and TileJSON documents, and how the OGC API documents link to them."""

from __future__ import annotations

import morecantile
from fastapi.testclient import TestClient

from app.tiles.documents import CONFORMANCE, REL_TILING_SCHEMES, REL_VECTOR_TILESETS

WMQ = "/collections/seven-districts/tiles/WebMercatorQuad"


def test_the_tile_matrix_set_is_morecantiles_webmercatorquad(client: TestClient) -> None:
    listed = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == ["WebMercatorQuad"]
    doc = client.get(listed[0]["links"][0]["href"]).json()
    doc.pop("links")
    tms = morecantile.TileMatrixSet.model_validate(doc)
    assert tms.tile(46.5, 39.6, 8) == morecantile.Tile(161, 97, 8)
    assert len(tms.tileMatrices) == 25


def test_conformance_and_links_announce_the_tiles(client: TestClient) -> None:
    assert set(CONFORMANCE) <= set(client.get("/conformance").json()["conformsTo"])
    landing = {link["rel"]: link["href"] for link in client.get("/").json()["links"]}
    assert landing[REL_TILING_SCHEMES].endswith("/tileMatrixSets")
    collection = {link["rel"]: link["href"] for link in client.get("/collections/seven-districts").json()["links"]}
    assert client.get(collection[REL_VECTOR_TILESETS]).json()["tilesets"][0]["dataType"] == "vector"


def test_tileset_metadata_gives_the_tile_template_and_limits(client: TestClient) -> None:
    doc = client.get(WMQ).json()
    template = next(link for link in doc["links"] if link["rel"] == "item")
    assert template["templated"] and template["type"] == "application/vnd.mapbox-vector-tile"
    tile = client.get(template["href"].replace("{tileMatrix}/{tileRow}/{tileCol}", "8/97/161"))
    assert tile.status_code == 200
    assert doc["tileMatrixSetLimits"][-1]["tileMatrix"] == "18"
    assert doc["layers"][0]["id"] == "seven-districts" and doc["layers"][0]["geometryDimension"] == 2
    assert "name" in doc["layers"][0]["propertiesSchema"]["properties"]


def test_tilejson_keeps_datetime_and_filter_in_its_tile_url(client: TestClient) -> None:
    doc = client.get(f"{WMQ}/tilejson.json", params={"datetime": "2020-10-01", "filter": "name = 'Lachin'"}).json()
    assert doc["tilejson"] == "3.0.0" and doc["vector_layers"][0]["id"] == "seven-districts"
    url = doc["tiles"][0]
    assert url.endswith("/WebMercatorQuad/{z}/{y}/{x}?datetime=2020-10-01&filter=name+%3D+%27Lachin%27")
    assert client.get(url.replace("{z}/{y}/{x}", "8/97/161")).status_code == 200
