"""One error path: an error of every domain (OGC, events, analysis, map, the framework itself) walked through
create_app, each body validated against the one model (``ogc_models.ErrorBody``, extra members forbidden)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ogc_models import ErrorBody
from testsupport import make_settings

from app import errors as service_errors
from app.analysis import errors as analysis_errors
from app.events import errors as event_errors
from app.events.auth import create_key
from app.http.errors import STATUS_TABLE
from app.main import create_app
from app.webmap import errors as map_errors

ITEMS = "/collections/events/items"
XML = {"content": b"<a/>", "headers": {"content-type": "application/xml"}}
POINT = {"json": {"type": "Point", "coordinates": [46.5, 39.5]}}

#: (domain, method, url, request arguments, status, code, parameter); "editor" in the arguments sends a valid key.
CASES: list[tuple[str, str, str, dict[str, Any], int, str, str | None]] = [
    ("ogc", "get", "/collections/nowhere", {}, 404, "NotFound", None),
    ("ogc", "get", "/collections?limit=3", {}, 400, "InvalidParameterValue", "limit"),
    ("ogc", "get", "/collections/seven-districts/items?bbox=1,2,3", {}, 400, "InvalidParameterValue", "bbox"),
    ("ogc", "get", "/collections/seven-districts/items?limit=0", {}, 400, "InvalidParameterValue", "limit"),
    ("ogc", "get", "/collections/seven-districts/items?f=kml", {}, 400, "InvalidParameterValue", "f"),
    ("http", "get", "/no/such/path", {}, 404, "NotFound", None),
    ("http", "delete", "/collections", {}, 405, "MethodNotAllowed", None),
    ("events", "post", ITEMS, {"json": {"type": "Feature"}}, 401, "Unauthorized", None),
    ("events", "post", ITEMS, {"json": {"type": "Feature"}, "editor": True}, 422, "InvalidValue", "geometry"),
    ("events", "post", ITEMS, {"content": b"{not json", "editor": True}, 400, "InvalidBody", "body"),
    ("events", "post", f"{ITEMS}?dry_run=1", {"json": {}, "editor": True}, 400, "InvalidParameterValue", "dry_run"),
    ("events", "get", f"{ITEMS}/no-such-event", {}, 404, "NotFound", None),
    ("analysis", "get", "/analysis/zones/atlantis/summary", {}, 404, "NotFound", None),
    ("analysis", "post", "/analysis/overlap?colour=red", {"json": {}}, 400, "InvalidParameterValue", "colour"),
    ("analysis", "post", "/analysis/overlap", POINT, 422, "InvalidValue", None),
    ("analysis", "post", "/analysis/classify", XML, 415, "UnsupportedMediaType", "Content-Type"),
    ("analysis", "post", "/analysis/overlap", {"content": b"{not json"}, 400, "InvalidBody", "body"),
    ("map", "get", "/map?zoom=99", {}, 400, "InvalidParameterValue", "zoom"),
    ("map", "get", "/map?bogus=1", {}, 400, "InvalidParameterValue", "bogus"),
    ("map", "get", "/map.png?width=99999", {}, 400, "InvalidParameterValue", "width"),
]


@pytest.fixture(scope="module")
def client(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The whole service (create_app, lifespan run) over the built layers and an empty SQLite event store."""
    store = tmp_path_factory.mktemp("errors") / "events.sqlite"
    settings = make_settings(built_data_dir, database_url=f"sqlite:///{store}", seed=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def editor_key(client: TestClient) -> str:
    return create_key(client.app.state.events.store, "editor", "error body tests")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("domain", "method", "url", "kwargs", "status", "code", "parameter"), CASES)
def test_every_error_has_the_one_body(
    client: TestClient, editor_key: str, domain, method, url, kwargs, status, code, parameter
) -> None:
    kwargs = dict(kwargs)
    if kwargs.pop("editor", False):
        kwargs["headers"] = {**kwargs.get("headers", {}), "Authorization": f"Bearer {editor_key}"}
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = ErrorBody.model_validate(response.json())
    assert (body.code, body.parameter) == (code, parameter)
    assert "Traceback" not in response.text


def test_a_field_validation_error_lists_every_problem(client: TestClient, editor_key: str) -> None:
    response = client.post(ITEMS, json={"type": "Feature"}, headers={"Authorization": f"Bearer {editor_key}"})
    body = ErrorBody.model_validate(response.json())
    assert body.problems is not None
    assert [p.field for p in body.problems] == ["geometry", "properties"]


def test_a_query_validation_error_lists_its_problems(client: TestClient) -> None:
    body = ErrorBody.model_validate(client.get("/collections/seven-districts/items?limit=0&offset=-1").json())
    assert body.problems is not None
    assert {p.field for p in body.problems} == {"limit", "offset"}


def test_401_names_the_scheme(client: TestClient) -> None:
    response = client.post(ITEMS, json={"type": "Feature"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_304_keeps_no_body(client: TestClient) -> None:
    first = client.get("/collections")
    again = client.get("/collections", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_unexpected_error_is_a_generic_500_with_the_traceback_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    state = client.app.state  # type: ignore[attr-defined]
    counter = state.event_counter
    state.event_counter = object()  # a bug: the route calls a method the object lacks
    try:
        with caplog.at_level(logging.ERROR, logger="app.http.errors"):
            response = client.get("/analysis/zones/seven-districts/summary")
    finally:
        state.event_counter = counter
    assert response.status_code == 500
    body = ErrorBody.model_validate(response.json())
    assert body.code == "ServerError" and "AttributeError" not in response.text and "count_by_type" not in response.text
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and logged[0].exc_info is not None and logged[0].exc_info[0] is AttributeError


def test_the_api_document_gives_every_operation_the_error_body(client: TestClient) -> None:
    doc = client.get("/api").json()
    operations = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]
    assert len(operations) >= 15
    for path, method, op in operations:
        errors = {status: r for status, r in op["responses"].items() if status[0] in "45"}
        assert {"4XX", "5XX"} <= set(errors), (method, path)
        for response in errors.values():
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    documented = doc["components"]["schemas"]["ErrorBody"]
    assert set(documented["properties"]) == set(ErrorBody.model_fields)
    assert documented["additionalProperties"] is False
    assert "HTTPValidationError" not in str(doc)  # FastAPI's 422 body: invalid parameters are answered 400


@pytest.mark.parametrize(
    "module", [service_errors, event_errors, analysis_errors, map_errors], ids=lambda m: m.__name__
)
def test_every_domain_error_has_a_status(module) -> None:
    """Every exception class a domain defines is mapped by its own table (through itself or a base of the domain)."""
    defined = [c for _, c in inspect.getmembers(module, inspect.isclass) if issubclass(c, Exception)]
    defined = [c for c in defined if c.__module__ == module.__name__]
    assert defined
    for cls in defined:
        mapped = next(k for k in cls.__mro__ if k in STATUS_TABLE or k is Exception)
        assert mapped in module.ERROR_STATUS, cls
