"""The one point-in-zone index of the service: zone polygons with STRtrees, grids and metric copies.

Built once from the layer store (:class:`app.layerstore.store.LayerStore`) and shared through ``app.state``:
the collections, event writes, the analysis, the map, the alt text and the summaries all ask it.

**The boundary rule**: a point on a zone's boundary is *in* the zone (``covers``, not ``within``): a point on
the line between two districts is in both. Dated zones (``valid_from``/``valid_to``) count only on the days
they are valid (:mod:`app.layerstore.validity`), so a place has one control state per day.

Polygon layers of the manifest are *zone layers*. The ``iran-border`` and ``line-of-contact-1994`` lines
give distances, and ``places`` the nearest place. Geometries are kept in EPSG:4326 (for lookups), EPSG:6933
(equal-area, for km2) and EPSG:32638 (UTM 38N, metres, for distances and precision radii).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from app.analysis.errors import UnknownLayer
from app.layerstore.grid import BoundaryDistance, NearestSegments, ZoneGrid, segments_of
from app.layerstore.validity import Validity
from geodata.crs import EQUAL_AREA_CRS, METRIC_CRS

IRAN_BORDER = "iran-border"
LINE_OF_CONTACT = "line-of-contact-1994"
PLACES = "places"
#: Cell of the point-in-polygon grids, degrees (about 0.55 km x 0.43 km here).
ZONE_GRID_CELL_DEG = 0.005
#: Cell of the nearest-line and nearest-place grids, metres.
NEAREST_GRID_CELL_M = 2000.0
#: Distance grids reach this far (metres) beyond the zone layers; farther points are compared with every segment.
NEAREST_GRID_MARGIN_M = 100_000.0
#: Cell and reach (metres) of the distance-to-boundary grids that settle most precision-radius tests.
BOUNDARY_GRID_CELL_M = 2000.0
BOUNDARY_GRID_MARGIN_M = 60_000.0
#: Densify lon/lat edges (degrees) before projecting, so long edges follow the projected curve.
_DENSIFY_DEG = 0.01

_TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


def project(geoms: Any, transformer: Transformer) -> Any:
    """Project lon/lat geometries (one or an array) with ``transformer``, densifying edges first.

    Examples
    --------
    >>> from shapely import box
    >>> round(float(shapely.area(to_equal_area(box(46, 39, 47, 40)))) / 1e6)
    9550

    """
    dense = shapely.segmentize(geoms, _DENSIFY_DEG)
    return shapely.transform(dense, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def to_equal_area(geoms: Any) -> Any:
    """Geometries in EPSG:6933 (metres, equal-area)."""
    return project(geoms, _TO_EQUAL_AREA)


def to_metric(geoms: Any) -> Any:
    """Geometries in EPSG:32638 (UTM 38N, metres)."""
    return project(geoms, _TO_METRIC)


def metric_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points in EPSG:32638 metres.

    Examples
    --------
    >>> x, y = metric_xy(np.array([45.0]), np.array([0.0]))
    >>> float(x[0]), float(y[0])
    (500000.0, 0.0)

    """
    x, y = _TO_METRIC.transform(lon, lat)
    return np.asarray(x), np.asarray(y)


@dataclass(frozen=True)
class Zone:
    """One zone of a layer."""

    id: str
    name: str
    valid_from: str | None = None
    valid_to: str | None = None

    def as_dict(self) -> dict[str, str]:
        """JSON-ready reference: id, name and, when the zone is dated, its validity."""
        out = {"id": self.id, "name": self.name}
        if self.valid_from or self.valid_to:
            out |= {"valid_from": self.valid_from or "", "valid_to": self.valid_to or ""}
        return out


