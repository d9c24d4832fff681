"""Content-Security-Policy of the map pages: scripts only from our origin, or the page's own inline script.

The inline script is allowed by its hash, not by a nonce: a nonce must change with every response, which made
every /map and /embed page uncacheable (``no-store``), so a widely read article's embedded map was built afresh,
~20 ms of CPU, for each of its readers. With the hash, the same view is the same bytes: cached by the server,
by proxies and by browsers (ETag, 304).
"""

from __future__ import annotations


def content_security_policy(
    script: str, *, tile_origin: str | None, api_origin: str | None = None, frame_ancestors: str = "'self'"
) -> str:
    """The policy for a map page.

    Parameters
    ----------
    script : str
        The source that allows the page's inline script: ``'sha256-<base64>'``.
    tile_origin : str or None
        Origin of the basemap tiles (None for ``basemap=none``).
    api_origin : str or None
        Origin of the OGC API when it is not the page's own.
    frame_ancestors : str
        Who may frame the page: ``'self'`` for /map, ``*`` for /embed.

    Examples
    --------
    >>> "script-src 'self' 'sha256-abc='" in content_security_policy("'sha256-abc='", tile_origin=None)
    True

    """
    images = " ".join(filter(None, ["'self'", "data:", tile_origin]))
    connect = " ".join(filter(None, ["'self'", api_origin]))
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {script}",
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
