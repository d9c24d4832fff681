"""Errors of the overlap analysis, in the terms of the data.

:data:`ERROR_STATUS` gives each class its HTTP status and OGC exception code; :mod:`app.http.errors` reads it.
"""

from __future__ import annotations

from collections.abc import Mapping


class AnalysisError(Exception):
    """Base class of every error the analysis raises on purpose; ``parameter`` names the input at fault, if any."""

    parameter: str | None = None


class UnknownLayer(AnalysisError):
    """A layer id that is not among the loaded layers (or not of the kind the operation needs)."""

    def __init__(self, layer_id: str, known: list[str]) -> None:
        super().__init__(f"unknown layer {layer_id!r}; known: {', '.join(known) or 'none'}")
        self.layer_id = layer_id


class MalformedInput(AnalysisError):
    """A request body that does not parse at all (not JSON, not CSV, wrong encoding)."""

    parameter = "body"


class InvalidInput(AnalysisError):
    """Input that parses but is not usable: not GeoJSON, missing columns, wrong geometry type, bad values."""


class InvalidGeometry(InvalidInput):
    """A geometry that is not valid (self-intersection, ring not closed, ...), with GEOS's reason."""

    def __init__(self, feature: str, reason: str) -> None:
        super().__init__(
            f"invalid geometry in feature {feature}: {reason}; send repair=true to have it repaired with make_valid"
        )
        self.feature = feature
        self.reason = reason


class InvalidCRS(InvalidInput):
    """A declared CRS that is unknown, or coordinates that do not fit the CRS they are in."""


class InvalidParameter(InvalidInput):
    """A parameter with a value that cannot be used, or a parameter the operation does not define."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"invalid value for {parameter!r}: {message}")
        self.parameter = parameter


class LimitExceeded(AnalysisError):
    """Input larger than a configured limit (bytes, features, rows, vertices, raster cells)."""

    def __init__(self, what: str, value: int | None, limit: int, setting: str | None = None) -> None:
        counted = f"{value:,}" if value is not None else "more"
        hint = f" (setting analysis.{setting}, CZMAP_ANALYSIS__{setting.upper()})" if setting else ""
        super().__init__(f"too many {what}: {counted} > limit {limit:,}{hint}")
        self.what = what
        self.value = value
        self.limit = limit


class UnsupportedMediaType(AnalysisError):
    """A request body in a format the operation does not read."""

    parameter = "Content-Type"


#: Error class -> (HTTP status, OGC exception code); the nearest class in an error's MRO wins.
ERROR_STATUS: Mapping[type[Exception], tuple[int, str]] = {
    UnknownLayer: (404, "NotFound"),
    MalformedInput: (400, "InvalidBody"),
    InvalidParameter: (400, "InvalidParameterValue"),
    LimitExceeded: (413, "PayloadTooLarge"),
    UnsupportedMediaType: (415, "UnsupportedMediaType"),
    InvalidInput: (422, "InvalidValue"),
    AnalysisError: (400, "InvalidRequest"),
}
