"""The API document describes what the service answers and reads: formats, Bearer writes, bodies, queryables."""

from __future__ import annotations

import re
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


# -- parameters the routes read as text are typed as the server checks them (app/ogc/paramschemas.py) ----------


@pytest.fixture(scope="module")
def built_doc(client: TestClient) -> dict[str, Any]:
    return client.get("/api").json()


def parameter(doc: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    return next(p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name)


@pytest.mark.parametrize(
    ("path", "name", "kind"),
    [
        ("/collections/{collectionId}/items", "crs", "string"),
        ("/collections/events/items", "bbox-crs", "string"),
        ("/map", "lat", "number"),
        ("/map", "zoom", "integer"),
        ("/map", "dark", "boolean"),
        ("/embed", "event_type", "array"),
        ("/embed/code", "width", "integer"),
        ("/map.png", "height", "integer"),
    ],
)
def test_parameters_the_server_checks_are_typed(built_doc: dict[str, Any], path: str, name: str, kind: str) -> None:
    assert parameter(built_doc, path, name)["schema"]["type"] == kind


def test_every_listed_crs_is_accepted(client: TestClient, built_doc: dict[str, Any]) -> None:
    listed = parameter(built_doc, "/collections/{collectionId}/items", "crs")["schema"]["enum"]
    boxes = {"CRS84": "46,39,47,40", "4326": "39,46,40,47", "3857": "5120000,4730000,5230000,4870000"}
    for crs in listed:
        box = next(b for key, b in boxes.items() if crs.endswith(key))
        response = client.get("/collections/events/items", params={"crs": crs, "bbox-crs": crs, "bbox": box})
        assert response.status_code == 200, (crs, response.text)
    assert client.get("/collections/events/items", params={"crs": "EPSG:32638"}).status_code == 400


def test_bbox_is_a_comma_separated_list_of_four_or_six_numbers(client: TestClient, built_doc: dict[str, Any]) -> None:
    bbox = parameter(built_doc, "/collections/events/items", "bbox")
    assert (bbox["style"], bbox["explode"]) == ("form", False)
    assert sorted(s["minItems"] for s in bbox["schema"]["oneOf"]) == [4, 6]
    for box, status in (("46,39,47,40", 200), ("46,39,0,47,40,100", 200), ("46,39,47,40,1", 400)):
        assert client.get("/collections/events/items", params={"bbox": box}).status_code == status


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("2020-10-01", True),
        ("2020-10-01T", True),  # GDAL's date
        ("2020-10-01T/2020-10-10T", True),
        ("2020-10-01T06:00:00Z/..", True),
        ("../2020-10-10", True),
        ("2020-10-01/", True),
        ("../..", False),
        ("2020-10-01T06:00", False),  # no zone
        ("yesterday", False),
        ("2020-13-01", False),
    ],
)
def test_the_items_datetime_pattern_is_what_the_server_accepts(
    client: TestClient, built_doc: dict[str, Any], value: str, accepted: bool
) -> None:
    pattern = parameter(built_doc, "/collections/events/items", "datetime")["schema"]["pattern"]
    assert bool(re.fullmatch(pattern, value)) is accepted
    assert client.get("/collections/events/items", params={"datetime": value}).status_code == (200 if accepted else 400)


def test_every_listed_map_value_is_accepted(client: TestClient, built_doc: dict[str, Any]) -> None:
    layers = parameter(built_doc, "/map", "layers")
    assert (layers["style"], layers["explode"]) == ("form", False)
    listed = {name: parameter(built_doc, "/embed/code", name)["schema"] for name in ("event_type", "verification")}
    query = {name: ",".join(schema["items"]["enum"]) for name, schema in listed.items()}
    query["layers"] = ",".join(layers["schema"]["oneOf"][0]["items"]["enum"])
    assert client.get("/embed/code", params={**query, "f": "json"}).status_code == 200
    for name in query:
        assert client.get("/embed/code", params={name: "Unlisted", "f": "json"}).status_code == 400, name
    assert client.get("/embed/code", params={"layers": "none", "f": "json"}).status_code == 200


@pytest.mark.parametrize("name", ["width", "height", "zoom", "lat", "lon"])
def test_the_documented_bounds_are_the_servers(client: TestClient, built_doc: dict[str, Any], name: str) -> None:
    schema = parameter(built_doc, "/embed/code", name)["schema"]
    step = 1 if schema["type"] == "integer" else 0.5
    for value, status in (
        (schema["minimum"], 200),
        (schema["maximum"], 200),
        (schema["minimum"] - step, 400),
        (schema["maximum"] + step, 400),
    ):
        assert client.get("/embed/code", params={name: value, "f": "json"}).status_code == status, (name, value)


def test_oembed_documents_json_only_and_its_501(built_doc: dict[str, Any]) -> None:
    operation = built_doc["paths"]["/oembed"]["get"]
    assert parameter(built_doc, "/oembed", "format")["schema"]["enum"] == ["json"]
    assert "501" in operation["responses"]


def test_path_parameters_name_real_resources(client: TestClient, built_doc: dict[str, Any]) -> None:
    """Generated clients and the fuzzer reach stored collections and events (scripts/fuzz_api.py writes to them)."""
    listed = parameter(built_doc, "/collections/{collectionId}", "collectionId")["schema"]["enum"]
    assert listed == [c["id"] for c in client.get("/collections").json()["collections"]]
    operation = built_doc["paths"]["/collections/events/items/{featureId}"]["delete"]
    feature_id = next(p for p in operation["parameters"] if p["name"] == "featureId")
    examples = [example["value"] for example in feature_id["examples"].values()]
    assert examples and all(client.get(f"/collections/events/items/{e}").status_code == 200 for e in examples)
