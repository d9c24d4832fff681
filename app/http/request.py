"""What every router reads from a request the same way: the base URL, the declared parameters, a capped body.

(No ``from __future__ import annotations`` here: FastAPI reads these annotations at run time.)
"""

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import Request

from app.errors import BodyTooLarge, UnknownParameter, UnsupportedMediaType

#: Media types a JSON body may be declared as (and any ``*/*+json``); a body without Content-Type is read as JSON.
JSON_TYPES = frozenset({"application/json", "application/geo+json", "application/merge-patch+json"})


def base_url(request: Request) -> str:
    """The root URL the client reached the service at, without a trailing slash."""
    return str(request.base_url).rstrip("/")


def format_from_accept(accept: str) -> str:
    """The page format an ``Accept`` header asks for when no ``f`` parameter is given: ``html`` or ``json``."""
    return "html" if "text/html" in accept and "json" not in accept else "json"


_DECLARED: dict[int, frozenset[str]] = {}


def declared_parameters(request: Request) -> frozenset[str]:
    """Names of the query parameters the matched route declares (read from its FastAPI dependant, cached)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return frozenset()
    key = id(route)
    if key not in _DECLARED:
        _DECLARED[key] = frozenset(_query_names(route.dependant))
    return _DECLARED[key]


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_parameters(request: Request) -> None:
    """Dependency: refuse query parameters the route does not declare (:class:`~app.errors.UnknownParameter`)."""
    check_parameters(request)


def check_parameters(request: Request) -> None:
    """Refuse query parameters the route does not declare (for a dependency that must run after another)."""
    allowed = declared_parameters(request)
    unknown = [name for name in request.query_params if name not in allowed]
    if unknown:
        raise UnknownParameter(unknown, sorted(allowed))


async def read_body(request: Request, limit: int, setting: str | None = None) -> bytes:
    """The request body, refused with :class:`~app.errors.BodyTooLarge` as soon as it passes ``limit`` bytes.

    ``setting`` names the setting of the limit in the refusal (``analysis.max_upload_bytes``).

    A declared ``Content-Length`` above the limit is refused before reading; a chunked body (or one that lies
    about its length) is counted while it is read, so no more than ``limit`` bytes plus one chunk are held.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(int(declared), limit, setting)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(None, limit, setting)
        chunks.append(chunk)
    return b"".join(chunks)


def require_json(request: Request) -> None:
    """Refuse a body declared as anything but JSON (:class:`~app.errors.UnsupportedMediaType`, 415).

    ``text/plain`` or a form is refused before it is read: a browser sends those across origins without a CORS
    pre-flight, so accepting them would let any page write with a key it holds.
    """
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES and not media.endswith("+json"):
        raise UnsupportedMediaType(
            f"a body of type {media or 'none'!r} is not read; send JSON ({', '.join(sorted(JSON_TYPES))})"
        )
