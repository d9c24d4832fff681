"""The map pages: /map, /embed, /embed/code and /map.png (thin: parse, call app.webmap, wrap)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.http.etags import check_not_modified, content_coding, strong_etag
from app.http.request import base_url, reject_unknown_parameters
from app.http.response_cache import ResponseStore, keep_response, stored_response
from app.settings import Settings
from app.webmap.assets import page_code_version
from app.webmap.builder import DEFAULT_TITLE, PageOptions, build_map, render_page
from app.webmap.csp import content_security_policy
from app.webmap.embed import (
    embed_url,
    iframe_snippet,
    image_snippet,
    image_url,
    oembed_size,
    responsive_snippet,
)
from app.webmap.embedpage import embed_page_html
from app.webmap.errors import InvalidViewError, MapNotConfiguredError, UnsupportedFormatError
from app.webmap.render import ImageFormat, check_size, view_alt
from app.webmap.sources import MapData
from app.webmap.view import MapView, parse_view
from geodata.manifest import Manifest

#: Map errors become JSON through the app's one error path (:mod:`app.http.errors`); a query parameter a route
#: does not declare is refused there too.
router = APIRouter(tags=["map"], dependencies=[Depends(reject_unknown_parameters)])


@dataclass
class ViewQuery:
    """Query parameters of a map view; all of them are kept in the page URL (permalink)."""

    lat: Annotated[str | None, Query(description="Latitude of the centre (-85 to 85).")] = None
    lon: Annotated[str | None, Query(description="Longitude of the centre (-180 to 180).")] = None
    zoom: Annotated[str | None, Query(description="Zoom level, 4 to 18.")] = None
    datetime: Annotated[str | None, Query(description="A date or start/end (YYYY-MM-DD); default: the 2020 war.")] = (
        None
    )
    layers: Annotated[str | None, Query(description="Comma-separated visible layer ids ('events' too), or 'none'.")] = (
        None
    )
    event_type: Annotated[str | None, Query(description="Comma-separated event types to show (default all).")] = None
    verification: Annotated[str | None, Query(description="Comma-separated verification statuses to show.")] = None
    basemap: Annotated[
        Literal["offline", "osm", "none"] | None,
        Query(description="'offline' (default: our own basemap, no tile server), 'osm' (the tile server) or 'none'."),
    ] = None
    dark: Annotated[str | None, Query(description="true for the dark theme.")] = None
    title: Annotated[str | None, Query(description="Title shown on the map (text, at most 200 characters).")] = None


VIEW_PARAMS = frozenset(ViewQuery.__dataclass_fields__)


def get_manifest(request: Request) -> Manifest:
    """The layer store's typed manifest."""
    store = getattr(request.app.state, "layers", None)
    if store is None:
        raise MapNotConfiguredError(
            "no built layers: the data folder has no layer manifest (run `czmap geodata build`)"
        )
    manifest: Manifest = store.manifest
    return manifest


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_map_data(request: Request) -> MapData:
    """Zone and event sources of the static map (``app.state.map_data``)."""
    data = getattr(request.app.state, "map_data", None)
    if data is None:
        raise MapNotConfiguredError("no zone/event source for the static map (app.state.map_data)")
    return data


def _parse(request: Request, query: ViewQuery, manifest: Manifest) -> MapView:
    return parse_view(asdict(query), manifest.layers)


def page_view(request: Request, query: Annotated[ViewQuery, Depends()]) -> MapView:
    """The view of /map and /embed (the API document types its parameters: :mod:`app.ogc.paramschemas`)."""
    return _parse(request, query, get_manifest(request))


def sized_view(request: Request, query: Annotated[ViewQuery, Depends()]) -> MapView:
    """The view of /map.png and /embed/code (which also take width and height)."""
    return _parse(request, query, get_manifest(request))


