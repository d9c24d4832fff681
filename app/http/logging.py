"""Structured logs: one JSON object a line, each carrying the id of the request it belongs to.

:class:`RequestIdMiddleware` gives every request an id (the client's ``X-Request-ID`` when it is a short token,
else a new one), returns it in the ``X-Request-ID`` response header, makes it visible to every log record made
while the request is served (:data:`REQUEST_ID`, also in the thread pool) and writes one access record per
request to the ``czmap.access`` logger (method, path, status, duration, client). :class:`JsonFormatter` writes
records as JSON; :func:`log_config` is the logging configuration ``czmap serve`` gives uvicorn.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import MutableHeaders

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The id of the request being served (None outside a request).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
HEADER = "X-Request-ID"
ACCESS_LOGGER = "czmap.access"
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: Attributes every LogRecord has; anything else on a record was given with ``extra=`` and is written out.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "color_message"}

access_logger = logging.getLogger(ACCESS_LOGGER)


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message, request_id, extras, exception.

    Examples
    --------
    >>> record = logging.LogRecord("app", logging.INFO, "x.py", 1, "hello %s", ("world",), None)
    >>> body = json.loads(JsonFormatter().format(record))
    >>> body["level"], body["logger"], body["message"], body["request_id"]
    ('INFO', 'app', 'hello world', None)

    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON (a traceback stays inside the one line, as ``exception``)."""
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in body:
                body[key] = value
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


def log_config(level: str = "INFO", access_log: bool = False) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` mapping: every logger (uvicorn's too) as JSON to stderr.

    The access records of :class:`RequestIdMiddleware` are written when ``access_log`` is set; uvicorn's own
    access log is left off (ours carries the request id and the duration).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            ACCESS_LOGGER: {"level": "INFO" if access_log else "WARNING"},
        },
    }


class RequestIdMiddleware:
    """Gives each request an id, returns it as ``X-Request-ID`` and writes the access record."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request under its id; write its access record when it ends."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "query": scope.get("query_string", b"").decode("latin-1"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "client": (scope.get("client") or ("", 0))[0],
                    },
                )
            REQUEST_ID.reset(token)


def _request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is a short token of safe characters, else a new one."""
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            given = bytes(value).decode("latin-1")
            if _CLIENT_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex
