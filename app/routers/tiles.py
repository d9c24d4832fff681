"""OGC API - Tiles: tile matrix sets, each collection's vector tilesets, TileJSON and the tiles (MVT).

An empty tile is answered ``204 No Content`` (OGC API - Tiles allows 204 or an empty tile; MapLibre, OpenLayers
and Leaflet.VectorGrid read 204 as empty and skip decoding). Tiles carry the strong ETag of the data version,
tile and query, and are kept encoded in ``app.state.tile_cache`` by the same key: a write to the event store
changes its version, so a tile from before it is neither served nor matched by ``If-None-Match``.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from morecantile import TileMatrixSet
from starlette.responses import Response

from app.collections.base import Collection, TimeInterval
from app.collections.events import EventsCollection
from app.http.request import base_url, reject_unknown_parameters
from app.http.response_cache import CachedResponse, CacheKey, ResponseStore
from app.ogc.params import CollectionDep, SettingsDep, conditional
from app.ogc.parsing import MAX_PARAMETER_LENGTH, parse_datetime, parse_filter
from app.responses import JSONResponse
from app.settings import Settings
from app.tiles import documents
from app.tiles.events import CellCounts, EventTiles, event_tiles
from app.tiles.grid import TileAddress, matrix_set
from app.tiles.layers import collection_tile
from app.tiles.mvt import MEDIA_TYPE

router = APIRouter(tags=["Tiles"], dependencies=[Depends(reject_unknown_parameters)])
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such collection, tile matrix set or tile."},
    400: {"description": "Invalid parameter."},
}
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The tile (Mapbox Vector Tile).", "content": {MEDIA_TYPE: {}}},
    204: {"description": "The tile is empty: nothing matches in it."},
    **ERRORS,
}


async def get_matrix_set(
    tms_id: Annotated[str, Path(alias="tileMatrixSetId", description="Tile matrix set: WebMercatorQuad.")],
) -> TileMatrixSet:
    """The tile matrix set named in the path; 404 naming the offered ones otherwise."""
    return matrix_set(tms_id)


MatrixSetDep = Annotated[TileMatrixSet, Depends(get_matrix_set)]
JsonOnly = Annotated[Literal["json"] | None, Query(description="Response format: json (the only one).")]


@dataclass(frozen=True)
class TileQuery:
    """What selects the features of a tile, and its text for the cache key and the tileset links."""

    interval: TimeInterval | None
    cql: Any
    text: str


async def tile_query(
    request: Request,
    collection: CollectionDep,
    datetime: Annotated[
        str | None,
        Query(
            max_length=MAX_PARAMETER_LENGTH,
            description="An instant or interval (a/b, ../b, a/..): layers by their validity, events by their dates.",
        ),
    ] = None,
    filter: Annotated[
        str | None, Query(description="CQL2 text filter on the collection's queryables (as for its items).")
    ] = None,
    filter_lang: Annotated[
        Literal["cql2-text"] | None, Query(alias="filter-lang", description="Language of filter: cql2-text.")
    ] = None,
    filter_crs: Annotated[
        str | None, Query(alias="filter-crs", description="CRS of geometries in filter: CRS84 only.")
    ] = None,
) -> TileQuery:
    """The parsed ``datetime`` and ``filter`` of a tile request (the same rules as items)."""
    cql = parse_filter(filter, filter_crs, collection.queryables()) if filter is not None else None
    interval = parse_datetime(datetime) if datetime is not None else None
    kept = sorted((k, v) for k, v in request.query_params.multi_items() if k != "f")
    text = "?" + urlencode(kept) if kept else ""
    return TileQuery(interval, cql, text)


TileQueryDep = Annotated[TileQuery, Depends(tile_query)]


@router.get(
    "/tileMatrixSets", summary="Tile matrix sets", response_class=JSONResponse, operation_id="getTileMatrixSets"
)
def list_matrix_sets(request: Request, settings: SettingsDep, f: JsonOnly = None) -> Response:
    """The tile matrix sets tiles are offered in (WebMercatorQuad)."""
    headers = conditional(request, settings, "tiles", "json")
    return JSONResponse(documents.matrix_sets(base_url(request)), headers=headers)


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}",
    summary="A tile matrix set",
    response_class=JSONResponse,
    responses=ERRORS,
    operation_id="getTileMatrixSet",
)
def get_matrix_set_document(request: Request, tms: MatrixSetDep, settings: SettingsDep, f: JsonOnly = None) -> Response:
    """The definition of a tile matrix set (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    headers = conditional(request, settings, "tiles", "json")
    return JSONResponse(documents.matrix_set(tms, base_url(request)), headers=headers)


@router.get(
    "/collections/{collectionId}/tiles",
    summary="Vector tilesets of a collection",
    response_class=JSONResponse,
    responses=ERRORS,
    operation_id="getCollectionTileSets",
)
def list_tilesets(request: Request, collection: CollectionDep, settings: SettingsDep, f: JsonOnly = None) -> Response:
    """The collection's vector tilesets, one per tile matrix set."""
    headers = conditional(request, settings, collection.meta.version, "json", collection.mutable)
    return JSONResponse(documents.tilesets(collection, base_url(request)), headers=headers)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}",
    summary="A vector tileset of a collection",
    response_class=JSONResponse,
    responses=ERRORS,
    operation_id="getCollectionTileSet",
)
def get_tileset(
    request: Request,
    collection: CollectionDep,
    tms: MatrixSetDep,
    query: TileQueryDep,
    settings: SettingsDep,
    f: JsonOnly = None,
) -> Response:
    """Tileset metadata: tile matrices served, the layer and its fields, and the tile URL template."""
    headers = conditional(request, settings, collection.meta.version, "json", collection.mutable)
    doc = documents.tileset(collection, tms, base_url(request), settings.tiles.max_zoom, query.text)
    return JSONResponse(doc, headers=headers)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json",
    summary="TileJSON of a vector tileset",
    response_class=JSONResponse,
    responses=ERRORS,
    operation_id="getCollectionTileJSON",
)
def get_tilejson(
    request: Request, collection: CollectionDep, tms: MatrixSetDep, query: TileQueryDep, settings: SettingsDep
) -> Response:
    """TileJSON 3.0.0 of the tileset; ``datetime`` and ``filter`` given here are kept in its tile URL."""
    headers = conditional(request, settings, collection.meta.version, "tilejson", collection.mutable)
    doc = documents.tilejson(collection, base_url(request), settings.tiles.max_zoom, query.text)
    return JSONResponse(doc, headers=headers)