def _size(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:  # '³' and '٣' pass isdigit() alone
        raise InvalidViewError(name, f"must be a whole number of pixels, got {raw[:20]!r}")
    return int(raw)


def _base_url(request: Request, settings: Settings) -> str:
    return (settings.service.public_url or base_url(request)).rstrip("/")


def _page(request: Request, view: MapView, *, embed: bool) -> Response:
    """The map page of ``view``, from the page cache when it was built for this view and address before.

    The page holds no events (the browser fetches them), only the view, the layers of the build and URLs of this
    address: its ETag is derived from those, and a matching ``If-None-Match`` gets 304 before anything is built.
    """
    settings = get_settings(request)
    vendor_problem = getattr(request.app.state, "vendor_problem", None)
    if vendor_problem:  # without Leaflet the page would show nothing; say why instead
        raise MapNotConfiguredError(vendor_problem)
    manifest = get_manifest(request)
    base = _base_url(request, settings)
    query = urlencode(view.query())
    etag = strong_etag(_page_version(manifest), request.url.path, query, f"{base}|{content_coding(request)}")
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    check_not_modified(request, etag, headers)
    cache: ResponseStore | None = request.app.state.page_cache
    key = ("page", etag)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return stored_response(cached)
    page_url = f"{base}{request.url.path}?{query}"
    options = PageOptions(
        embed=embed, full_map_url=f"{base}/map", oembed_url=f"{base}/oembed?{urlencode({'url': page_url})}"
    )
    html, script = render_page(build_map(view, manifest, settings, options))
    headers["Content-Security-Policy"] = content_security_policy(
        script,
        # a reader may switch to the tiles (none are asked for until then), except on basemap=none pages
        tile_origin=None if view.basemap == "none" else settings.basemap.origin,
        api_origin=settings.map.api_origin,
        frame_ancestors="*" if embed else "'self'",
    )
    headers |= {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
    return keep_response(cache, key, HTMLResponse(html, headers=headers))


def _page_version(manifest: Manifest) -> str:
    """A version of what a map page is made of: the code (:func:`page_code_version`) and each layer's version."""
    layers = ";".join(f"{layer_id}={layer.version}" for layer_id, layer in sorted(manifest.layers.items()))
    return f"{page_code_version()};{layers}"


@router.get("/map", response_class=HTMLResponse, summary="Full-page map of the zones and the reported fighting")
def map_page(request: Request, view: Annotated[MapView, Depends(page_view)]) -> Response:
    """The interactive map; its data is fetched from the OGC API by URL."""
    return _page(request, view, embed=False)


@router.get("/embed", response_class=HTMLResponse, summary="The map for an iframe (no page chrome)")
def embed_page(request: Request, view: Annotated[MapView, Depends(page_view)]) -> Response:
    """The embeddable map: responsive, attribution always visible, optional title and dark theme."""
    return _page(request, view, embed=True)


@router.get("/embed/code", summary="Embed page: options, live preview and HTML snippet (f=json: the snippet)")
def embed_code(
    request: Request,
    view: Annotated[MapView, Depends(sized_view)],
    variant: Annotated[Literal["iframe", "image"], Query(description="An iframe, or the static image.")] = "iframe",
    width: Annotated[str | None, Query(description="Width in pixels (200-3000, default 800).")] = None,
    height: Annotated[str | None, Query(description="Height in pixels (200-3000, default 600).")] = None,
    responsive: Annotated[
        bool, Query(description="Fill the article's column, keeping the width:height shape (iframe).")
    ] = False,
    f: Annotated[Literal["html", "json"], Query(description="html: the embed page; json: the snippet.")] = "html",
) -> Response:
    """The page journalists embed from; ``f=json`` gives ``{"variant", "html", "src", ...}``."""
    settings = get_settings(request)
    base = _base_url(request, settings)
    w, h = _size(width, "width", 800), _size(height, "height", 600)
    check_size(w, h)
    body = _snippet(request, view, base, variant, (w, h), responsive)
    if f == "json":
        return JSONResponse(body)
    page_url = embed_url(base, view)
    html = embed_page_html(
        view,
        get_manifest(request),
        snippet=body,
        preview_src=embed_url("", view),
        oembed=f"{base}/oembed?{urlencode({'url': page_url})}",
        public_url_set=bool(settings.service.public_url),
        base_url=base,
        options={"variant": variant, "width": w, "height": h, "responsive": responsive},
    )
    headers = {
        "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'self'",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return HTMLResponse(html, headers=headers)


def _snippet(
    request: Request, view: MapView, base: str, variant: str, size: tuple[int, int], responsive: bool
) -> dict[str, Any]:
    w, h = size
    if variant == "iframe":
        html = responsive_snippet(base, view, w, h) if responsive else iframe_snippet(base, view, w, h)
        return {"variant": variant, "html": html, "src": embed_url(base, view), "preview": embed_url("", view)}
    alt = view_alt(view, get_map_data(request), w, h)
    return {
        "variant": variant,
        "html": image_snippet(base, view, w, h, alt),
        "src": image_url(base, view, w, h),
        "preview": embed_url("", view),
        "alt": alt,
    }


@router.get(
    "/oembed",
    summary="oEmbed: the embed HTML of a /map or /embed URL, for publishing systems",
    responses={
        404: {"description": "Not a map of this service."},
        501: {"description": "A format other than json (oEmbed 1.0, section 2.3.4: Not Implemented)."},
    },
)
def oembed(
    request: Request,
    url: Annotated[str, Query(description="A /map or /embed URL of this service.", max_length=4000)],
    maxwidth: Annotated[int | None, Query(description="Largest width the consumer allows.", ge=200)] = None,
    maxheight: Annotated[int | None, Query(description="Largest height the consumer allows.", ge=200)] = None,
    format: Annotated[
        str, Query(description="Only json is offered; another value (xml) is answered 501.", max_length=20)
    ] = "json",
) -> Response:
    """An oEmbed 1.0 ``rich`` response (404 for a URL that is not one of our maps).

    A format other than json is answered 501 Not Implemented, as oEmbed 1.0 (section 2.3.4) asks of providers:
    consumers read that status as "no such format", where a 400 would tell them the URL was wrong.
    """
    if format != "json":
        raise UnsupportedFormatError(f"format {format[:20]!r} is not offered; use format=json")
    settings = get_settings(request)
    base = _base_url(request, settings)
    parts = urlsplit(url)
    ours = {urlsplit(base).netloc, request.url.netloc}
    if parts.scheme not in ("http", "https") or parts.netloc not in ours or parts.path not in ("/map", "/embed"):
        return JSONResponse({"code": "NotFound", "description": f"not a map of this service: {url[:200]}"}, 404)
    raw = {k: v for k, v in parse_qsl(parts.query) if k in VIEW_PARAMS}
    view = parse_view(raw, get_manifest(request).layers)
    w, h = oembed_size(maxwidth, maxheight)
    return JSONResponse(
        {
            "version": "1.0",
            "type": "rich",
            "provider_name": settings.service.title,
            "provider_url": f"{base}/",
            "title": view.title or DEFAULT_TITLE,
            "html": iframe_snippet(base, view, w, h),
            "width": w,
            "height": h,
            "thumbnail_url": image_url(base, view, 600, 400),
            "thumbnail_width": 600,
            "thumbnail_height": 400,
        }
    )


def _image(request: Request, view: MapView, width: str | None, height: str | None, fmt: ImageFormat) -> Response:
    """The rendered image, from the image cache when this view, size and data version were drawn before.

    The key holds the version of every collection (layers and the event store's data version), so a write or a
    rebuild is drawn anew; the ETag is derived from the same key, and a matching ``If-None-Match`` gets 304.
    """
    w, h = _size(width, "width", 1200), _size(height, "height", 800)
    version = request.app.state.collections.version
    headers = {"ETag": strong_etag(version, f"/map.{fmt}", urlencode(sorted(view.query().items())), f"{w}x{h}")}
    headers["Cache-Control"] = "public, max-age=300"
    check_not_modified(request, headers["ETag"], headers)
    cache: ResponseStore | None = request.app.state.image_cache
    key = ("image", fmt, view, w, h, version)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return stored_response(cached)
    get_manifest(request), get_map_data(request)  # a missing build is answered before the work is sent
    image = request.app.state.workers.render(view, w, h, fmt)  # in a worker process (app.offload)
    headers["X-Alt-Text"] = quote(image.alt, safe=" ,.;:()'/-")
    if fmt != "png":
        headers["Content-Disposition"] = f'inline; filename="map.{fmt}"'
    return keep_response(cache, key, Response(image.png, media_type=image.media_type, headers=headers))


WidthQuery = Annotated[str | None, Query(description="Width in pixels (200-3000, default 1200; 100 px an inch).")]
HeightQuery = Annotated[str | None, Query(description="Height in pixels (200-3000, default 800; 100 px an inch).")]


@router.get("/map.png", summary="Static PNG of the view, for print and social media", response_class=Response)
def map_png(
    request: Request,
    view: Annotated[MapView, Depends(sized_view)],
    width: WidthQuery = None,
    height: HeightQuery = None,
) -> Response:
    """Render the view on the server; the alt text is in the ``X-Alt-Text`` header (percent-encoded UTF-8)."""
    return _image(request, view, width, height, "png")


@router.get("/map.svg", summary="Static SVG of the view (vector, for print and editing)", response_class=Response)
def map_svg(
    request: Request,
    view: Annotated[MapView, Depends(sized_view)],
    width: WidthQuery = None,
    height: HeightQuery = None,
) -> Response:
    """The image of /map.png as SVG (text drawn as outlines); alt text in ``X-Alt-Text``."""
    return _image(request, view, width, height, "svg")


@router.get("/map.pdf", summary="Static PDF of the view (vector, for print)", response_class=Response)
def map_pdf(
    request: Request,
    view: Annotated[MapView, Depends(sized_view)],
    width: WidthQuery = None,
    height: HeightQuery = None,
) -> Response:
    """The image of /map.png as a one-page PDF; alt text in ``X-Alt-Text``."""
    return _image(request, view, width, height, "pdf")
