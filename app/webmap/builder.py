"""Assemble the Folium page of a view: zone layers from the manifest, events, controls; render with its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from app.events.vocab import ACLED_EVENT_TYPES
from app.settings import Settings
from app.webmap import elements as el
from app.webmap.attribution import attribution_html
from app.webmap.view import BASEMAP_LAYER, EARLIEST, EVENTS, LATEST, WAR_END, WAR_START, ZONE_ORDER, MapView
from geodata.manifest import LayerEntry, Manifest

DEFAULT_TITLE = "Reported fighting in the 2020 Nagorno-Karabakh war"
MAX_ZONE_FEATURES = 5_000


@dataclass(frozen=True)
class PageOptions:
    """How the page is framed: the full /map page or the chrome-less /embed variant."""

    embed: bool = False
    full_map_url: str | None = None
    oembed_url: str | None = None


def zone_layer_ids(manifest: Manifest) -> list[str]:
    """Ids of the manifest's zone layers in drawing order (known zones first, then any others; not the basemap)."""
    present = [layer for layer in manifest.layers if layer != BASEMAP_LAYER]
    return [layer for layer in ZONE_ORDER if layer in present] + [other for other in present if other not in ZONE_ORDER]


def zone_manifest(manifest: Manifest) -> Manifest:
    """The manifest without the basemap layer (credited by the basemap itself, only while it is shown)."""
    return manifest.model_copy(update={"layers": {k: v for k, v in manifest.layers.items() if k != BASEMAP_LAYER}})


def geometry_kind(geometry_type: str | None) -> str:
    """``polygon``, ``line`` or ``point`` for a manifest geometry type (legend swatch)."""
    kind = (geometry_type or "").lower()
    if "polygon" in kind:
        return "polygon"
    if "line" in kind:
        return "line"
    return "point"


def is_dated(meta: LayerEntry) -> bool:
    """Whether a layer changes with the date: a validity on the layer, or ``valid_from`` / ``valid_to`` columns."""
    columns = meta.properties
    return bool(meta.valid_from or meta.valid_to or "valid_from" in columns or "valid_to" in columns)


def layer_day(meta: LayerEntry, start: date, end: date) -> tuple[date, bool]:
    """The day a dated layer is drawn for, and whether that is its last day.

    The last day shown; but a layer whose validity ends within the dates shown (``valid_to`` after the start and
    not after the end) is drawn as on its last day, the day before ``valid_to``: the 1994 line of contact (valid to
    10 November 2020, excluded) is drawn in a view of the war as on 9 November 2020. The page's script applies the
    same rule (``czmap.layerDay``).

    Examples
    --------
    >>> meta = LayerEntry(id="l", title="L", version="1", geometry_type="LineString", bbox=(0, 0, 1, 1),
    ...                   licence={"name": "PD"}, files={}, valid_from="1994-05-12", valid_to="2020-11-10")
    >>> layer_day(meta, date(2020, 9, 27), date(2020, 11, 10))
    (datetime.date(2020, 11, 9), True)
    >>> layer_day(meta, date(2020, 10, 1), date(2020, 10, 31)), layer_day(meta, date(2020, 11, 15), date(2020, 11, 20))
    ((datetime.date(2020, 10, 31), False), (datetime.date(2020, 11, 20), False))

    """
    ends = meta.valid_to
    if ends is not None:
        if start < ends <= end:
            return ends - timedelta(days=1), True
    return end, False


def collection_url(settings: Settings, collection: str) -> str:
    """The items URL of a collection as browsers reach it."""
    return f"{settings.map.api_base.rstrip('/')}/collections/{collection}/items"


def tiles_url(settings: Settings, collection: str) -> str:
    """The vector tile URL template of a collection as browsers reach it (Leaflet's {z}/{y}/{x})."""
    return f"{settings.map.api_base.rstrip('/')}/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"


def build_map(view: MapView, manifest: Manifest, settings: Settings, options: PageOptions) -> el.MapPage:
    """Build the page of ``view``: every element carries URLs and styles only, never features.

    Parameters
    ----------
    view : MapView
        The validated view (centre, zoom, dates, layers, filters, basemap, theme, title).
    manifest : Manifest
        The typed layer manifest of the layer store.
    settings : Settings
        Basemap, API prefix and loading limits.
    options : PageOptions
        Full page or embed.

    Returns
    -------
    MapPage
        Render it with :func:`render_page`.

    """
    title = view.title or DEFAULT_TITLE
    classes = ["czmap-embed" if options.embed else "czmap-page"] + (["czmap-dark"] if view.dark else [])
    page = el.MapPage(page_title=title, body_class=" ".join(classes), oembed_url=options.oembed_url)
    config = {
        "view": view.js_state(),
        "embed": options.embed,
        "label": f"Map: {title}",
        "attributions": attribution_html(zone_manifest(manifest)),
    }
    fmap = el.ConflictMap(
        center=(view.lat, view.lon), zoom=view.zoom, static_url=settings.map.static_url, config=config
    )
    page.add_child(fmap)
    fmap.add_child(_basemaps(view, manifest, settings))
    for child in _zone_layers(manifest, settings) + _controls(view, manifest, settings, title, options):
        fmap.add_child(child)
    return page


