"""Content-Security-Policy of the map pages: scripts only from our origin or with the response's nonce."""

from __future__ import annotations

import secrets


def new_nonce() -> str:
    """A fresh, unguessable nonce for one response."""
    return secrets.token_urlsafe(18)


def content_security_policy(
    nonce: str, *, tile_origin: str | None, api_origin: str | None = None, frame_ancestors: str = "'self'"
) -> str:
    """The policy for a map page.

    Parameters
    ----------
    nonce : str
        The nonce the page's inline script carries.
    tile_origin : str or None
        Origin of the basemap tiles (None for ``basemap=none``).
    api_origin : str or None
        Origin of the OGC API when it is not the page's own.
    frame_ancestors : str
        Who may frame the page: ``'self'`` for /map, ``*`` for /embed.

    Examples
    --------
    >>> "script-src 'self' 'nonce-abc'" in content_security_policy("abc", tile_origin=None)
    True

    """
    images = " ".join(filter(None, ["'self'", "data:", tile_origin]))
    connect = " ".join(filter(None, ["'self'", api_origin]))
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            # Leaflet positions everything with inline styles; no data reaches a style attribute.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            f"connect-src {connect}",
            "font-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "object-src 'none'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )
