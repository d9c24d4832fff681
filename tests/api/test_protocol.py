"""HTTP details: HEAD, OPTIONS and Allow, Vary: Accept, CORS for writes (README: The service)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

ORIGIN = {"Origin": "https://editor.example.org"}


@pytest.mark.parametrize("path", ["/", "/collections", "/collections/tiny/items", "/collections/tiny/queryables"])
def test_head_is_get_without_a_body(tiny_client: TestClient, path: str) -> None:
    get = tiny_client.get(path, headers={"Accept-Encoding": "identity"})
    head = tiny_client.head(path, headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["etag"] == get.headers.get("etag", head.headers["etag"])


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/collections", {"GET", "HEAD", "OPTIONS"}),
        ("/collections/events/items", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("/collections/events/items/x-1", {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}),
        ("/analysis/classify", {"OPTIONS", "POST"}),
    ],
)
def test_options_and_405_list_every_method_of_the_path(tiny_client: TestClient, path: str, methods: set[str]) -> None:
    options = tiny_client.options(path)
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) == methods
    refused = tiny_client.request("TRACE", path)
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == methods


def test_options_of_no_resource_is_404(tiny_client: TestClient) -> None:
    assert tiny_client.options("/no/such/thing").status_code == 404


def test_negotiated_answers_vary_on_accept(tiny_client: TestClient) -> None:
    negotiated = tiny_client.get("/collections/tiny/items")
    assert "accept" in [v.strip().lower() for v in negotiated.headers["vary"].split(",")]
    assert negotiated.headers["cache-control"].startswith("public")
    html = tiny_client.get("/collections/tiny/items", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "accept" in html.headers["vary"].lower()


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_writes_pass_their_cors_preflight(tiny_client: TestClient, method: str) -> None:
    preflight = tiny_client.options(
        "/collections/events/items/x-1",
        headers={**ORIGIN, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "authorization"},
    )
    assert preflight.status_code == 200
    assert method in preflight.headers["access-control-allow-methods"]


def test_location_and_etag_are_exposed_to_browsers(tiny_client: TestClient) -> None:
    exposed = tiny_client.get("/collections", headers=ORIGIN).headers["access-control-expose-headers"]
    assert {"location", "etag"} <= {h.strip().lower() for h in exposed.split(",")}


@pytest.mark.parametrize(
    "params",
    [
        {"fatalities_high": "2983703918428798582784"},
        {"revision": "-99999999999999999999"},
        {"filter": "fatalities_best = 99999999999999999999999"},
    ],
)
def test_integers_beyond_the_store_are_a_400(events_client: TestClient, params: dict[str, str]) -> None:
    response = events_client.get("/collections/events/items", params=params)
    assert response.status_code == 400, response.text
