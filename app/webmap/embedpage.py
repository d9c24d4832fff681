"""The embed page (/embed/code): options, a live preview and the snippet, from ``app/templates/embed_code.html``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from app.webmap.builder import DEFAULT_TITLE, zone_layer_ids
from app.webmap.view import BASEMAPS, EVENTS, WAR_END, WAR_START, MapView
from geodata.manifest import Manifest

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BASEMAP_LABELS = {
    "offline": "Our offline map (Natural Earth, GeoNames): works without a tile server",
    "osm": "Map tiles from the configured tile server",
    "none": "No basemap",
}


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )


def embed_page_html(
    view: MapView,
    manifest: Manifest,
    *,
    snippet: Mapping[str, Any],
    preview_src: str,
    oembed: str,
    public_url_set: bool,
    base_url: str,
    options: Mapping[str, Any],
) -> str:
    """The page's HTML (every value autoescaped); its script is ``/static/webmap/embedcode.js``."""
    choices = [(layer, manifest.layers[layer].title or layer) for layer in zone_layer_ids(manifest)]
    choices.append((EVENTS, "Reported events"))
    return (
        _environment()
        .get_template("embed_code.html")
        .render(
            view=view,
            title=view.title or "",
            default_title=DEFAULT_TITLE,
            layers=choices,
            basemaps=[(key, BASEMAP_LABELS[key]) for key in BASEMAPS],
            war=(WAR_START.isoformat(), WAR_END.isoformat()),
            snippet=snippet,
            preview_src=preview_src,
            oembed=oembed,
            public_url_set=public_url_set,
            base_url=base_url,
            options=options,
        )
    )
