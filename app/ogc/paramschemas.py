"""The typed form of the query parameters that FastAPI sees as free strings: the API document's parameter schemas.

The routes read these parameters as text and validate them themselves (a comma-separated ``bbox``, a CRS URI or
its alias, a map view's numbers and lists), so FastAPI documents them as ``string``. A client generated from that
document (or a fuzzer) would then send values the server refuses. Each schema here is built from the constants
the validator checks against (:mod:`app.ogc.crs`, :mod:`app.webmap.view`, :mod:`app.webmap.render`), so the
document and the server cannot drift apart; :func:`app.ogc.apidoc.describe_service` puts them in the document.

A list parameter is comma-separated (``style: form, explode: false``), as the validators split it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from app.events.seed import DEFAULT_SEED
from app.ogc import crs as ogc_crs
from app.ogc.parsing import MAX_PARAMETER_LENGTH
from app.webmap import view as map_view
from app.webmap.render import MAX_SIZE, MIN_SIZE

#: The paths whose query is a map view (:class:`app.webmap.view.MapView`).
VIEW_PATHS = frozenset({"/map", "/embed", "/embed/code", "/map.png", "/map.svg", "/map.pdf"})
#: The OGC API paths that take ``crs``, ``bbox`` and their CRS.
FEATURE_PATH_PREFIX = "/collections/"

_DATE = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
#: A date, or a date-time with seconds and a zone; a date with a bare ``T`` is what GDAL sends for a date.
_INSTANT = _DATE + r"([Tt](\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))?)?"
#: An instant, or an interval with at least one bound (``a/b``, ``a/..``, ``a/``, ``../b``, ``/b``).
ITEMS_DATETIME_PATTERN = rf"^({_INSTANT}|{_INSTANT}/({_INSTANT}|\.\.)?|(\.\.)?/{_INSTANT})$"
#: A map's dates: one day or ``start/end``.
VIEW_DATETIME_PATTERN = rf"^{_DATE}(/{_DATE})?$"


_KEPT = ("title", "description", "default")


@dataclass(frozen=True)
class ParameterSchema:
    """The schema of one query parameter and whether it is a comma-separated list."""

    schema: dict[str, Any]
    comma_separated: bool = False

    def apply(self, parameter: dict[str, Any]) -> None:
        """Give the document's ``parameter`` this schema (its title, description and default stay)."""
        kept = {k: v for k, v in parameter.get("schema", {}).items() if k in _KEPT and v is not None}
        parameter["schema"] = {**self.schema, **kept}
        if self.comma_separated:
            parameter["style"], parameter["explode"] = "form", False


def _enum(values: Iterable[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _list_of(values: Iterable[str]) -> ParameterSchema:
    return ParameterSchema({"type": "array", "items": _enum(values), "uniqueItems": True}, comma_separated=True)


def _count(count: int) -> dict[str, Any]:
    return {"minItems": count, "maxItems": count}


def feature_parameters() -> dict[str, ParameterSchema]:
    """``bbox``, the CRS parameters and ``datetime`` of the OGC API feature paths."""
    crs = ParameterSchema(_enum(ogc_crs.SUPPORTED))
    return {
        "bbox": ParameterSchema(
            {"type": "array", "items": {"type": "number"}, "oneOf": [_count(4), _count(6)]}, comma_separated=True
        ),
        "bbox-crs": crs,
        "crs": crs,
        "filter-crs": ParameterSchema(_enum([ogc_crs.CRS84])),
        "datetime": ParameterSchema(
            {"type": "string", "maxLength": MAX_PARAMETER_LENGTH, "pattern": ITEMS_DATETIME_PATTERN}
        ),
    }


def view_parameters(map_layers: Iterable[str]) -> dict[str, ParameterSchema]:
    """The query of a map view (and the image size), given the ids of the built layers."""
    layers = map_view.selectable_layers(map_layers)
    pixels = ParameterSchema({"type": "integer", "minimum": MIN_SIZE, "maximum": MAX_SIZE})
    return {
        "lat": ParameterSchema({"type": "number", "minimum": -85, "maximum": 85}),
        "lon": ParameterSchema({"type": "number", "minimum": -180, "maximum": 180}),
        "zoom": ParameterSchema({"type": "integer", "minimum": map_view.MIN_ZOOM, "maximum": map_view.MAX_ZOOM}),
        "datetime": ParameterSchema({"type": "string", "pattern": VIEW_DATETIME_PATTERN}),
        # 'none' alone hides every layer; otherwise any of the layer ids
        "layers": ParameterSchema(
            {
                "type": "array",
                "oneOf": [
                    {"items": _enum(sorted(layers)), "uniqueItems": True},
                    {"items": _enum(["none"]), **_count(1)},
                ],
            },
            comma_separated=True,
        ),
        "event_type": _list_of(map_view.EVENT_TYPES),
        "verification": _list_of(map_view.VERIFICATION),
        "dark": ParameterSchema({"type": "boolean"}),
        "title": ParameterSchema({"type": "string", "maxLength": map_view.MAX_TITLE, "pattern": r"^[^\x00-\x1f]*$"}),
        "width": pixels,
        "height": pixels,
    }


def typed_parameters(path: str, map_layers: Iterable[str]) -> dict[str, ParameterSchema]:
    """The typed parameters of the operations at ``path`` (none for the paths not listed here)."""
    if path in VIEW_PATHS:
        return view_parameters(map_layers)
    if path == "/oembed":
        return {"format": ParameterSchema(_enum(["json"]))}  # another format is answered 501, as oEmbed asks
    if path.startswith(FEATURE_PATH_PREFIX):
        return feature_parameters()
    return {}


@cache
def event_id_examples(count: int = 3) -> tuple[str, ...]:
    """Ids of the first seed events (every store is seeded with them): examples that reach a stored event."""
    if not DEFAULT_SEED.is_file():
        return ()
    return tuple(str(event["id"]) for event in json.loads(DEFAULT_SEED.read_text(encoding="utf-8"))[:count])


def path_parameters(path: str, parameters: list[dict[str, Any]], collection_ids: list[str]) -> None:
    """Type ``collectionId`` as the loaded collections and give the events' ``featureId`` real seed ids."""
    for parameter in parameters:
        if parameter["in"] != "path":
            continue
        if parameter["name"] == "collectionId" and collection_ids:
            parameter["schema"] = {**parameter.get("schema", {}), "type": "string", "enum": collection_ids}
        elif parameter["name"] == "featureId" and path.startswith("/collections/events/"):
            parameter["examples"] = {event_id: {"value": event_id} for event_id in event_id_examples()}
