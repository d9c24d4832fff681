"""Request bodies of the analysis endpoints for the OpenAPI document, with examples for Swagger UI's "try it out".

The routes read the raw body themselves (to refuse oversize bodies early and to read CSV), so FastAPI cannot
infer these; they are declared with ``openapi_extra``.
"""

from __future__ import annotations

from typing import Any

_POINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "GeoJSON FeatureCollection (or Feature, or MultiPoint) of Point features in CRS84 (lon, lat); "
    "optional properties precision_m (metres) or where_prec (UCDP code).",
    "required": ["type"],
    "properties": {"type": {"type": "string", "enum": ["FeatureCollection", "Feature", "MultiPoint", "Point"]}},
}
_POINTS_EXAMPLE: dict[str, Any] = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "id": "fuzuli",
            "geometry": {"type": "Point", "coordinates": [47.1453, 39.6009]},
            "properties": {"name": "Fuzuli", "precision_m": 2000},
        },
        {
            "type": "Feature",
            "id": "aghdam",
            "geometry": {"type": "Point", "coordinates": [46.9274, 39.991]},
            "properties": {"name": "Aghdam"},
        },
    ],
}
_CSV_EXAMPLE = (
    "id;name;latitude;longitude;precision_m\nfuzuli;Fuzuli;39,6009;47,1453;2000\naghdam;Aghdam;39,9910;46,9274;\n"
)
_AREA_EXAMPLE: dict[str, Any] = {
    "type": "Feature",
    "id": "fuzuli-box",
    "properties": {"name": "about 20 km around Fuzuli"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[47.03, 39.51], [47.26, 39.51], [47.26, 39.69], [47.03, 39.69], [47.03, 39.51]]],
    },
}
_AREA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "GeoJSON Polygon/MultiPolygon geometry, Feature or FeatureCollection in CRS84, or with a declared "
    'crs ({"type": "name", "properties": {"name": "EPSG:32638"}}).',
    "required": ["type"],
}

CLASSIFY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/geo+json": {"schema": _POINT_SCHEMA, "example": _POINTS_EXAMPLE},
            "application/json": {"schema": _POINT_SCHEMA, "example": _POINTS_EXAMPLE},
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "CSV with a header row: latitude/lat and longitude/lon/lng columns (any usual "
                    "spelling), optional id, precision_m, where_prec; separator , ; tab or |; decimal commas and a "
                    "UTF-8 byte order mark are accepted; blank cells are missing values.",
                },
                "example": _CSV_EXAMPLE,
            },
        },
    }
}
OVERLAP_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/geo+json": {"schema": _AREA_SCHEMA, "example": _AREA_EXAMPLE},
            "application/json": {"schema": _AREA_SCHEMA, "example": _AREA_EXAMPLE},
        },
    }
}
