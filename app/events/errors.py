"""Domain errors of the event store; they know nothing of HTTP.

:data:`ERROR_STATUS` gives each class its status and OGC exception code (``Unauthenticated -> 401``,
``Forbidden -> 403``, ``NotFound -> 404``, ``Conflict -> 409``, ``StaleRevision -> 412``,
``ValidationError -> 422``, ``StoreDown -> 503`` with ``Retry-After``); :mod:`app.http.errors` reads it at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class EventError(Exception):
    """Base of every event-domain error; ``str(exc)`` is a message fit for an API client."""


class Unauthenticated(EventError):
    """No credentials, or credentials that match no active API key."""


class Forbidden(EventError):
    """The authenticated actor's role does not allow the action."""


class NotFound(EventError):
    """No event with the requested id."""


class Conflict(EventError):
    """The write clashes with the stored state (duplicate id, stale revision, already retracted)."""


class StaleRevision(Conflict):
    """The write expected a revision of the event that is no longer the stored one."""


@dataclass(frozen=True)
class FieldProblem:
    """One rejected field: its dotted path and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(EventError):
    """Input that breaks the event model or the query rules; ``problems`` names each field.

    Distinct from :class:`pydantic.ValidationError`: this one is the domain's, with messages for clients.
    """

    def __init__(self, problems: list[FieldProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [FieldProblem("", problems)]
        self.problems = problems
        super().__init__("; ".join(str(p) if p.field else p.message for p in problems))

    def to_list(self) -> list[dict[str, str]]:
        """The problems as JSON-ready dicts ``{"field", "message"}``."""
        return [{"field": p.field, "message": p.message} for p in self.problems]


class PlaceNotFound(EventError):
    """A place name that the gazetteer does not know in the region."""


class AmbiguousPlace(EventError):
    """A place name that matches more than one gazetteer entry; ``candidates`` lists them all."""

    def __init__(self, name: str, candidates: list) -> None:
        self.name = name
        self.candidates = candidates
        listed = "; ".join(str(c) for c in candidates)
        super().__init__(f"place name {name!r} is ambiguous ({len(candidates)} candidates): {listed}")


class StoreDown(EventError):
    """The database behind the store cannot be reached now (outage, restart, pool exhausted); try again later.

    ``retry_after`` is the number of seconds a client should wait (sent as ``Retry-After``).
    """

    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SchemaError(EventError):
    """The database schema is newer than this code, or a migration failed."""


#: Error class -> (HTTP status, OGC exception code); the nearest class in an error's MRO wins.
ERROR_STATUS: Mapping[type[Exception], tuple[int, str]] = {
    Unauthenticated: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "NotFound"),
    StaleRevision: (412, "PreconditionFailed"),
    Conflict: (409, "Conflict"),
    ValidationError: (422, "InvalidValue"),
    SchemaError: (503, "ServiceUnavailable"),
    StoreDown: (503, "ServiceUnavailable"),
    EventError: (500, "ServerError"),
}