@dataclass(eq=False)
class ZoneLayer:
    """A polygon layer: its zones and their geometries in three CRSs, with an STRtree and point grids."""

    id: str
    title: str
    zones: list[Zone]
    geoms: np.ndarray  # EPSG:4326
    geoms_ea: np.ndarray  # EPSG:6933
    geoms_metric: np.ndarray  # EPSG:32638
    validity: Validity | None = None
    tree: shapely.STRtree = field(init=False)
    area_km2: np.ndarray = field(init=False)
    boundaries_metric: np.ndarray = field(init=False)
    _grids: list[ZoneGrid] | None = field(init=False, default=None)
    _distance: list[BoundaryDistance] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.tree = shapely.STRtree(self.geoms)
        self.area_km2 = shapely.area(self.geoms_ea) / 1e6
        shapely.prepare(self.geoms)
        self.boundaries_metric = shapely.boundary(self.geoms_metric)
        shapely.prepare(self.boundaries_metric)

    @property
    def grids(self) -> list[ZoneGrid]:
        """Point-in-polygon grids, one per zone (built on first use)."""
        if self._grids is None:
            self._grids = [ZoneGrid(g, ZONE_GRID_CELL_DEG) for g in self.geoms]
        return self._grids

    @property
    def boundary_distance(self) -> list[BoundaryDistance]:
        """Grids of the distance to each zone's boundary (metres; built on first use)."""
        if self._distance is None:
            self._distance = [
                BoundaryDistance(b, BOUNDARY_GRID_CELL_M, BOUNDARY_GRID_MARGIN_M) for b in self.boundaries_metric
            ]
        return self._distance

    @classmethod
    def from_frame(cls, layer_id: str, title: str, frame: gpd.GeoDataFrame) -> ZoneLayer:
        """Build from a GeoDataFrame in EPSG:4326 with an ``id`` (and ideally ``name``) column."""
        names = frame["name"] if "name" in frame.columns else frame["id"]
        valid_from = frame["valid_from"] if "valid_from" in frame.columns else [None] * len(frame)
        valid_to = frame["valid_to"] if "valid_to" in frame.columns else [None] * len(frame)
        zones = [
            Zone(str(i), str(n), _text(f), _text(t))
            for i, n, f, t in zip(frame["id"], names, valid_from, valid_to, strict=True)
        ]
        geoms = np.asarray(frame.geometry.values, dtype=object)
        return cls(layer_id, title, zones, geoms, to_equal_area(geoms), to_metric(geoms), Validity.of(frame))

    def valid_on(self, day: date | None) -> np.ndarray:
        """Mask of the zones valid on ``day`` (all zones when ``day`` is None or the layer is undated)."""
        if day is None or self.validity is None:
            return np.ones(len(self.zones), dtype=bool)
        return self.validity.on(day)

    def contains(self, lon: np.ndarray, lat: np.ndarray, day: date | None = None) -> np.ndarray:
        """``(zones, points)`` matrix: whether each zone covers each point (boundary included) on ``day``."""
        valid = self.valid_on(day)
        inside = np.zeros((len(self.zones), lon.size), dtype=bool)
        for z in np.flatnonzero(valid) if lon.size else ():
            inside[z] = self.grids[z].contains(lon, lat)
        return inside

    def zones_at(self, lon: float, lat: float, day: date | None = None) -> list[int]:
        """Rows of the zones covering one point on ``day`` (bounding boxes first, then the exact test)."""
        candidates = self.tree.query(shapely.Point(lon, lat))
        hits = candidates[shapely.intersects_xy(self.geoms[candidates], lon, lat)]
        valid = self.valid_on(day)
        return sorted(int(z) for z in hits if valid[z])


