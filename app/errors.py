"""Domain errors of the service.

They describe what went wrong in the terms of the data (an unknown collection, a filter that does not parse),
never in terms of HTTP: the table in :mod:`app.ogc.errorhandlers` maps each class to a status code at the edge.
"""

from __future__ import annotations


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
    """A query parameter that the operation does not define."""

    def __init__(self, names: list[str], allowed: list[str]) -> None:
        super().__init__(
            f"unknown query parameter(s): {', '.join(sorted(names))}; allowed: {', '.join(sorted(allowed))}",
            parameter=sorted(names)[0],
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
