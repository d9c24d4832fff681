"""Security headers on every response: a Content-Security-Policy, ``nosniff``, a framing rule, a referrer policy.

A route that sets its own policy keeps it (the map pages: inline script by hash, tiles; ``/embed``: framed by
anyone). Other HTML pages (landing, collections, items, history, API pages) get :func:`html_policy`: scripts and
styles from this origin only (styles may be inline: Leaflet positions with them), images from here, ``data:``
and the tile server, and no framing. Everything else (JSON, GeoJSON, CSV, images) gets :data:`DATA_POLICY`,
which allows nothing to run. ``X-Frame-Options`` repeats the policy's ``frame-ancestors`` for older browsers
(``DENY``, ``SAMEORIGIN``, or nothing for a page anyone may frame).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders

from app.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The policy of every response that is not an HTML page: nothing in it may run, load or be framed.
DATA_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
#: Sent with every response.
FIXED_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}


def html_policy(tile_origin: str | None = None, api_origin: str | None = None) -> str:
    """The policy of the HTML pages that do not set their own.

    Examples
    --------
    >>> html_policy("https://tile.example.org").split("; ")[:2]
    ["default-src 'none'", "script-src 'self'"]
    >>> "img-src 'self' data: https://tile.example.org" in html_policy("https://tile.example.org")
    True

    """
    images = " ".join(filter(None, ["'self'", "data:", tile_origin]))
    connect = " ".join(filter(None, ["'self'", api_origin]))
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            f"connect-src {connect}",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


def frame_rule(policy: str) -> str | None:
    """The ``X-Frame-Options`` value matching a policy's ``frame-ancestors`` (None: anyone may frame it).

    >>> frame_rule("default-src 'none'; frame-ancestors 'self'"), frame_rule("frame-ancestors *")
    ('SAMEORIGIN', None)
    """
    for directive in policy.split(";"):
        name, _, value = directive.strip().partition(" ")
        if name == "frame-ancestors":
            value = value.strip()
            if value == "'none'":
                return "DENY"
            return "SAMEORIGIN" if value == "'self'" else None
    return "DENY"


class SecurityHeadersMiddleware:
    """Adds the policy, ``nosniff``, the framing rule and the referrer policy where a response lacks them."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.html = html_policy(settings.basemap.origin, settings.map.api_origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, adding the missing headers to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, with_headers)

    def _add(self, headers: MutableHeaders) -> None:
        for name, value in FIXED_HEADERS.items():
            headers.setdefault(name, value)
        if "content-security-policy" not in headers:
            html = headers.get("content-type", "").startswith("text/html")
            headers["Content-Security-Policy"] = self.html if html else DATA_POLICY
        rule = frame_rule(headers["content-security-policy"])
        if rule is not None:
            headers.setdefault("X-Frame-Options", rule)
