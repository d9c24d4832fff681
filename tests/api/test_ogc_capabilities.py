"""Landing page, conformance, OpenAPI document, collections and queryables, through the app with its lifespan."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from ogc_models import Collection, Collections, Conformance, LandingPage, Queryables, rels


def manifest(data_dir: Path) -> dict:
    return json.loads((data_dir / "layers" / "manifest.json").read_text())


def test_landing_page_links_and_licences(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = LandingPage.model_validate(response.json())
    found = rels(page.links)
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert rel in found, rel
    assert found["service-desc"][0].type == "application/vnd.oai.openapi+json;version=3.0"
    assert "Natural Earth" in page.attribution
    assert {entry["collection"] for entry in response.json()["licences"]} >= {"nagorno-karabakh", "places"}


def test_conformance_declares_core_crs_and_filter(client: TestClient) -> None:
    classes = Conformance.model_validate(client.get("/conformance").json()).conformsTo
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in classes


def test_openapi_document_is_30_and_declares_limit(client: TestClient) -> None:
    response = client.get("/api")
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    doc = response.json()
    assert doc["openapi"].startswith("3.0")
    params = {p["name"]: p for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    limit = params["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 10000, 10)
    assert all(p.get("description") for p in params.values()), "every parameter is documented"
    assert '"type":"null"' not in json.dumps(doc, separators=(",", ":")), "no OpenAPI 3.1 null types"


def test_api_documentation_page_lists_operations(client: TestClient) -> None:
    response = client.get("/api.html")
    assert response.status_code == 200
    assert "/collections/{collectionId}/items" in response.text
    assert "bbox-crs" in response.text


def test_collections_match_the_manifest(client: TestClient, built_data_dir: Path) -> None:
    layers = manifest(built_data_dir)["layers"]
    body = Collections.model_validate(client.get("/collections").json())
    assert {c.id for c in body.collections} == set(layers) | {"events"}
    for collection in body.collections:
        if collection.id == "events":  # from the event store, not the layer manifest
            continue
        assert collection.extent.spatial.bbox[0] == layers[collection.id]["bbox"]
        assert collection.license == layers[collection.id]["licence"]["name"]


def test_collection_has_extents_crs_licence_and_items_links(client: TestClient, built_data_dir: Path) -> None:
    layer = manifest(built_data_dir)["layers"]["ceasefire-1994-area"]
    body = Collection.model_validate(client.get("/collections/ceasefire-1994-area").json())
    assert body.extent.temporal is not None
    start, end = body.extent.temporal.interval[0]
    assert start is not None and start.startswith(layer["valid_from"])
    assert end is not None and end.startswith(layer["valid_to"])
    assert "http://www.opengis.net/def/crs/EPSG/0/4326" in body.crs
    assert body.storageCrs == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    found = rels(body.links)
    assert found["license"][0].href == layer["licence"]["url"]
    assert any(link.type == "application/geo+json" for link in found["items"])
    assert {link.href.rsplit("=", 1)[1] for link in found["enclosure"]} == {"gpkg", "fgb"}


def test_queryables_are_typed_from_the_columns(client: TestClient, built_data_dir: Path) -> None:
    columns = manifest(built_data_dir)["layers"]["places"]["properties"]
    response = client.get("/collections/places/queryables")
    assert response.headers["content-type"] == "application/schema+json"
    body = Queryables.model_validate(response.json())
    assert set(body.properties) == set(columns) | {"geometry"}
    assert body.properties["population"]["type"] == "integer"
    assert body.properties["name"]["type"] == "string"


def test_html_pages_for_people(client: TestClient) -> None:
    for path in ("/", "/collections", "/collections/places", "/collections/places/queryables", "/conformance"):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert "<h1>" in response.text


def test_interactive_docs_load_swagger_ui_locally(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    scripts = re.findall(r'src="([^"]+)"', page.text) + re.findall(r'href="([^"]+\.css)"', page.text)
    setup = "/static/api-docs.js"  # Swagger UI's set-up, not inline: the page's CSP allows no inline script
    assert setup in scripts
    assert all(s.startswith("/static/vendor/swagger-ui-dist/") for s in scripts if s != setup)
    for asset in scripts:
        assert client.get(asset).status_code == 200, asset
    assert 'data-openapi-url="/api"' in page.text
    assert "<script>" not in page.text
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
