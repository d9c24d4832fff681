"""HTML pages: usable, escaped, and the map loads its features by URL (never inlined)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from ogc_models import HOSTILE


@pytest.mark.parametrize(
    "path", ["/?f=html", "/collections?f=html", "/collections/tiny?f=html", "/collections/tiny/items?f=html&limit=5"]
)
def test_strings_from_data_are_escaped(tiny_client: TestClient, path: str) -> None:
    response = tiny_client.get(path)
    assert response.status_code == 200
    assert HOSTILE not in response.text
    assert "&lt;script&gt;" in response.text


def test_query_values_reflected_in_links_are_escaped(tiny_client: TestClient) -> None:
    response = tiny_client.get('/collections/tiny/items?f=html&name="><b>x</b>')
    assert response.status_code == 200
    assert '"><b>x</b>' not in response.text


def test_items_map_fetches_geojson_by_url(tiny_client: TestClient) -> None:
    html = tiny_client.get("/collections/tiny/items?f=html&limit=2").text
    assert 'data-url="http://testserver/collections/tiny/items?f=json&amp;limit=2"' in html
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "Shusha" in html and '"coordinates"' not in html, "features are listed, geometry is not inlined"
    assert tiny_client.get("/static/czmap-map.js").status_code == 200


def test_feature_page(tiny_client: TestClient) -> None:
    response = tiny_client.get("/collections/tiny/items/d", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "&lt;script&gt;" in response.text and HOSTILE not in response.text
