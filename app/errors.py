"""Domain errors of the service.

They describe what went wrong in the terms of the data (an unknown collection, a filter that does not parse).
:data:`ERROR_STATUS` gives each class its HTTP status and OGC exception code; :mod:`app.http.errors` reads it
(and the tables of the other domains) at the edge. Nothing here imports FastAPI or Starlette.
"""

from __future__ import annotations

from collections.abc import Mapping


class CzmapError(Exception):
    """Base class of every error the service raises on purpose."""


class NotFound(CzmapError):
    """Something addressed by the client does not exist."""


class CollectionNotFound(NotFound):
    """No collection has the requested id."""

    def __init__(self, collection_id: str, known: list[str] | None = None) -> None:
        hint = f"; known collections: {', '.join(known)}" if known else ""
        super().__init__(f"collection {collection_id!r} not found{hint}")
        self.collection_id = collection_id


class FeatureNotFound(NotFound):
    """No feature of the collection has the requested id."""

    def __init__(self, collection_id: str, feature_id: str) -> None:
        super().__init__(f"feature {feature_id!r} not found in collection {collection_id!r}")
        self.collection_id = collection_id
        self.feature_id = feature_id


class InvalidQuery(CzmapError):
    """A request parameter is unknown or has a value that cannot be used."""

    def __init__(self, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class UnknownParameter(InvalidQuery):
    """A query parameter that the operation does not define (names are cut to 60 characters when echoed)."""

    def __init__(self, names: list[str], allowed: list[str]) -> None:
        shown = sorted(name[:60] for name in names)
        super().__init__(
            f"unknown query parameter(s): {', '.join(shown)}; allowed: {', '.join(sorted(allowed)) or 'none'}",
            parameter=shown[0],
        )


class InvalidParameter(InvalidQuery):
    """A known query parameter with a value that is malformed or out of range."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"invalid value for {parameter!r}: {message}", parameter=parameter)


class InvalidFilter(InvalidQuery):
    """A CQL2 filter that does not parse, names an unknown property, or uses an unsupported operator."""

    def __init__(self, message: str) -> None:
        super().__init__(f"invalid filter: {message}", parameter="filter")


class FormatNotAvailable(InvalidQuery):
    """The collection cannot be delivered in the requested format."""

    def __init__(self, collection_id: str, fmt: str, available: list[str]) -> None:
        super().__init__(
            f"collection {collection_id!r} is not available as f={fmt}; available: {', '.join(available)}",
            parameter="f",
        )


class StoreUnavailable(CzmapError):
    """The built layers (or another store) cannot be opened."""


class MalformedBody(CzmapError):
    """A request body that does not parse at all (not JSON, empty)."""

    parameter = "body"


class BodyTooLarge(CzmapError):
    """A request body larger than the configured limit (``size`` is None when it was cut off while read)."""

    parameter = "body"

    def __init__(self, size: int | None, limit: int, setting: str | None = None) -> None:
        got = f"{size:,} bytes" if size is not None else f"more than {limit:,} bytes (counted while it was read)"
        named = f" (setting {setting})" if setting else ""
        super().__init__(f"the request body is too large: {got}; at most {limit:,} bytes are accepted{named}")
        self.size = size
        self.limit = limit


class TooManyRequests(CzmapError):
    """A client address or API key over its rate limit, or locked out after failed authentications."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Busy(CzmapError):
    """Every slot of an expensive operation (image rendering, analysis) stayed taken while the request waited."""

    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedMediaType(CzmapError):
    """A request body of a media type the operation does not read."""

    parameter = "Content-Type"


#: Error class -> (HTTP status, OGC exception code); the nearest class in an error's MRO wins.
ERROR_STATUS: Mapping[type[Exception], tuple[int, str]] = {
    NotFound: (404, "NotFound"),
    InvalidQuery: (400, "InvalidParameterValue"),
    MalformedBody: (400, "InvalidBody"),
    BodyTooLarge: (413, "PayloadTooLarge"),
    UnsupportedMediaType: (415, "UnsupportedMediaType"),
    TooManyRequests: (429, "TooManyRequests"),
    Busy: (503, "ServiceUnavailable"),
    StoreUnavailable: (503, "ServiceUnavailable"),
    CzmapError: (500, "ServerError"),
}
