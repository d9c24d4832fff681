"""Response classes: JSON and GeoJSON serialised with orjson, the OpenAPI document, CSV."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse as _StarletteJSON
from starlette.responses import Response

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class JSONResponse(_StarletteJSON):
    """``application/json`` serialised with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content``."""
        return orjson.dumps(content, option=_OPTIONS)


class GeoJSONResponse(JSONResponse):
    """``application/geo+json`` (features and feature collections)."""

    media_type = "application/geo+json"


class SchemaResponse(JSONResponse):
    """``application/schema+json`` (queryables)."""

    media_type = "application/schema+json"


class OpenAPIResponse(JSONResponse):
    """The OpenAPI 3.0 document, with the media type OGC API - Features asks for."""

    media_type = "application/vnd.oai.openapi+json;version=3.0"


class CSVResponse(Response):
    """``text/csv`` with a UTF-8 charset."""

    media_type = "text/csv; charset=utf-8"
