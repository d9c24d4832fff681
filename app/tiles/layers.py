"""Vector tiles of any collection, read through its ``items`` (the zone layers, and any future backend).

The features of a tile are those intersecting the tile grown by its buffer, filtered by ``datetime`` and the
CQL2 ``filter`` exactly as an items request is, at the collection's display variant for the tile's zoom
(the layer store keeps simplified tables for zooms 6, 8 and 10: a zoom-5 tile draws the zoom-6 variant).
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape

from app.collections.base import Collection, Feature, ItemsQuery, TimeInterval
from app.tiles.grid import BUFFER, TileAddress
from app.tiles.mvt import encode_layer

#: Features read per ``items`` call while a tile is gathered.
PAGE = 10_000


def collection_tile(collection: Collection, tile: TileAddress, interval: TimeInterval | None, cql: Any) -> bytes:
    """The MVT of ``collection`` in ``tile`` (one layer named after the collection); b"" when it is empty."""
    features = _features(collection, tile, interval, cql)
    geometries = [shape(f["geometry"]) for f in features]
    properties = [{"id": f["id"], **(f.get("properties") or {})} for f in features]
    return encode_layer(collection.meta.id, tile, geometries, properties)


def _features(collection: Collection, tile: TileAddress, interval: TimeInterval | None, cql: Any) -> list[Feature]:
    bbox = tile.lonlat_bounds(BUFFER)
    found: list[Feature] = []
    offset = 0
    while True:
        query = ItemsQuery(limit=PAGE, offset=offset, bbox=bbox, datetime=interval, cql=cql, zoom=tile.z)
        page = collection.items(query)
        found += [f for f in page.features if f.get("geometry")]
        offset += len(page.features)
        if not page.features or not page.has_more(query.offset):
            return found
