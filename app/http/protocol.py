"""HTTP details every route shares: HEAD as GET without a body, OPTIONS with the true ``Allow``, ``Vary: Accept``.

:class:`ProtocolMiddleware` wraps the app (inside CORS, so a CORS preflight never reaches it):

- ``HEAD`` is served as ``GET`` with the body dropped (headers, status and ``Content-Length`` kept);
- ``OPTIONS`` (not a preflight) is answered 204 with ``Allow`` listing the methods of every route of the path;
- a 405 carries that same ``Allow`` (Starlette names only the methods of the first route whose path matched);
- a ``GET`` answer that depends on ``Accept`` (no ``f`` in the query: JSON or HTML is negotiated) says
  ``Vary: Accept``, so a shared cache does not serve the HTML page to a JSON client.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.responses import JSONResponse


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Routes with a path and methods; FastAPI keeps an included router as one entry holding its own routes."""
    for route in routes:
        expand = getattr(route, "effective_candidates", None)
        if callable(expand):
            yield from _leaf_routes(expand())
        else:
            yield route


def allowed_methods(app: ASGIApp, scope: Scope) -> list[str]:
    """Every method some route of ``app`` answers at the path of ``scope`` (``HEAD`` with ``GET``, ``OPTIONS``)."""
    methods: set[str] = set()
    for route in _leaf_routes(getattr(app, "routes", ())):
        match, _ = route.matches({**scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or {"GET"})
    if not methods:
        return []
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"})


class ProtocolMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, router: ASGIApp) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await self._options(scope, receive, send)
            return
        head = method == "HEAD"
        inner = {**scope, "method": "GET"} if head else scope
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        negotiated = inner["method"] == "GET" and not any(name == "f" for name, _ in query)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if message["status"] == 405:
                    headers["Allow"] = ", ".join(allowed_methods(self.router, scope))
                if negotiated and message["status"] < 300:
                    headers.add_vary_header("Accept")
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        await self.app(inner, receive, send_wrapper)

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = allowed_methods(self.router, scope)
        response: Response
        if not allowed:
            response = JSONResponse({"code": "NotFound", "description": f"no resource at {scope['path']}"}, 404)
        else:
            response = Response(status_code=204, headers={"Allow": ", ".join(allowed)})
        await response(scope, receive, send)
