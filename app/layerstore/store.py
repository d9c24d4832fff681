"""The layer store: every built layer table read once, at start-up, and the one zone index built from them.

``LayerStore.open(data_dir)`` reads the typed manifest, then each GeoPackage table (full resolution and every
display variant) exactly once; nothing else in the service opens a built layer file. The OGC collections, the
map, the static image, the analysis and the event writes all take their data from the store on
``app.state.layers`` (and the zone index on ``app.state.layers.zones``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from app.analysis.errors import UnknownLayer
from app.errors import StoreUnavailable
from app.layerstore.validity import Validity
from app.layerstore.zones import IRAN_BORDER, LINE_OF_CONTACT, PLACES, ZoneIndex, ZoneLayer, to_metric
from geodata.manifest import LAYERS_FOLDER, LayerEntry, Manifest, read_manifest


@dataclass(frozen=True)
class LayerTable:
    """One table of a layer (full resolution or a display variant) in EPSG:4326, with its validity."""

    frame: gpd.GeoDataFrame
    validity: Validity | None

    @classmethod
    def of(cls, frame: gpd.GeoDataFrame) -> LayerTable:
        """Index ``frame`` 0..n-1 and work out its validity."""
        frame = frame.reset_index(drop=True)
        return cls(frame, Validity.of(frame))

    def valid_on(self, day: date | None) -> gpd.GeoDataFrame:
        """The features valid on ``day`` (all of them when ``day`` is None or the table is undated)."""
        if day is None or self.validity is None:
            return self.frame
        return self.frame[self.validity.on(day)]


@dataclass(frozen=True)
class StoredLayer:
    """A built layer: its manifest entry, its full-resolution table and its display variants by zoom."""

    entry: LayerEntry
    full: LayerTable
    variants: dict[int, LayerTable] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The layer id."""
        return self.entry.id

    def table(self, zoom: int | None = None) -> LayerTable:
        """The coarsest variant still detailed enough for ``zoom``; full resolution above the highest (or None)."""
        if zoom is not None:
            for variant_zoom, table in sorted(self.variants.items()):
                if zoom <= variant_zoom:
                    return table
        return self.full


class LayerStore:
    """Every layer of one build, read into memory once.

    Parameters
    ----------
    data_dir
        The data folder holding ``layers/manifest.json`` and the built files.
    manifest
        Its typed manifest.
    layers
        The layers by id, in manifest order.

    """

    def __init__(self, data_dir: Path, manifest: Manifest, layers: dict[str, StoredLayer]) -> None:
        self.data_dir = Path(data_dir)
        self.manifest = manifest
        self.layers = layers
        self.zones = _zone_index(layers)

    @classmethod
    def open(cls, data_dir: Path) -> LayerStore:
        """Read the manifest and every table of ``data_dir``; raises :class:`StoreUnavailable` naming the file."""
        try:
            manifest = read_manifest(data_dir)
        except FileNotFoundError as exc:
            raise StoreUnavailable(str(exc)) from exc
        except (OSError, ValueError) as exc:
            raise StoreUnavailable(f"cannot read the layer manifest in {data_dir}: {exc}") from exc
        folder = Path(data_dir) / LAYERS_FOLDER
        return cls(data_dir, manifest, {lid: _read_layer(folder, entry) for lid, entry in manifest.layers.items()})

    def __iter__(self) -> Iterator[StoredLayer]:
        return iter(self.layers.values())

    def __contains__(self, layer_id: object) -> bool:
        return layer_id in self.layers

    def layer(self, layer_id: str) -> StoredLayer:
        """The layer ``layer_id``, or :class:`UnknownLayer` naming the known ones."""
        try:
            return self.layers[layer_id]
        except KeyError:
            raise UnknownLayer(layer_id, list(self.layers)) from None

    def frame(self, layer_id: str, *, as_of: date | None = None, zoom: int | None = None) -> gpd.GeoDataFrame:
        """Features of ``layer_id`` valid on ``as_of`` (all when None), at the detail of ``zoom``."""
        return self.layer(layer_id).table(zoom).valid_on(as_of)

    @property
    def layers_dir(self) -> Path:
        """Folder of the built files (downloads, the population raster)."""
        return self.data_dir / LAYERS_FOLDER

    @property
    def population_raster(self) -> Path | None:
        """The indicative population raster named by the manifest, if the build made one."""
        raster = self.manifest.rasters.get("population")
        return self.layers_dir / raster.path if raster is not None else None


def _read_layer(folder: Path, entry: LayerEntry) -> StoredLayer:
    """Every table of one layer's GeoPackage: the only place the service reads a built layer file."""
    path = folder / entry.files["gpkg"]
    try:
        tables = {
            zoom: LayerTable.of(_to_lonlat(pyogrio.read_dataframe(path, layer=name)))
            for zoom, name in entry.tables.items()
        }
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise StoreUnavailable(f"cannot read layer {entry.id!r} from {path}: {exc}") from exc
    full = tables.pop(None)
    return StoredLayer(entry, full, {int(z): t for z, t in tables.items() if z is not None})


def _to_lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        return frame.to_crs("EPSG:4326")
    return frame


def _zone_index(layers: dict[str, StoredLayer]) -> ZoneIndex:
    """The zone index over the polygon layers, with the lines and places used for distances."""
    zones = {
        lid: ZoneLayer.from_frame(lid, layer.entry.title, layer.full.frame)
        for lid, layer in layers.items()
        if layer.entry.is_polygonal
    }

    def metric_line(layer_id: str) -> shapely.Geometry | None:
        layer = layers.get(layer_id)
        return None if layer is None else to_metric(shapely.union_all(layer.full.frame.geometry.values))

    return ZoneIndex(
        zones,
        iran_border=metric_line(IRAN_BORDER),
        line_of_contact=metric_line(LINE_OF_CONTACT),
        places=layers[PLACES].full.frame if PLACES in layers else None,
        versions={lid: layer.entry.version for lid, layer in layers.items()},
    )
