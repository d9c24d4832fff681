"""OGC API - Tiles: Mapbox Vector Tiles of every collection in WebMercatorQuad.

:mod:`~app.tiles.grid` addresses tiles (morecantile's WebMercatorQuad), :mod:`~app.tiles.mvt` encodes them,
:mod:`~app.tiles.layers` tiles any collection through its ``items`` (the zone layers, at the display variant of
the zoom), :mod:`~app.tiles.events` tiles the event store in SQL (counts per grid cell at low zooms, points
above), and :mod:`~app.tiles.documents` writes the tile matrix set, tileset and TileJSON documents.
Nothing here imports FastAPI: the routes are :mod:`app.routers.tiles`.
"""
