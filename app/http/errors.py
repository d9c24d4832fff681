"""The one place where errors become HTTP responses.

Each domain exports a table ``ERROR_STATUS`` (error class -> HTTP status and OGC exception code) next to its
errors; :data:`DOMAIN_TABLES` lists them and :func:`install_error_handlers` registers one handler for all.
Every error body has one shape, :class:`ErrorBody`: ``{"code", "description", "parameter"?, "problems"?}``.
A 401 carries ``WWW-Authenticate``; an error with a ``retry_after`` (seconds) carries ``Retry-After`` (a 503 while
the database is down, a 429 over a rate limit); an unexpected exception is a 500 with a generic body, its
traceback logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from app import errors as service_errors
from app.analysis import errors as analysis_errors
from app.events import errors as event_errors
from app.http.etags import NotModified
from app.responses import JSONResponse
from app.webmap import errors as map_errors

logger = logging.getLogger(__name__)

#: The tables of every domain (service/OGC, events, analysis, map), read in this order.
DOMAIN_TABLES: Sequence[Mapping[type[Exception], tuple[int, str]]] = (
    service_errors.ERROR_STATUS,
    event_errors.ERROR_STATUS,
    analysis_errors.ERROR_STATUS,
    map_errors.ERROR_STATUS,
)
STATUS_TABLE: dict[type[Exception], tuple[int, str]] = {k: v for table in DOMAIN_TABLES for k, v in table.items()}
#: Headers sent with a status (RFC 6750: a 401 names the scheme the client must use).
STATUS_HEADERS: dict[int, dict[str, str]] = {401: {"WWW-Authenticate": 'Bearer realm="czmap"'}}
#: OGC exception codes of the statuses the framework raises itself (unknown path, method, media type).
HTTP_CODES: dict[int, str] = {404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable"}
#: How FastAPI's generated document refers to its validation error body (which this service never sends).
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


class Problem(BaseModel):
    """One rejected field of a request: its dotted path and what is wrong with it."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error response (the OGC API exception shape, plus the problems of a validation error)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    description: str
    parameter: str | None = None
    problems: list[Problem] | None = None


def document_errors(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI ``document`` with every operation's error responses in the one shape (JSON :class:`ErrorBody`).

    Each operation gets ``4XX`` and ``5XX`` responses, and every 4xx/5xx response it declares gets the body, as
    ``application/json`` whatever the media type of its success (FastAPI would give a response model that one).
    FastAPI's own ``422 Validation Error`` entries go: an invalid parameter is answered 400 (:func:`_validation_error`).

    Examples
    --------
    >>> doc = document_errors({"paths": {"/x": {"get": {"responses": {"200": {}, "404": {"description": "No x."}}}}}})
    >>> sorted(doc["paths"]["/x"]["get"]["responses"]), sorted(doc["components"]["schemas"])
    (['200', '404', '4XX', '5XX'], ['ErrorBody', 'Problem'])

    """
    _, schemas = models_json_schema([(ErrorBody, "serialization")], ref_template="#/components/schemas/{model}")
    document.setdefault("components", {}).setdefault("schemas", {}).update(schemas.get("$defs", {}))
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if _FASTAPI_422 in str(responses.get("422", {})):
                del responses["422"]
            responses.setdefault("4XX", {"description": "The request cannot be served as sent (README: Errors)."})
            responses.setdefault("5XX", {"description": "The service failed, or a store is unavailable."})
            for status, response in responses.items():
                if str(status)[0] in "45":
                    response["content"] = content
    if _FASTAPI_422 not in str(document.get("paths")):
        for name in ("HTTPValidationError", "ValidationError"):
            document["components"]["schemas"].pop(name, None)
    return document


def status_of(error: Exception) -> tuple[int, str]:
    """The status and code of a domain error: the nearest class of its MRO in :data:`STATUS_TABLE`."""
    for cls in type(error).__mro__:
        if cls in STATUS_TABLE:
            return STATUS_TABLE[cls]
    return 500, "ServerError"


def error_response(
    status: int,
    code: str,
    description: str,
    parameter: str | None = None,
    problems: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response in the one shape (``parameter`` and ``problems`` only when given)."""
    body: dict[str, Any] = {"code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    if problems:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


async def _domain_error(request: Request, exc: Exception) -> Response:
    status, code = status_of(exc)
    if status >= 500:
        # a database outage answers every event request 503: the store logs the outage and its end once (WARNING)
        level = logging.INFO if isinstance(exc, event_errors.StoreDown) else logging.ERROR
        logger.log(level, "%s on %s: %s", type(exc).__name__, request.url.path, exc)
    parameter = getattr(exc, "parameter", None)
    problems = None
    if isinstance(exc, event_errors.ValidationError):
        problems = exc.to_list()
        parameter = parameter or next((p["field"] for p in problems if p["field"]), None)
    headers = dict(STATUS_HEADERS.get(status, {}))
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return error_response(status, code, str(exc), parameter, problems, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(error) for error in exc.errors()] or [{"field": "", "message": "invalid request"}]
    first = exc.errors()[0] if exc.errors() else {}
    name = problems[0]["field"] or None
    value = first.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
    message = f"invalid value for {name!r}: {problems[0]['message']}{shown}" if name else problems[0]["message"]
    return error_response(400, "InvalidParameterValue", message, name, problems)


def _problem(error: Mapping[str, Any]) -> dict[str, str]:
    where = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "header", "body")]
    return {"field": ".".join(where), "message": str(error.get("msg", "invalid"))}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    code = HTTP_CODES.get(exc.status_code, "HTTPError")
    return error_response(exc.status_code, code, detail, headers=exc.headers)


async def _not_modified(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotModified)
    return Response(status_code=304, headers=exc.headers)


async def _client_gone(request: Request, exc: Exception) -> Response:
    """A client that disconnected before its body was read: one line in the log, no traceback (nobody reads this)."""
    logger.info("client disconnected before its request body was complete: %s %s", request.method, request.url.path)
    return error_response(400, "InvalidBody", "the client disconnected before the request body was complete")


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s", request.url.path)
    return error_response(500, "ServerError", "internal error; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into a JSON response of the one shape (304 aside)."""
    for cls in STATUS_TABLE:
        app.add_exception_handler(cls, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotModified, _not_modified)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
