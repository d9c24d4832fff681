"""HTML snippets journalists paste into articles: an iframe of /embed, or the static PNG with its alt text."""

from __future__ import annotations

import ipaddress
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


def responsive_snippet(base_url: str, view: MapView, width: int, height: int) -> str:
    """An iframe that fills its column and keeps the ``width``:``height`` shape (every attribute escaped).

    Examples
    --------
    >>> html = responsive_snippet("https://example.org", MapView(), 800, 600)
    >>> 'padding-top:75.00%' in html and 'width:100%' in html
    True

    """
    title = view.title or DEFAULT_TITLE
    ratio = 100 * height / width
    return (
        f'<div style="position:relative;width:100%;height:0;padding-top:{ratio:.2f}%">'
        f'<iframe src="{escape(embed_url(base_url, view))}" title="{escape(title)}" '
        f'style="position:absolute;top:0;left:0;width:100%;height:100%;border:0" loading="lazy" allowfullscreen '
        f'referrerpolicy="strict-origin-when-cross-origin"></iframe></div>'
    )


def oembed_size(maxwidth: int | None, maxheight: int | None, default: tuple[int, int] = (800, 600)) -> tuple[int, int]:
    """The iframe size of an oEmbed answer: the default shape, shrunk to fit ``maxwidth`` and ``maxheight``.

    Examples
    --------
    >>> oembed_size(None, None), oembed_size(400, None), oembed_size(700, 300)
    ((800, 600), (400, 300), (400, 300))

    """
    width, height = default
    scale = min(1.0, (maxwidth or width) / width, (maxheight or height) / height)
    return max(200, round(width * scale)), max(200, round(height * scale))


def public_url_warning(host: str, public_url: str | None) -> str | None:
    """The start-up warning when embed snippets would point at this server's own address.

    Examples
    --------
    >>> public_url_warning("127.0.0.1", None) is None, public_url_warning("0.0.0.0", "https://maps.example.org")
    (True, None)
    >>> public_url_warning("0.0.0.0", None)[:40]
    'CZMAP_PUBLIC_URL is not set: embed snipp'

    """
    if public_url:
        return None
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return None
    return (
        "CZMAP_PUBLIC_URL is not set: embed snippets, oEmbed answers and links will point at the address each "
        f"request came to (this server listens on {host}); set it to the public address, e.g. https://maps.example.org"
    )


def image_snippet(base_url: str, view: MapView, width: int, height: int, alt: str) -> str:
    """An ``<img>`` of the static map linked to the interactive one, with the generated alt text."""
    full = f"{base_url.rstrip('/')}/map?{urlencode(view.query())}"
    return (
        f'<a href="{escape(full)}"><img src="{escape(image_url(base_url, view, width, height))}" '
        f'alt="{escape(alt)}" width="{width}" height="{height}" style="max-width:100%;height:auto"></a>'
    )