@router.get(
    "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A vector tile of a collection",
    response_class=Response,
    responses=TILE_RESPONSES,
    operation_id="getCollectionTile",
)
def get_tile(
    request: Request,
    collection: CollectionDep,
    tms: MatrixSetDep,
    z: Annotated[int, Path(alias="tileMatrix", description="Zoom level (tile matrix id), 0 .. the tileset's deepest.")],
    y: Annotated[int, Path(alias="tileRow", description="Row of the tile, from the top (0 .. 2^zoom - 1).")],
    x: Annotated[int, Path(alias="tileCol", description="Column of the tile, from the left (0 .. 2^zoom - 1).")],
    query: TileQueryDep,
    settings: SettingsDep,
) -> Response:
    """The features of the collection in one tile, as a Mapbox Vector Tile (one layer named after the collection)."""
    tile = TileAddress.checked(z, y, x, settings.tiles.max_zoom)
    version = collection.meta.version
    headers = conditional(request, settings, version, "mvt", collection.mutable)
    body = _tile_body(request.app.state.tile_cache, collection, version, tile, query, settings)
    if not body:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _tile_body(
    cache: ResponseStore | None,
    collection: Collection,
    version: str,
    tile: TileAddress,
    query: TileQuery,
    settings: Settings,
) -> bytes:
    """The encoded tile, from the cache when this version of the collection was tiled so before."""
    key = ("tile", collection.meta.id, version, tile, query.text)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return cached.body
    if isinstance(collection, EventsCollection):
        tiles = event_tiles(collection, settings.tiles)
        counts_key = ("cells", collection.meta.id, version, query.text)
        counts = (lambda: _cell_counts(cache, counts_key, tiles, query)) if cache is not None else None
        body = tiles.tile(tile, query.interval, query.cql, counts)
    else:
        body = collection_tile(collection, tile, query.interval, query.cql)
    if cache is not None:
        cache.put(key, CachedResponse(200 if body else 204, [], body, "", b""))
    return body


def _cell_counts(cache: ResponseStore, key: CacheKey, tiles: EventTiles, query: TileQuery) -> CellCounts:
    """The cell counts of a query for this data version, counted once and kept with the tiles (low zooms sum them)."""
    cached = cache.get(key)
    if cached is not None:
        return CellCounts.from_bytes(cached.body)
    counts = tiles.cell_counts(query.interval, query.cql)
    cache.put(key, CachedResponse(200, [], counts.to_bytes(), "", b""))
    return counts
