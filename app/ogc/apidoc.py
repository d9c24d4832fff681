"""What the generated API document cannot know by itself: formats, the Bearer scheme, bodies, each collection's items.

FastAPI documents one JSON response per operation and reads no body it is not given as a model. This module adds
what the service answers and reads (see :func:`describe_service`):

- the content type of every value of an ``f`` (or ``format``) parameter, and the images of ``/map.png|svg|pdf``;
- the typed schema of each parameter the routes read as text (:mod:`app.ogc.paramschemas`);
- the Bearer scheme (``Authorization: Bearer <key>``) on every write, in place of a free-text header parameter;
- the request bodies of event writes (GeoJSON Feature, JSON merge patch) and of the analysis endpoints, with examples;
- one ``/collections/{id}/items`` path per collection with its queryables as query parameters. GDAL's OAPIF
  driver (and QGIS's provider) send an attribute filter to the server only for properties listed that way (as
  pygeoapi does); with the generic path alone they download every page and filter locally.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from pydantic.json_schema import models_json_schema

from app.collections.base import Collection
from app.ogc.models import RESPONSE_MODELS
from app.ogc.paramschemas import ParameterSchema, path_parameters, typed_parameters

BEARER = "bearerAuth"
#: Media type of each value of an ``f`` parameter.
FORMAT_MEDIA = {
    "json": None,  # the operation's own JSON type (application/json, geo+json, schema+json, openapi+json)
    "geojson": "application/geo+json",
    "html": "text/html",
    "csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
    "fgb": "application/flatgeobuf",
}
IMAGE_MEDIA = {"/map.png": "image/png", "/map.svg": "image/svg+xml", "/map.pdf": "application/pdf"}
_TEXT = {"type": "string"}
_BINARY = {"type": "string", "format": "binary"}
ITEMS = "/collections/{collectionId}/items"

EVENT_EXAMPLE: dict[str, Any] = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [46.7539, 39.7601]},
    "properties": {
        "date_start": "2020-10-08",
        "date_precision": 1,
        "location_precision": 2,
        "place_name": "Shusha",
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Shelling/artillery/missile attack",
        "actors": ["Military Forces of Azerbaijan"],
        "claimed_by": "Ministry of Defence of Armenia",
        "verification": "corroborated",
        "fatalities_best": 0,
        "sources": [{"publisher": "Reuters", "title": "Cathedral shelled in Shusha", "published": "2020-10-08"}],
    },
}
EVENT_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"},
        "geometry": {
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"type": "string", "enum": ["Point"]},
                "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            },
        },
        "properties": {"type": "object", "description": "The event fields (README: Reported events)."},
    },
}
PATCH_EXAMPLE = {"properties": {"verification": "verified", "notes": None}}
OVERLAP_EXAMPLE = {
    "type": "Polygon",
    "coordinates": [[[46.6, 39.6], [46.9, 39.6], [46.9, 39.9], [46.6, 39.9], [46.6, 39.6]]],
}
CLASSIFY_EXAMPLE = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "id": "p1", "geometry": {"type": "Point", "coordinates": [46.75, 39.76]}, "properties": {}}
    ],
}


def describe_service(
    document: dict[str, Any], collections: Iterable[Collection] = (), map_layers: Iterable[str] = ()
) -> dict[str, Any]:
    """``document`` with formats, security, bodies and per-collection items paths added (see the module docstring).

    Examples
    --------
    >>> doc = {"paths": {"/x": {"get": {"parameters": [{"name": "f", "in": "query", "schema": {"enum": ["json",
    ...        "html"]}}], "responses": {"200": {"content": {"application/json": {"schema": {}}}}}}}}}
    >>> sorted(describe_service(doc)["paths"]["/x"]["get"]["responses"]["200"]["content"])
    ['application/json', 'text/html']

    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    refs = _response_schemas(schemas)
    map_layers, collections = list(map_layers), list(collections)
    collection_ids = [c.meta.id for c in collections]
    for path, operations in document.get("paths", {}).items():
        typed = typed_parameters(path, map_layers)
        for method, operation in operations.items():
            _types(operation, typed)
            path_parameters(path, operation.get("parameters", []), collection_ids)
            if method == "get" and path in refs:
                _json_body(operation, refs[path])
            _formats(operation, schemas)
            _images(path, operation)
            _security(operation)
            _bodies(path, method, operation)
    _per_collection_items(document, collections)
    document.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key made by `czmap keys create --role editor|admin`.",
    }
    return document


def _types(operation: dict[str, Any], typed: dict[str, ParameterSchema]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] in typed:
            typed[parameter["name"]].apply(parameter)


