"""The one place where errors become HTTP responses: a table from error class to status code.

Every error body is JSON ``{"code", "description", "parameter"?}`` (the OGC exception shape), never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.collections.event_features import BodyTooLarge, MalformedBody
from app.errors import CzmapError, FormatNotAvailable, InvalidQuery, NotFound, StoreUnavailable
from app.events import errors as event_errors
from app.responses import JSONResponse

logger = logging.getLogger(__name__)

#: Domain error class -> (HTTP status, OGC exception code); the most specific class listed wins.
STATUS_TABLE: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "NotFound"),
    FormatNotAvailable: (400, "InvalidParameterValue"),
    InvalidQuery: (400, "InvalidParameterValue"),
    StoreUnavailable: (503, "ServiceUnavailable"),
    MalformedBody: (400, "InvalidBody"),
    BodyTooLarge: (413, "PayloadTooLarge"),
    CzmapError: (500, "ServerError"),
    event_errors.Unauthenticated: (401, "Unauthorized"),
    event_errors.Forbidden: (403, "Forbidden"),
    event_errors.NotFound: (404, "NotFound"),
    event_errors.StaleRevision: (412, "PreconditionFailed"),
    event_errors.Conflict: (409, "Conflict"),
    event_errors.ValidationError: (422, "InvalidValue"),
    event_errors.SchemaError: (503, "ServiceUnavailable"),
    event_errors.EventError: (500, "ServerError"),
}
#: Headers sent with a status (RFC 6750: a 401 names the scheme the client must use).
STATUS_HEADERS: dict[int, dict[str, str]] = {401: {"WWW-Authenticate": 'Bearer realm="czmap"'}}


class NotModified(Exception):
    """The client's cached copy is current (raised by the ETag check, answered with 304)."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("not modified")
        self.headers = headers


def status_of(error: Exception) -> tuple[int, str]:
    """The status and code of a domain error, from :data:`STATUS_TABLE`."""
    for cls in type(error).__mro__:
        if cls in STATUS_TABLE:
            return STATUS_TABLE[cls]
    return 500, "ServerError"


def error_body(code: str, description: str, parameter: str | None = None) -> dict[str, str]:
    """The JSON body of an error response."""
    body = {"code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    return body


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CzmapError | event_errors.EventError)
    status, code = status_of(exc)
    if status >= 500:
        logger.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
    body: dict[str, Any] = error_body(code, str(exc), getattr(exc, "parameter", None))
    if isinstance(exc, event_errors.ValidationError):
        body["problems"] = exc.to_list()
        fields = [p["field"] for p in body["problems"] if p["field"]]
        if fields:
            body.setdefault("parameter", fields[0])
    return JSONResponse(body, status_code=status, headers=STATUS_HEADERS.get(status))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "header", "body")]
    name = ".".join(where) or None
    value = first.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
    reason = str(first.get("msg", "invalid"))
    message = f"invalid value for {name!r}: {reason}{shown}" if name else reason
    return JSONResponse(error_body("InvalidParameterValue", message, name), status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable"}.get(exc.status_code, "HTTPError")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    return JSONResponse(error_body(code, detail), status_code=exc.status_code, headers=exc.headers)


async def _not_modified(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotModified)
    return Response(status_code=304, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s", request.url.path)
    return JSONResponse(error_body("ServerError", "internal error; it has been logged"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into a JSON response."""
    app.add_exception_handler(CzmapError, _domain_error)
    app.add_exception_handler(event_errors.EventError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NotModified, _not_modified)
    app.add_exception_handler(Exception, _unexpected)
