"""Request dependencies of the OGC routes: the collection from the path, documented query parameters, formats.

Each dependency parses and validates its inputs and raises :mod:`app.errors` exceptions; routes receive values.
(No ``from __future__ import annotations`` here: FastAPI reads these annotations at run time.)
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request

from app.collections.base import Collection, ItemsQuery, Queryable
from app.collections.registry import CollectionRegistry
from app.errors import InvalidParameter, UnknownParameter
from app.http.etags import check_not_modified, request_etag
from app.http.request import declared_parameters, format_from_accept
from app.ogc import crs as ogc_crs
from app.ogc.parsing import (
    MAX_PARAMETER_LENGTH,
    check_crs84_range,
    parse_bbox,
    parse_datetime,
    parse_filter,
    parse_property_value,
)
from app.settings import Settings

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 10_000_000
MAX_ZOOM = 24


class PageFormat(StrEnum):
    """Formats of the metadata pages and of single features."""

    json = "json"
    html = "html"


class ItemsFormat(StrEnum):
    """Formats of a page of features (gpkg and fgb download the whole collection as built)."""

    json = "json"
    html = "html"
    csv = "csv"
    gpkg = "gpkg"
    fgb = "fgb"


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def registry_of(request: Request) -> CollectionRegistry:
    """The collections loaded at start-up."""
    registry: CollectionRegistry = request.app.state.collections
    return registry


# Dependencies are ``async def`` when they only read request state: a sync dependency costs a thread-pool
# hop per request, which profiling showed to be the largest cost of a layer request (bench/README.md).
async def get_registry(request: Request) -> CollectionRegistry:
    """The collections loaded at start-up (as a dependency)."""
    return registry_of(request)


async def get_collection(
    request: Request,
    collection_id: Annotated[str, Path(alias="collectionId", description="Id of a collection listed at /collections.")],
) -> Collection:
    """The collection named in the path; raises :class:`app.errors.CollectionNotFound`."""
    return registry_of(request).get(collection_id)


CollectionDep = Annotated[Collection, Depends(get_collection)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[CollectionRegistry, Depends(get_registry)]


def _negotiate(request: Request, f: StrEnum | None) -> str:
    if f is not None:
        return str(f.value)
    return format_from_accept(request.headers.get("accept", ""))


async def page_format(
    request: Request,
    f: Annotated[
        PageFormat | None, Query(description="Response format; without it, the Accept header decides (JSON default).")
    ] = None,
) -> str:
    """The format of a metadata page or single feature: ``json`` or ``html``."""
    return _negotiate(request, f)


async def items_format(
    request: Request,
    f: Annotated[
        ItemsFormat | None,
        Query(
            description="Response format: json (GeoJSON), html, csv (geometry as WKT), or gpkg / fgb to download "
            "the whole collection as built (no other filter allowed). Without it, the Accept header decides."
        ),
    ] = None,
) -> str:
    """The format of a page of features."""
    return _negotiate(request, f)


async def output_crs(
    crs: Annotated[
        str | None,
        Query(
            description="CRS of the returned geometries: "
            + ", ".join(ogc_crs.SUPPORTED)
            + " (default CRS84; EPSG:4326 is latitude, longitude)."
        ),
    ] = None,
) -> str:
    """The canonical URI of the requested response CRS."""
    return ogc_crs.parse_crs(crs, "crs")


@dataclass
class ItemsParams:
    """Query parameters of ``/collections/{collectionId}/items`` (besides ``f``, ``crs`` and property filters)."""

    limit: Annotated[
        int,
        Query(ge=1, le=MAX_LIMIT, description=f"Features per page (1 to {MAX_LIMIT}; default {DEFAULT_LIMIT})."),
    ] = DEFAULT_LIMIT
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Features to skip before the page (follow the next link).")
    ] = 0
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Where the page starts, as given by a next link (keyset paging, collections that offer it: "
            "events); opaque to clients.",
        ),
    ] = None
    bbox: Annotated[
        str | None,
        Query(
            max_length=MAX_PARAMETER_LENGTH,
            description="minx,miny,maxx,maxy (or with heights minx,miny,minz,maxx,maxy,maxz) in bbox-crs: "
            "features intersecting the box.",
        ),
    ] = None
    bbox_crs: Annotated[
        str | None,
        Query(alias="bbox-crs", description="CRS of bbox: " + ", ".join(ogc_crs.SUPPORTED) + " (default CRS84)."),
    ] = None
    datetime: Annotated[
        str | None,
        Query(
            max_length=MAX_PARAMETER_LENGTH,
            description="An instant (2020-10-04 or 2020-10-04T06:00:00Z) or interval (a/b, ../b, a/..) matched "
            "against valid_from/valid_to; features without validity always match.",
        ),
    ] = None
    filter: Annotated[
        str | None,
        Query(
            description="CQL2 text filter on the queryables (comparisons, AND/OR/NOT, LIKE, BETWEEN, IN, IS NULL, "
            "S_INTERSECTS with WKT or BBOX, T_INTERSECTS/T_BEFORE/T_AFTER/... with DATE, TIMESTAMP, INTERVAL).",
        ),
    ] = None
    filter_lang: Annotated[
        Literal["cql2-text"] | None, Query(alias="filter-lang", description="Language of filter: cql2-text.")
    ] = None
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="CRS of geometries in filter: CRS84 only.")
    ] = None
    resulttype: Annotated[
        Literal["results", "hits"],
        Query(
            description="hits: no features, only numberMatched, counted exactly however many match (the events "
            "collection otherwise leaves numberMatched out above its count cap); results (default): the page.",
        ),
    ] = "results"
    zoom: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_ZOOM,
            description="Web-map zoom level the features are drawn at: serves the simplified display variant "
            "built for it (full resolution above the most detailed variant).",
        ),
    ] = None


ItemsParamsDep = Annotated[ItemsParams, Depends()]


async def items_query(request: Request, collection: CollectionDep, params: ItemsParamsDep) -> ItemsQuery:
    """The validated :class:`ItemsQuery`; any query parameter named after a queryable is an equality filter."""
    queryables = collection.queryables()
    properties = _property_filters(request, queryables)
    bbox = None
    if params.bbox is not None:
        bbox_crs = ogc_crs.parse_crs(params.bbox_crs, "bbox-crs")
        bbox = ogc_crs.bbox_to_crs84(parse_bbox(params.bbox), bbox_crs)
        check_crs84_range(bbox)
    elif params.bbox_crs is not None:
        raise InvalidParameter("bbox-crs", "given without bbox")
    cql = parse_filter(params.filter, params.filter_crs, queryables) if params.filter is not None else None
    return ItemsQuery(
        limit=params.limit,
        offset=params.offset,
        bbox=bbox,
        datetime=parse_datetime(params.datetime) if params.datetime is not None else None,
        properties=properties,
        cql=cql,
        zoom=params.zoom,
        cursor=params.cursor,
        hits=params.resulttype == "hits",
    )


ItemsQueryDep = Annotated[ItemsQuery, Depends(items_query)]


def _property_filters(request: Request, queryables: dict[str, Queryable]) -> dict[str, Any]:
    allowed = declared_parameters(request)
    extra = [name for name in request.query_params if name not in allowed]
    unknown = [name for name in extra if name not in queryables or queryables[name].type == "geometry"]
    if unknown:
        filterable = [n for n, q in queryables.items() if q.type != "geometry"]
        raise UnknownParameter(unknown, sorted(allowed | set(filterable)))
    return {name: parse_property_value(queryables[name], request.query_params[name]) for name in extra}


def conditional(request: Request, settings: Settings, version: str, fmt: str, mutable: bool = False) -> dict[str, str]:
    """Caching headers of a response, raising :class:`NotModified` when ``If-None-Match`` holds its ETag.

    Data that changes between versions of the service (``mutable``: the event store) is sent ``no-cache``, so
    browsers and embedded maps revalidate with the ETag instead of showing a page from before a write.

    The strong ETag (:func:`app.http.etags.request_etag`) covers the data version, the path, the sorted query,
    the negotiated format and the content coding, so that each distinct byte sequence has its own tag.
    """
    headers = {
        "ETag": request_etag(request, version, fmt),
        "Cache-Control": "no-cache" if mutable else settings.service.cache_header,
    }
    check_not_modified(request, headers["ETag"], headers)
    return headers