def _response_schemas(schemas: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Add the response models (:data:`~app.ogc.models.RESPONSE_MODELS`) to ``schemas``; their refs by path."""
    models = list(dict.fromkeys(RESPONSE_MODELS.values()))
    keys, generated = models_json_schema(
        [(model, "serialization") for model in models], ref_template="#/components/schemas/{model}"
    )
    schemas.update(generated.get("$defs", {}))
    by_model = {model: keys[(model, "serialization")] for model in models}
    return {path: by_model[model] for path, model in RESPONSE_MODELS.items()}


def _json_body(operation: dict[str, Any], schema: dict[str, Any]) -> None:
    """Give the JSON content of the operation's 200 the model's ``schema`` (whatever JSON media type it has)."""
    success = operation.get("responses", {}).get("200")
    if success is None:
        return
    for media, content in success.setdefault("content", {}).items():
        if "json" in media:
            content["schema"] = schema


def _success(operation: dict[str, Any]) -> dict[str, Any] | None:
    responses = operation.get("responses", {})
    return next((responses[s] for s in ("200", "201") if s in responses), None)


def _enum_of(parameter: dict[str, Any], schemas: dict[str, Any]) -> list[str]:
    schema = parameter.get("schema", {})
    ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("anyOf", []) if "$ref" in s), None)
    if ref:
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return [str(v) for v in schema.get("enum", [])]


def _formats(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    parameter = next(
        (p for p in operation.get("parameters", []) if p["name"] in ("f", "format") and p["in"] == "query"), None
    )
    success = _success(operation)
    if parameter is None or success is None:
        return
    content = success.setdefault("content", {})
    for value in _enum_of(parameter, schemas):
        media = FORMAT_MEDIA.get(value)
        if media is None and value == "json" and not content:
            content["application/json"] = {"schema": {"type": "object"}}
        elif media is not None:
            content.setdefault(media, {"schema": _schema_of(media)})


def _schema_of(media: str) -> dict[str, Any]:
    """A body of ``media``: a JSON object, text, or bytes."""
    if "json" in media:
        return {"type": "object"}
    return _TEXT if media.startswith("text/") else _BINARY


def _images(path: str, operation: dict[str, Any]) -> None:
    success = _success(operation)
    if path in IMAGE_MEDIA and success is not None:
        success["content"] = {IMAGE_MEDIA[path]: {"schema": _BINARY}}


def _security(operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    kept = [p for p in parameters if not (p["in"] == "header" and p["name"].lower() == "authorization")]
    if len(kept) < len(parameters):
        operation["parameters"] = kept
        operation["security"] = [{BEARER: []}]


def _bodies(path: str, method: str, operation: dict[str, Any]) -> None:
    body: dict[str, Any] | None = None
    if path.startswith("/collections/events/items") and method in ("post", "put"):
        media = {"schema": EVENT_BODY, "example": EVENT_EXAMPLE}
        body = {"required": True, "content": {"application/geo+json": media, "application/json": media}}
    elif path.startswith("/collections/events/items") and method == "patch":
        media = {"schema": {"type": "object"}, "example": PATCH_EXAMPLE}
        body = {"required": True, "content": {"application/merge-patch+json": media, "application/json": media}}
    elif path == "/analysis/overlap":
        geojson = {"schema": {"type": "object"}, "example": OVERLAP_EXAMPLE}
        body = {"required": True, "content": {"application/geo+json": geojson, "application/json": geojson}}
    elif path == "/analysis/classify":
        geojson = {"schema": {"type": "object"}, "example": CLASSIFY_EXAMPLE}
        csv = {"schema": _TEXT, "example": "id,latitude,longitude,precision_m\np1,39.76,46.75,500\n"}
        body = {"required": True, "content": {"application/geo+json": geojson, "text/csv": csv}}
    if body is not None and "requestBody" not in operation:  # a route's own declaration (analysis) stands
        operation["requestBody"] = body


def _per_collection_items(document: dict[str, Any], collections: Iterable[Collection]) -> None:
    paths = document.get("paths", {})
    generic = paths.get(ITEMS, {}).get("get")
    if generic is None:
        return
    for collection in collections:
        operation = copy.deepcopy(generic)
        cid = collection.meta.id
        operation["operationId"] = f"getFeatures_{re.sub(r'[^A-Za-z0-9_]', '_', cid)}"
        operation["summary"] = f"Features of {collection.meta.title}"
        declared = {p["name"] for p in operation.get("parameters", [])}
        parameters = [p for p in operation.get("parameters", []) if p["name"] != "collectionId"]
        for name, queryable in collection.queryables().items():
            if queryable.type == "geometry" or name in declared:
                continue
            schema = queryable.json_schema()
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "style": "form",
                    "explode": False,
                    "description": f"Features whose {name} equals this value (see /queryables).",
                    "schema": schema,
                }
            )
        operation["parameters"] = parameters
        paths.setdefault(f"/collections/{cid}/items", {})["get"] = operation
