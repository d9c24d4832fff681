"""The API document describes what the service answers and reads: formats, Bearer writes, bodies, queryables."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture()
def tiny_doc(tiny_client: TestClient) -> dict[str, Any]:
    return tiny_client.get("/api").json()


def test_each_collection_has_its_items_path_with_its_queryables(tiny_doc: dict[str, Any]) -> None:
    operation = tiny_doc["paths"]["/collections/tiny/items"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert "collectionId" not in params
    assert params["population"]["schema"]["type"] == "integer"  # typed, so GDAL sends the filter typed
    assert params["name"]["schema"]["type"] == "string"
    assert {"limit", "bbox", "datetime", "f"} <= set(params)
    assert operation["operationId"] != tiny_doc["paths"]["/collections/{collectionId}/items"]["get"]["operationId"]


def test_the_listed_queryables_filter_on_the_server(tiny_client: TestClient, tiny_doc: dict[str, Any]) -> None:
    params = [p["name"] for p in tiny_doc["paths"]["/collections/tiny/items"]["get"]["parameters"]]
    assert "kind" in params
    body = tiny_client.get("/collections/tiny/items", params={"kind": "village"}).json()
    assert [f["id"] for f in body["features"]] == ["d"]


@pytest.mark.parametrize(
    ("path", "types"),
    [
        ("/", {"application/json", "text/html"}),
        ("/collections/{collectionId}/items", {"application/geo+json", "text/html", "text/csv"}),
        ("/collections/{collectionId}/queryables", {"application/schema+json", "text/html"}),
        ("/embed/code", {"application/json", "text/html"}),
        ("/map.png", {"image/png"}),
        ("/map.pdf", {"application/pdf"}),
    ],
)
def test_every_format_answered_is_documented(tiny_doc: dict[str, Any], path: str, types: set[str]) -> None:
    assert types <= set(tiny_doc["paths"][path]["get"]["responses"]["200"]["content"])


def test_the_html_answer_has_the_documented_type(tiny_client: TestClient, tiny_doc: dict[str, Any]) -> None:
    response = tiny_client.get("/collections/tiny/items", params={"f": "csv"})
    documented = tiny_doc["paths"]["/collections/tiny/items"]["get"]["responses"]["200"]["content"]
    assert response.headers["content-type"].split(";")[0] in documented


def test_writes_declare_the_bearer_scheme_and_their_bodies(tiny_doc: dict[str, Any]) -> None:
    assert tiny_doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": tiny_doc["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    items = tiny_doc["paths"]["/collections/events/items"]["post"]
    assert items["security"] == [{"bearerAuth": []}]
    assert not [p for p in items.get("parameters", []) if p["name"].lower() == "authorization"]
    feature = items["requestBody"]["content"]["application/geo+json"]
    assert feature["example"]["type"] == "Feature" and feature["example"]["geometry"]["type"] == "Point"
    patch = tiny_doc["paths"]["/collections/events/items/{featureId}"]["patch"]["requestBody"]["content"]
    assert "application/merge-patch+json" in patch
    assert "text/csv" in tiny_doc["paths"]["/analysis/classify"]["post"]["requestBody"]["content"]
    assert "example" in tiny_doc["paths"]["/analysis/overlap"]["post"]["requestBody"]["content"]["application/json"]


def test_no_phantom_422(tiny_doc: dict[str, Any]) -> None:
    """Only the event writes answer 422 (an invalid Feature); parameters are answered 400."""
    with_422 = {(p, m) for p, ops in tiny_doc["paths"].items() for m, op in ops.items() if "422" in op["responses"]}
    assert {m for _, m in with_422} <= {"post", "put", "patch"}


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/", "LandingPage"),
        ("/collections", "Collections"),
        ("/collections/{collectionId}/items", "FeaturePage"),
        ("/collections/tiny/items", "FeaturePage"),
        ("/collections/{collectionId}/items/{featureId}", "OneFeature"),
        ("/collections/{collectionId}/schema", "FeatureSchema"),
    ],
)
def test_success_bodies_have_their_schema(tiny_doc: dict[str, Any], path: str, model: str) -> None:
    content = tiny_doc["paths"][path]["get"]["responses"]["200"]["content"]
    schema = next(c["schema"] for media, c in content.items() if "json" in media)
    assert schema == {"$ref": f"#/components/schemas/{model}"}
    assert tiny_doc["components"]["schemas"][model]["properties"]


def test_each_collection_links_the_schema_of_its_features(tiny_client: TestClient) -> None:
    """GDAL's OAPIF driver types its fields from the ``describedBy`` JSON Schema (see test_gdal_filters.py)."""
    links = tiny_client.get("/collections/tiny").json()["links"]
    described = [link for link in links if link["rel"] == "describedBy"]
    assert [link["type"] for link in described] == ["application/schema+json"]
    response = tiny_client.get(described[0]["href"])
    assert response.headers["content-type"] == "application/schema+json"
    fields = response.json()["properties"]["properties"]["properties"]
    assert fields["population"] == {"title": "population", "type": "integer"}  # a plain type, as GDAL reads it
    assert "id" not in fields  # the feature id is not a property: GDAL would add a second id field