def render_page(page: el.MapPage) -> tuple[str, str]:
    """The page's HTML and the CSP source allowing its one inline script (its hash: the page can be cached)."""
    return page.render_with_script_hash()


def _basemaps(view: MapView, manifest: Manifest, settings: Settings) -> el.Basemaps:
    """The three backgrounds (offline layer, tiles, none); credits go with the one shown."""
    offline = None
    if BASEMAP_LAYER in manifest.layers:
        meta = manifest.layers[BASEMAP_LAYER]
        offline = {
            "url": collection_url(settings, BASEMAP_LAYER),
            "title": "Offline map (Natural Earth, GeoNames)",
            "attributions": attribution_html(manifest.model_copy(update={"layers": {BASEMAP_LAYER: meta}})),
        }
    tiles: dict[str, Any] | None = {
        "url": settings.basemap.url,
        "attribution": settings.basemap.attribution,  # set by the operator, not user input
        "maxZoom": settings.basemap.max_zoom,
        "title": "Map tiles",
    }
    if view.basemap == "none" or not settings.basemap.url:
        tiles = None  # a page asked for without any background never names a tile server
    initial = view.basemap if view.basemap != "offline" or offline else "none"
    return el.Basemaps(initial=initial, offline=offline, tiles=tiles)  # tiles: None or the dict above


def _zone_layers(manifest: Manifest, settings: Settings) -> list[Any]:
    layers: list[Any] = []
    for order, layer_id in enumerate(zone_layer_ids(manifest)):
        meta = manifest.layers[layer_id]
        layers.append(
            el.ZoneLayer(
                id=layer_id,
                order=order,
                title=meta.title or layer_id,
                url=collection_url(settings, layer_id),
                style=meta.style,
                dated=is_dated(meta),
                validFrom=meta.valid_from.isoformat() if meta.valid_from else None,
                validTo=meta.valid_to.isoformat() if meta.valid_to else None,
                variants=bool(meta.variants),
                pageSize=min(settings.map.page_size, MAX_ZONE_FEATURES),
                maxFeatures=MAX_ZONE_FEATURES,
            )
        )
    layers.append(
        el.EventLayer(
            title="Reported events",
            url=collection_url(settings, settings.map.events_collection),
            pageSize=settings.map.page_size,
            maxEvents=settings.map.max_events,
            tilesUrl=tiles_url(settings, settings.map.events_collection),
            tilesAbove=settings.map.event_tiles_above,
            tilesMaxZoom=settings.tiles.max_zoom,
        )
    )
    return layers


def _legend_entries(manifest: Manifest) -> list[dict[str, Any]]:
    # every zone layer; the page lists only those drawn (switched on, with features on the shown date)
    entries = []
    for layer_id in zone_layer_ids(manifest):
        meta = manifest.layers[layer_id]
        style = meta.style
        entries.append(
            {
                "id": layer_id,
                "title": meta.title or layer_id,
                "color": str(style.get("color") or "#000000"),
                "dash": bool(style.get("dash")),
                "kind": geometry_kind(meta.geometry_type),
                "control": "controlled_by" in meta.properties,
            }
        )
    return entries


def _controls(view: MapView, manifest: Manifest, settings: Settings, title: str, options: PageOptions) -> list[Any]:
    full_link = None
    if options.embed and options.full_map_url:
        full_link = f"{options.full_map_url}?{urlencode(view.query())}"
    tools: list[Any] = [el.Fullscreen(), el.MeasureControl()]
    controls: list[Any] = [] if options.embed else list(tools)
    if view.title or not options.embed:
        controls.append(el.Title(title=title, embed=options.embed, link=full_link))
    controls += [
        el.TimeControl(
            min=EARLIEST.isoformat(), max=LATEST.isoformat(), war=[WAR_START.isoformat(), WAR_END.isoformat()]
        ),
        el.FilterControl(eventTypes=list(ACLED_EVENT_TYPES)),
        el.Legend(layers=_legend_entries(manifest), events=EVENTS in view.layers),
    ]
    controls += tools if options.embed else []
    tiles = (
        {"url": settings.basemap.url, "maxZoom": settings.basemap.max_zoom}
        if view.basemap == "osm" and settings.basemap.url
        else None
    )
    layers = manifest.layers
    outline = "nagorno-karabakh" if "nagorno-karabakh" in layers else None
    controls.append(
        el.MiniMap(
            tiles=tiles,
            outlineUrl=collection_url(settings, outline) if outline else None,
            basemapUrl=collection_url(settings, BASEMAP_LAYER) if BASEMAP_LAYER in layers else None,
        )
    )
    return controls
