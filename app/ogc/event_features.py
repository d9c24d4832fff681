"""GeoJSON in and out of the events collection: write bodies to event fields, audit entries to history documents.

A write body is a GeoJSON Feature (OGC API - Features Part 4): the location is its Point geometry, in CRS84 unless
the request names another supported CRS; the event fields are its ``properties``; ``id`` is the feature id.
Fields the server sets (``zones``, ``created_at`` ...) are ignored when a client sends back what it read.
Every problem is reported with the path of the member at fault.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeGuard

import orjson
from pyproj import Transformer

from app.errors import MalformedBody
from app.events.errors import FieldProblem, ValidationError
from app.events.model import SERVER_FIELDS
from app.events.store.base import AuditEntry
from app.ogc import crs as ogc_crs

#: Integer fields: a JSON number without a fraction or null; ``false`` or ``"3"`` is refused, not converted.
INTEGER_FIELDS = (
    "date_precision",
    "location_precision",
    "geonameid",
    "fatalities_best",
    "fatalities_low",
    "fatalities_high",
)
#: Top-level members a Feature body may carry besides ``type``, ``id``, ``geometry`` and ``properties``.
IGNORED_MEMBERS = frozenset({"links", "bbox"})
_MEMBERS = frozenset({"type", "id", "geometry", "properties"}) | IGNORED_MEMBERS


def parse_json(raw: bytes) -> Any:
    """The JSON value of a request body; raises :class:`MalformedBody`.

    Examples
    --------
    >>> parse_json(b'{"type": "Feature"}')
    {'type': 'Feature'}

    """
    if not raw.strip():
        raise MalformedBody("the body is empty; send a GeoJSON Feature")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from None


def fields_from_feature(body: Any, crs: str = ogc_crs.CRS84) -> dict[str, Any]:
    """The event fields of a Feature body (for a create or a replace), with ``lon``/``lat`` in CRS84.

    Examples
    --------
    >>> fields_from_feature({"type": "Feature", "id": "x-1", "geometry": {"type": "Point", "coordinates": [46.7, 39.8]},
    ...                      "properties": {"event_type": "Battles", "revision": 4}})
    {'event_type': 'Battles', 'lon': 46.7, 'lat': 39.8, 'id': 'x-1'}

    """
    feature = _feature_object(body)
    problems = _member_problems(feature, required=("type", "geometry", "properties"))
    properties = feature.get("properties")
    if "properties" in feature and not isinstance(properties, dict):
        problems.append(FieldProblem("properties", "must be an object of event fields"))
    fields: dict[str, Any] = {}
    if isinstance(properties, dict):
        problems += _location_in_properties(properties) + _number_problems(properties)
        fields = {k: v for k, v in properties.items() if k not in SERVER_FIELDS}
    if "geometry" in feature:
        lon_lat = _point(feature["geometry"], crs, problems)
        if lon_lat is not None:
            fields["lon"], fields["lat"] = lon_lat
    if problems:
        raise ValidationError(problems)
    if feature.get("id") is not None:
        fields["id"] = feature["id"]
    return fields


def patch_from_feature(body: Any, crs: str = ogc_crs.CRS84) -> dict[str, Any]:
    """The fields a merge patch of a Feature changes (``properties`` members, and the location if given).

    Examples
    --------
    >>> patch_from_feature({"properties": {"verification": "verified", "notes": None}})
    {'verification': 'verified', 'notes': None}

    """
    feature = _feature_object(body)
    problems = _member_problems(feature, required=())
    properties = feature.get("properties", {})
    if not isinstance(properties, dict):
        problems.append(FieldProblem("properties", "must be an object of the fields to change"))
        properties = {}
    problems += _location_in_properties(properties) + _number_problems(properties)
    patch = dict(properties)
    if "geometry" in feature:
        lon_lat = _point(feature["geometry"], crs, problems)
        if lon_lat is not None:
            patch["lon"], patch["lat"] = lon_lat
    if not patch and not problems:
        problems.append(FieldProblem("properties", "the patch changes nothing; give the fields to change"))
    if problems:
        raise ValidationError(problems)
    return patch


def history_document(event_id: str, entries: list[AuditEntry]) -> dict[str, Any]:
    """The audit trail of an event as JSON: every change, oldest first, with the fields it changed.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> entry = AuditEntry(1, "x-1", datetime(2021, 1, 1, tzinfo=UTC), "Ada", "admin", "update",
    ...                    {"notes": "a", "revision": 1}, {"notes": "b", "revision": 2})
    >>> history_document("x-1", [entry])["entries"][0]["changes"]
    [{'field': 'notes', 'before': 'a', 'after': 'b'}]

    """
    return {
        "id": event_id,
        "numberOfChanges": len(entries),
        "entries": [
            {
                "seq": e.seq,
                "at": e.at.isoformat().replace("+00:00", "Z"),
                "actor": e.actor,
                "role": e.role,
                "action": e.action,
                "revision": (e.after or {}).get("revision"),
                "changes": changed_fields(e.before, e.after),
                "before": e.before,
                "after": e.after,
            }
            for e in entries
        ],
    }


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """``{field, before, after}`` for every field whose value differs (bookkeeping fields left out)."""
    old: Mapping[str, Any] = before or {}
    new: Mapping[str, Any] = after or {}
    skip = {"updated_at", "updated_by", "revision"}
    names = [n for n in dict.fromkeys([*old, *new]) if n not in skip]
    return [{"field": n, "before": old.get(n), "after": new.get(n)} for n in names if old.get(n) != new.get(n)]


def _feature_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError([FieldProblem("", f"the body must be a GeoJSON Feature object, got {_kind(body)}")])
    return body


def _member_problems(feature: dict[str, Any], required: tuple[str, ...]) -> list[FieldProblem]:
    problems = [
        FieldProblem(name, "required member of a Feature is missing") for name in required if name not in feature
    ]
    if "type" in feature and feature["type"] != "Feature":
        problems.append(FieldProblem("type", f"must be 'Feature', got {feature['type']!r}"))
    for name in feature:
        if name not in _MEMBERS:
            hint = " (give the CRS in the Content-Crs header)" if name == "crs" else ""
            problems.append(FieldProblem(name, f"unknown member{hint}; allowed: {', '.join(sorted(_MEMBERS))}"))
    if "id" in feature and feature["id"] is not None and not isinstance(feature["id"], str):
        problems.append(FieldProblem("id", f"must be a string, got {_kind(feature['id'])}"))
    return problems


def _location_in_properties(properties: Mapping[str, Any]) -> list[FieldProblem]:
    return [
        FieldProblem(f"properties.{name}", "the location is the Point geometry, not a property")
        for name in ("lon", "lat")
        if name in properties
    ]


def _number_problems(properties: Mapping[str, Any]) -> list[FieldProblem]:
    """Integer fields given as anything but a whole JSON number (or null): ``false`` would be stored as 0."""
    problems = []
    for name in INTEGER_FIELDS:
        value = properties.get(name)
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if value is not None and (isinstance(value, bool) or not whole):
            problems.append(FieldProblem(f"properties.{name}", f"must be a whole number or null, got {_kind(value)}"))
    return problems


def _point(geometry: Any, crs: str, problems: list[FieldProblem]) -> tuple[float, float] | None:
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        got = geometry.get("type") if isinstance(geometry, dict) else _kind(geometry)
        problems.append(FieldProblem("geometry", f"must be a GeoJSON Point (an event has one location), got {got!r}"))
        return None
    coords = geometry.get("coordinates")
    if isinstance(coords, list) and len(coords) == 3:
        problems.append(
            FieldProblem("geometry.coordinates", "events are 2D: give [longitude, latitude] (a height is not kept)")
        )
        return None
    if not _position(coords):
        problems.append(FieldProblem("geometry.coordinates", f"must be 2 or 3 finite numbers, got {coords!r}"[:200]))
        return None
    lon, lat = _to_crs84(float(coords[0]), float(coords[1]), crs)
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        where = "" if crs == ogc_crs.CRS84 else f" in {crs}"
        problems.append(
            FieldProblem(
                "geometry.coordinates", f"{coords[:2]}{where} is not a point on Earth (lon -180..180, lat -90..90)"
            )
        )
        return None
    return lon, lat


def _position(value: Any) -> TypeGuard[list[float]]:
    """Whether ``value`` is a GeoJSON position: 2 or 3 finite numbers."""
    if not isinstance(value, list) or len(value) not in (2, 3):
        return False
    return all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)


@cache
def _transformer(crs: str) -> Transformer:
    return Transformer.from_crs(ogc_crs.SUPPORTED[crs], "OGC:CRS84")


def _to_crs84(x: float, y: float, crs: str) -> tuple[float, float]:
    if crs == ogc_crs.CRS84:
        return x, y
    lon, lat = _transformer(crs).transform(x, y)
    return float(lon), float(lat)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    return {dict: "an object", list: "an array", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )
