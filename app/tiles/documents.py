"""The JSON documents of OGC API - Tiles: tile matrix sets, the tilesets of a collection, a tileset, TileJSON.

Pure functions of the domain objects and a base URL. The tileset of a collection lists ``tileMatrixSetLimits``
for every tile matrix it serves (0 .. ``max_zoom``, each whole): deeper matrices are not served (404).
"""

from __future__ import annotations

from typing import Any

from morecantile import TileMatrixSet

from app.collections.base import Collection
from app.collections.events import EventsCollection
from app.ogc.crs import CRS84
from app.ogc.links import JSON, link
from app.tiles.grid import MATRIX_SETS, TMS_ID
from app.tiles.mvt import MEDIA_TYPE

TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
CONFORMANCE = [
    f"{TILES}/core",
    f"{TILES}/tileset",
    f"{TILES}/tilesets-list",
    f"{TILES}/geodata-tilesets",
    f"{TILES}/datetime",
    f"{TILES}/mvt",
    f"{TILES}/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/tilesetmetadata",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilesetmetadata",
]
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
REL_VECTOR_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILEJSON = "application/vnd.mapbox.tile+json"
_DIMENSIONS = {"Point": 0, "MultiPoint": 0, "LineString": 1, "MultiLineString": 1, "Polygon": 2, "MultiPolygon": 2}
#: What an event tile's features carry (see :mod:`app.tiles.events`): points above the aggregation zoom, cells below.
EVENT_FIELDS = {
    "id": ("string", "Event id (points)"),
    "date_start": ("string", "First day (points)"),
    "date_end": ("string", "Last day (points)"),
    "event_type": ("string", "ACLED event type (points)"),
    "fatalities": ("integer", "Best fatality estimate (points), or their sum over a grid cell (cells)"),
    "sources": ("integer", "Number of cited sources (points)"),
    "count": ("integer", "Events in the grid cell (cells, drawn below the point zoom or in dense tiles)"),
}


def crs_uri(tms: TileMatrixSet) -> str:
    """The URI of the CRS of ``tms``."""
    return str(tms.model_dump(mode="json", include={"crs"})["crs"])


def matrix_sets(base: str) -> dict[str, Any]:
    """``/tileMatrixSets``: every tile matrix set offered, linked."""
    return {
        "tileMatrixSets": [
            {
                "id": tms.id,
                "title": tms.title,
                "uri": tms.uri,
                "crs": crs_uri(tms),
                "links": [link(f"{base}/tileMatrixSets/{tms.id}", REL_TILING_SCHEME, JSON, tms.title)],
            }
            for tms in MATRIX_SETS.values()
        ],
        "links": [link(f"{base}/tileMatrixSets", "self", JSON, "The tile matrix sets")],
    }


def matrix_set(tms: TileMatrixSet, base: str) -> dict[str, Any]:
    """``/tileMatrixSets/{id}``: the definition (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    doc: dict[str, Any] = tms.model_dump(mode="json", exclude_none=True)
    doc["links"] = [link(f"{base}/tileMatrixSets/{tms.id}", "self", JSON, tms.title)]
    return doc


def tilesets(collection: Collection, base: str) -> dict[str, Any]:
    """``/collections/{id}/tiles``: the collection's tilesets (one per tile matrix set)."""
    here = f"{base}/collections/{collection.meta.id}/tiles"
    return {
        "tilesets": [_summary(collection, tms, base) for tms in MATRIX_SETS.values()],
        "links": [
            link(here, "self", JSON, f"Vector tilesets of {collection.meta.title}"),
            link(f"{base}/collections/{collection.meta.id}", "collection", JSON, collection.meta.title),
        ],
    }


def tileset(collection: Collection, tms: TileMatrixSet, base: str, max_zoom: int, query: str) -> dict[str, Any]:
    """``/collections/{id}/tiles/{tms}``: the tileset metadata (``query``: datetime/filter kept in the tile links)."""
    meta = collection.meta
    here = f"{base}/collections/{meta.id}/tiles/{tms.id}"
    west, south, east, north = meta.bbox
    doc = _summary(collection, tms, base) | {
        "description": meta.description,
        "attribution": meta.attribution,
        "license": meta.licence.name,
        "tileMatrixSetLimits": [
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": (1 << z) - 1,
                "minTileCol": 0,
                "maxTileCol": (1 << z) - 1,
            }
            for z in range(max_zoom + 1)
        ],
        "boundingBox": {"lowerLeft": [west, south], "upperRight": [east, north], "crs": CRS84},
        "centerPoint": {"coordinates": [(west + east) / 2, (south + north) / 2], "tileMatrix": "8", "crs": CRS84},
        "layers": [_layer(collection, max_zoom)],
    }
    doc["links"] = [
        link(f"{here}{query}", "self", JSON, "This tileset"),
        link(f"{base}/tileMatrixSets/{tms.id}", REL_TILING_SCHEME, JSON, tms.title),
        link(f"{here}/tilejson.json{query}", "alternate", TILEJSON, "This tileset as TileJSON"),
        link(f"{base}/collections/{meta.id}", "collection", JSON, meta.title),
        {
            **link(f"{here}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{query}", "item", MEDIA_TYPE, "Tiles"),
            "templated": True,
        },
    ]
    return doc


def tilejson(collection: Collection, base: str, max_zoom: int, query: str) -> dict[str, Any]:
    """TileJSON 3.0.0 of the collection's WebMercatorQuad tiles (for MapLibre, Leaflet.VectorGrid, QGIS ...)."""
    meta = collection.meta
    west, south, east, north = meta.bbox
    return {
        "tilejson": "3.0.0",
        "name": meta.title,
        "description": meta.description,
        "attribution": meta.attribution,
        "scheme": "xyz",
        "tiles": [f"{base}/collections/{meta.id}/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}{query}"],
        "minzoom": 0,
        "maxzoom": max_zoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, 8],
        "vector_layers": [
            {"id": meta.id, "description": meta.title, "minzoom": 0, "maxzoom": max_zoom, "fields": _fields(collection)}
        ],
    }


def _summary(collection: Collection, tms: TileMatrixSet, base: str) -> dict[str, Any]:
    here = f"{base}/collections/{collection.meta.id}/tiles/{tms.id}"
    return {
        "title": f"{collection.meta.title} ({tms.id})",
        "dataType": "vector",
        "crs": crs_uri(tms),
        "tileMatrixSetURI": tms.uri,
        "links": [
            link(here, "self", JSON, "The tileset"),
            link(f"{base}/tileMatrixSets/{tms.id}", REL_TILING_SCHEME, JSON),
        ],
    }


def _layer(collection: Collection, max_zoom: int) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "id": collection.meta.id,
        "title": collection.meta.title,
        "dataType": "vector",
        "minTileMatrix": "0",
        "maxTileMatrix": str(max_zoom),
        "propertiesSchema": {
            "type": "object",
            "properties": {name: {"type": kind, "description": text} for name, (kind, text) in _schema(collection)},
        },
    }
    if collection.meta.geometry_type in _DIMENSIONS:
        layer["geometryDimension"] = _DIMENSIONS[collection.meta.geometry_type]
    return layer


def _schema(collection: Collection) -> list[tuple[str, tuple[str, str]]]:
    if isinstance(collection, EventsCollection):  # its tiles carry the fields of app.tiles.events
        return list(EVENT_FIELDS.items())
    return [(n, (q.type, q.title or n)) for n, q in collection.queryables().items() if q.type != "geometry"]


def _fields(collection: Collection) -> dict[str, str]:
    return {name: kind for name, (kind, _) in _schema(collection)}
