"""HTML snippets journalists paste into articles: an iframe of /embed, or the static PNG with its alt text."""

from __future__ import annotations

from html import escape
from typing import Literal
from urllib.parse import urlencode

from app.webmap.builder import DEFAULT_TITLE
from app.webmap.view import MapView

Variant = Literal["iframe", "image"]


def embed_url(base_url: str, view: MapView) -> str:
    """The /embed URL that reproduces ``view``."""
    return f"{base_url.rstrip('/')}/embed?{urlencode(view.query())}"


def image_url(base_url: str, view: MapView, width: int, height: int) -> str:
    """The /map.png URL of ``view`` at ``width`` x ``height`` pixels."""
    return f"{base_url.rstrip('/')}/map.png?{urlencode({**view.query(), 'width': width, 'height': height})}"


def iframe_snippet(base_url: str, view: MapView, width: int, height: int) -> str:
    """An ``<iframe>`` of the embeddable map (every attribute escaped).

    Examples
    --------
    >>> html = iframe_snippet("https://example.org", MapView(title='"><b>x'), 600, 400)
    >>> '"><b>' in html, 'title="&quot;&gt;&lt;b&gt;x"' in html
    (False, True)

    """
    title = view.title or DEFAULT_TITLE
    return (
        f'<iframe src="{escape(embed_url(base_url, view))}" title="{escape(title)}" width="{width}" '
        f'height="{height}" style="border:0;max-width:100%" loading="lazy" allowfullscreen '
        f'referrerpolicy="strict-origin-when-cross-origin"></iframe>'
    )


def image_snippet(base_url: str, view: MapView, width: int, height: int, alt: str) -> str:
    """An ``<img>`` of the static map linked to the interactive one, with the generated alt text."""
    full = f"{base_url.rstrip('/')}/map?{urlencode(view.query())}"
    return (
        f'<a href="{escape(full)}"><img src="{escape(image_url(base_url, view, width, height))}" '
        f'alt="{escape(alt)}" width="{width}" height="{height}" style="max-width:100%;height:auto"></a>'
    )
