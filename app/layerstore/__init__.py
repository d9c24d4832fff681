"""The built layers inside the service: read once (:class:`LayerStore`), one zone index (:class:`ZoneIndex`).

- :mod:`app.layerstore.store`: the store, opened in the app's lifespan and kept on ``app.state.layers``.
- :mod:`app.layerstore.zones`: the point-in-zone index and its boundary rule.
- :mod:`app.layerstore.validity`: the half-open validity rule of dated features.
- :mod:`app.layerstore.grid`: the grids that make the index fast for millions of points.
"""

from app.layerstore.store import LayerStore, LayerTable, StoredLayer
from app.layerstore.zones import ZoneIndex, ZoneLayer

__all__ = ["LayerStore", "LayerTable", "StoredLayer", "ZoneIndex", "ZoneLayer"]
