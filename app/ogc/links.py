"""Links of OGC API responses, and the ``Link`` header that repeats them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
CSV = "text/csv"
GPKG = "application/geopackage+sqlite3"
FGB = "application/flatgeobuf"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
FORMAT_TYPES = {"json": JSON, "geojson": GEOJSON, "html": HTML, "csv": CSV, "gpkg": GPKG, "fgb": FGB}
_HEADER_RELS = ("self", "alternate", "next", "prev", "collection", "license")


def link(href: str, rel: str, media_type: str | None = None, title: str | None = None) -> dict[str, Any]:
    """One link object.

    Examples
    --------
    >>> link("http://h/api", "service-desc", OPENAPI)["rel"]
    'service-desc'

    """
    out: dict[str, Any] = {"href": href, "rel": rel}
    if media_type:
        out["type"] = media_type
    if title:
        out["title"] = title
    return out


def with_query(url: URL | str, **changes: Any) -> str:
    """``url`` with query parameters replaced (a value of ``None`` removes the parameter), order kept.

    Examples
    --------
    >>> with_query("http://h/items?limit=5&f=html", f="json", offset=5)
    'http://h/items?limit=5&f=json&offset=5'

    """
    url = URL(str(url))
    params = [(k, changes[k] if k in changes else v) for k, v in parse_qsl(url.query, keep_blank_values=True)]
    params = [(k, v) for k, v in dict.fromkeys(params) if v is not None]
    seen = {k for k, _ in params}
    params += [(k, v) for k, v in changes.items() if v is not None and k not in seen]
    return str(url.replace(query=urlencode([(k, str(v)) for k, v in params])))


def format_links(url: URL | str, current: str, formats: dict[str, str], noun: str) -> list[dict[str, Any]]:
    """``self`` for the current format and ``alternate`` for the others, as ``f=`` variants of ``url``."""
    return [
        link(
            with_query(url, f=fmt),
            "self" if fmt == current else "alternate",
            media_type,
            f"This {noun} as {fmt.upper()}",
        )
        for fmt, media_type in formats.items()
    ]


def link_header(links: list[dict[str, Any]]) -> str:
    """The HTTP ``Link`` header (RFC 8288) for the navigational links of a response."""
    parts = []
    for item in links:
        if item["rel"] not in _HEADER_RELS:
            continue
        attrs = f'; rel="{item["rel"]}"' + (f'; type="{item["type"]}"' if "type" in item else "")
        parts.append(f"<{item['href']}>{attrs}")
    return ", ".join(parts)
