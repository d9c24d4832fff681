"""Which zones a point falls in, computed from the built layers (never typed in by a client)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from app.events.errors import EventError

#: Polygon layers an event is tested against, in this order; missing optional layers are skipped.
ZONE_LAYERS: tuple[str, ...] = (
    "nagorno-karabakh",
    "seven-districts",
    "iran-border-zone",
    "ceasefire-1994-area",
    "control-2020",
)
OPTIONAL_LAYERS: frozenset[str] = frozenset({"control-2020"})


class ZoneIndex:
    """Point-in-polygon lookup over the zone layers, with an STRtree.

    Parameters
    ----------
    zones
        ``{layer_id: [(feature_id, polygon), ...]}``.
    version
        A string that changes whenever the layers change (built from the manifest's layer versions).

    Examples
    --------
    >>> from shapely import box
    >>> index = ZoneIndex({"demo": [("a", box(0, 0, 2, 2)), ("b", box(1, 1, 3, 3))]})
    >>> index.zones_of(1.5, 1.5), index.zones_of(0.5, 0.5), index.zones_of(9, 9)
    (['demo:a', 'demo:b'], ['demo:a'], [])

    """

    def __init__(self, zones: Mapping[str, Sequence[tuple[str, BaseGeometry]]], version: str = "") -> None:
        self.version = version
        self._labels = [f"{layer}:{fid}" for layer, feats in zones.items() for fid, _ in feats]
        geoms = [geom for feats in zones.values() for _, geom in feats]
        self._geoms = np.array(geoms, dtype=object)
        shapely.prepare(self._geoms)  # point-in-polygon on prepared polygons: 62 -> 12 us a point on the built layers
        self._tree = STRtree(self._geoms) if geoms else None
        self.layers = tuple(zones)

    @classmethod
    def from_layers_dir(cls, layers_dir: Path, layer_ids: Sequence[str] = ZONE_LAYERS) -> ZoneIndex:
        """Load the zone layers from a built ``layers/`` folder (``<id>.gpkg`` + ``manifest.json``)."""
        manifest_path = layers_dir / "manifest.json"
        if not manifest_path.is_file():
            raise EventError(f"no built layers at {layers_dir} (manifest.json missing); run `czmap geodata build`")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))["layers"]
        zones: dict[str, list[tuple[str, BaseGeometry]]] = {}
        versions = []
        for layer_id in layer_ids:
            if layer_id not in manifest:
                if layer_id in OPTIONAL_LAYERS:
                    continue
                raise EventError(f"zone layer {layer_id!r} is missing from {manifest_path}")
            frame = pyogrio.read_dataframe(layers_dir / manifest[layer_id]["files"]["gpkg"], layer=layer_id)
            zones[layer_id] = [(str(fid), geom) for fid, geom in zip(frame["id"], frame.geometry, strict=True)]
            versions.append(f"{layer_id}@{manifest[layer_id]['version']}")
        return cls(zones, ";".join(versions))

    def zones_of(self, lon: float, lat: float) -> list[str]:
        """Sorted ``'<layer>:<feature>'`` labels of every zone polygon covering the point."""
        if self._tree is None:
            return []
        candidates = self._tree.query(shapely.Point(lon, lat))  # bounding boxes only
        hits = candidates[shapely.intersects_xy(self._geoms[candidates], lon, lat)]
        return sorted(self._labels[i] for i in hits)