@dataclass(eq=False)
class ZoneIndex:
    """Every zone layer, plus the lines and places used for distances; built once per data folder.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> frame = gpd.GeoDataFrame({"id": ["a"], "name": ["A"]}, geometry=[box(46, 39, 47, 40)], crs="EPSG:4326")
    >>> index = ZoneIndex({"demo": ZoneLayer.from_frame("demo", "Demo", frame)})
    >>> index.layer("demo").zones[0].name, index.layer_ids
    ('A', ['demo'])
    >>> index.layer("nope")
    Traceback (most recent call last):
    ...
    app.analysis.errors.UnknownLayer: unknown layer 'nope'; known: demo

    """

    layers: dict[str, ZoneLayer]
    iran_border: BaseGeometry | None = None  # EPSG:32638
    line_of_contact: BaseGeometry | None = None  # EPSG:32638
    places: gpd.GeoDataFrame | None = None  # EPSG:4326, columns id, name, country
    versions: dict[str, str] = field(default_factory=dict)
    _nearest: dict[str, NearestSegments] = field(default_factory=dict, init=False)

    @classmethod
    def from_polygons(cls, layers: Mapping[str, Iterable[tuple[str, BaseGeometry]]]) -> ZoneIndex:
        """An index over plain ``{layer_id: [(zone_id, polygon), ...]}`` in lon/lat (no lines, no places)."""
        frames = {
            lid: gpd.GeoDataFrame({"id": [z for z, _ in items]}, geometry=[g for _, g in items], crs="EPSG:4326")
            for lid, items in ((lid, list(items)) for lid, items in layers.items())
        }
        return cls({lid: ZoneLayer.from_frame(lid, lid, frame) for lid, frame in frames.items()})

    @property
    def layer_ids(self) -> list[str]:
        """Ids of the zone layers, in manifest order."""
        return list(self.layers)

    def layer(self, layer_id: str) -> ZoneLayer:
        """The zone layer ``layer_id``, or :class:`UnknownLayer`."""
        try:
            return self.layers[layer_id]
        except KeyError:
            raise UnknownLayer(layer_id, self.layer_ids) from None

    def select(self, layer_ids: Iterable[str] | None) -> list[ZoneLayer]:
        """The named zone layers (all when ``layer_ids`` is None or empty), validated."""
        ids = [i for i in layer_ids or [] if i]
        return [self.layer(i) for i in ids] if ids else list(self.layers.values())

    def nearest(self, kind: str) -> NearestSegments | None:
        """Grid index of the segments of ``iran-border``, ``line-of-contact-1994`` or the ``places`` points."""
        if kind not in self._nearest:
            built = self._build_nearest(kind)
            if built is None:
                return None
            self._nearest[kind] = built
        return self._nearest[kind]

    def _build_nearest(self, kind: str) -> NearestSegments | None:
        if kind == PLACES:
            if self.places is None or self.places.empty:
                return None
            x, y = metric_xy(self.places.geometry.x.to_numpy(), self.places.geometry.y.to_numpy())
            starts = ends = np.column_stack([x, y])
        else:
            line = {IRAN_BORDER: self.iran_border, LINE_OF_CONTACT: self.line_of_contact}[kind]
            if line is None:
                return None
            starts, ends = segments_of(line)
        return NearestSegments(starts, ends, self._metric_extent(), NEAREST_GRID_CELL_M)

    def _metric_extent(self) -> tuple[float, float, float, float]:
        parts = [layer.geoms_metric for layer in self.layers.values()]
        parts += [np.array([g]) for g in (self.iran_border, self.line_of_contact) if g is not None]
        w, s, e, n = shapely.total_bounds(np.concatenate(parts)) if parts else (0.0, 0.0, 1.0, 1.0)
        m = NEAREST_GRID_MARGIN_M
        return float(w - m), float(s - m), float(e + m), float(n + m)

    def labels_at(self, lon: float, lat: float, day: date | None = None, layer_ids: Iterable[str] = ()) -> list[str]:
        """Sorted ``'<layer>:<zone>'`` labels of every zone covering one point on ``day``.

        Layers named in ``layer_ids`` that are not loaded are skipped (all zone layers when empty).
        """
        ids = [i for i in layer_ids if i in self.layers] if layer_ids else self.layer_ids
        return sorted(f"{i}:{self.layers[i].zones[z].id}" for i in ids for z in self.layers[i].zones_at(lon, lat, day))

    def counts(self, layer_id: str, lon: np.ndarray, lat: np.ndarray, day: date | None = None) -> np.ndarray:
        """Number of the points in each zone of ``layer_id`` (valid on ``day``)."""
        return self.layer(layer_id).contains(lon, lat, day).sum(axis=1)

    def warm(self) -> ZoneIndex:
        """Build every lazy grid now (so the first request does not pay for it); returns self."""
        for layer in self.layers.values():
            _ = layer.grids, layer.boundary_distance
        for kind in (IRAN_BORDER, LINE_OF_CONTACT, PLACES):
            self.nearest(kind)
        return self

    def warm_grids(self) -> WarmGrids:
        """Every grid, built now (:meth:`warm`), to hand to an index over the same build in another process."""
        self.warm()
        zones = {lid: (layer.grids, layer.boundary_distance) for lid, layer in self.layers.items()}
        return WarmGrids(dict(self.versions), zones, dict(self._nearest))

    def adopt(self, grids: WarmGrids) -> bool:
        """Take the grids another process built (:meth:`warm_grids`); False (nothing taken) for another build."""
        if grids.versions != self.versions or set(grids.zones) != set(self.layers):
            return False
        for lid, (point_grids, distances) in grids.zones.items():
            self.layers[lid]._grids, self.layers[lid]._distance = point_grids, distances
        self._nearest.update(grids.nearest)
        return True


@dataclass(frozen=True)
class WarmGrids:
    """The grids of a warmed :class:`ZoneIndex`, by layer, with the layer versions they were built from.

    Building them takes ~8 s of CPU (the boundary-distance and nearest-segment grids mostly); a worker process
    (:mod:`app.offload`) that built its own on its first classification held every analysis request up that
    long, and it is replaced every ``service.worker_tasks`` tasks. Pickled into a file it loads (79 MiB), they arrive
    in ~20 ms.
    """

    versions: dict[str, str]
    zones: dict[str, tuple[list[ZoneGrid], list[BoundaryDistance]]]
    nearest: dict[str, NearestSegments]


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value) or None
