"""Classify many points at once: zones containing each point, membership under a precision radius, distances.

Membership of a point with precision radius ``r`` in a zone: **inside** when the whole disc of radius ``r``
lies in the zone, **possibly inside** when the disc meets the zone's boundary (the point may be on either
side), **outside** when the disc does not meet the zone. With ``r = 0`` it is inside or outside. Radii are in
metres in UTM 38N (EPSG:32638), as are the distances to the Iran border, the 1994 line of contact and the
nearest place.

A layer's own positional accuracy (``accuracy_m``: how far its edges may lie from the true line) widens the
disc: ``r`` is the point's radius plus the layer's accuracy, since either error can carry the point across the
edge. Distances to a line carry the same sum as their margin. On a ``day``, zones of dated layers not valid on
that day are left out, so each place has one state of a dated layer per day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum

import numpy as np
import shapely

from app.layerstore.zones import IRAN_BORDER, LINE_OF_CONTACT, PLACES, ZoneIndex, ZoneLayer, metric_xy

ProgressCallback = Callable[[int], None]
CHUNK = 250_000


class Membership(IntEnum):
    """How sure it is that a point lies in a zone."""

    OUTSIDE = 0
    POSSIBLY_INSIDE = 1
    INSIDE = 2

    @property
    def label(self) -> str:
        """``inside``, ``possibly inside`` or ``outside``."""
        return self.name.lower().replace("_", " ")


@dataclass
class Classification:
    """Results for ``n`` points.

    Per layer a ``(zones, n)`` matrix of :class:`Membership` values and one of containment of the point itself,
    plus distances (km) and the nearest place (row of ``index.places``).
    """

    layers: list[ZoneLayer]
    contains: dict[str, np.ndarray]
    membership: dict[str, np.ndarray]
    iran_border_km: np.ndarray | None
    line_of_contact_km: np.ndarray | None
    nearest_place: np.ndarray | None
    nearest_place_km: np.ndarray | None
    notes: list[str] = field(default_factory=list)
    #: Error margins (km) of ``iran_border_km`` and ``line_of_contact_km``: the line's accuracy plus each
    #: point's radius (None without distances).
    iran_border_margin_km: np.ndarray | None = None
    line_of_contact_margin_km: np.ndarray | None = None


def classify(
    index: ZoneIndex,
    lon: np.ndarray,
    lat: np.ndarray,
    radius_m: np.ndarray | None = None,
    layers: list[str] | None = None,
    distances: bool = True,
    on_progress: ProgressCallback | None = None,
    day: date | None = None,
    accuracy_m: Mapping[str, float] | None = None,
) -> Classification:
    """Classify points (CRS84) against zone layers.

    Parameters
    ----------
    index
        The loaded zones.
    lon, lat
        Coordinates, degrees.
    radius_m
        Precision radius of each point in metres (None: every point exact).
    layers
        Zone layer ids (None: all).
    distances
        Also compute distances to the Iran border, the 1994 line of contact and the nearest place.
    on_progress
        Called with the number of points done after each chunk.
    day
        Leave out the zones of dated layers not valid on this day (None: every zone).
    accuracy_m
        Positional accuracy (metres) per layer id, added to each point's radius for that layer; for the
        ``iran-border`` and ``line-of-contact-1994`` lines, the margin of the distances (None: all exact).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from app.layerstore.zones import ZoneLayer
    >>> frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=[box(46, 39, 47, 40)], crs="EPSG:4326")
    >>> index = ZoneIndex({"demo": ZoneLayer.from_frame("demo", "Demo", frame)})
    >>> result = classify(index, np.array([46.5, 46.999, 48.0]), np.array([39.5, 39.5, 39.5]),
    ...                   radius_m=np.array([0.0, 1000.0, 0.0]))
    >>> result.membership["demo"][0].tolist()
    [2, 1, 0]

    """
    selected = index.select(layers)
    valid = {layer.id: layer.valid_on(day) for layer in selected}
    accuracy = dict(accuracy_m or {})
    chunks = []
    for start in range(0, max(lon.size, 1), CHUNK):
        part = slice(start, min(lon.size, start + CHUNK))
        radius = None if radius_m is None else radius_m[part]
        chunk = _Chunk(lon[part], lat[part], radius, valid, accuracy)
        chunks.append(_classify_chunk(index, selected, chunk, distances))
        if on_progress is not None:
            on_progress(part.stop - part.start)
    return _concatenate(selected, chunks)


@dataclass
class _Chunk:
    """Points of one chunk, their radii, the zones valid on the day and the layers' accuracies."""

    lon: np.ndarray
    lat: np.ndarray
    radius: np.ndarray | None
    valid: dict[str, np.ndarray]
    accuracy: dict[str, float]

    def needs_metric(self, layers: list[ZoneLayer], distances: bool) -> bool:
        fuzzy_points = self.radius is not None and bool((self.radius > 0).any())
        return distances or fuzzy_points or any(self.accuracy.get(layer.id, 0.0) > 0 for layer in layers)


def _classify_chunk(index: ZoneIndex, layers: list[ZoneLayer], chunk: _Chunk, distances: bool) -> Classification:
    lon, lat = chunk.lon, chunk.lat
    needs_metric = chunk.needs_metric(layers, distances)
    mx, my = metric_xy(lon, lat) if needs_metric and lon.size else (np.empty(0), np.empty(0))
    contains, membership = {}, {}
    for layer in layers:
        valid = chunk.valid[layer.id]
        inside = np.zeros((len(layer.zones), lon.size), bool)
        for z in np.flatnonzero(valid) if lon.size else ():
            inside[z] = layer.grids[z].contains(lon, lat)
        contains[layer.id] = inside
        fuzzy = _Fuzzy.of(mx, my, chunk.radius, chunk.accuracy.get(layer.id, 0.0))
        membership[layer.id] = _membership(layer, inside, fuzzy, valid)
    result = Classification(layers, contains, membership, None, None, None, None)
    if distances:
        _add_distances(index, result, mx, my, chunk)
    return result


@dataclass
class _Fuzzy:
    """The points of a chunk with a radius (their own plus the layer's accuracy), in metres."""

    idx: np.ndarray
    x: np.ndarray
    y: np.ndarray
    r: np.ndarray

    @classmethod
    def of(cls, mx: np.ndarray, my: np.ndarray, radius: np.ndarray | None, accuracy: float) -> _Fuzzy | None:
        if accuracy <= 0 and (radius is None or not (radius > 0).any()):
            return None
        r = np.full(mx.size, accuracy) if radius is None else radius + accuracy
        idx = np.flatnonzero(r > 0)
        return cls(idx, mx[idx], my[idx], r[idx])


def _membership(layer: ZoneLayer, inside: np.ndarray, fuzzy: _Fuzzy | None, valid: np.ndarray) -> np.ndarray:
    state = np.where(inside, Membership.INSIDE, Membership.OUTSIDE).astype(np.uint8)
    if fuzzy is None:
        return state
    for z in np.flatnonzero(valid):
        boundary = layer.boundaries_metric[z]
        w, s, e, n = shapely.bounds(boundary)
        r = fuzzy.r
        near_box = np.flatnonzero((fuzzy.x >= w - r) & (fuzzy.x <= e + r) & (fuzzy.y >= s - r) & (fuzzy.y <= n + r))
        if not near_box.size:
            continue
        near, unsure = layer.boundary_distance[z].settle(fuzzy.x[near_box], fuzzy.y[near_box], r[near_box])
        undecided = np.flatnonzero(unsure)
        check = near_box[undecided]
        near[undecided] = shapely.dwithin(boundary, shapely.points(fuzzy.x[check], fuzzy.y[check]), r[check])
        state[z, fuzzy.idx[near_box[near]]] = Membership.POSSIBLY_INSIDE
    return state


def _add_distances(index: ZoneIndex, result: Classification, mx: np.ndarray, my: np.ndarray, chunk: _Chunk) -> None:
    own = np.zeros(mx.size) if chunk.radius is None else chunk.radius
    for kind, attr in ((IRAN_BORDER, "iran_border_km"), (LINE_OF_CONTACT, "line_of_contact_km")):
        grid = index.nearest(kind)
        if grid is None:
            result.notes.append(f"layer {kind!r} is not loaded: {attr} omitted")
        else:
            setattr(result, attr, grid.query(mx, my)[0] / 1000.0)
            margin = (own + chunk.accuracy.get(kind, 0.0)) / 1000.0
            setattr(result, attr.replace("_km", "_margin_km"), margin)
    places = index.nearest(PLACES)
    if places is None:
        result.notes.append("layer 'places' is not loaded: nearest_place omitted")
    else:
        dist, which = places.query(mx, my)
        result.nearest_place, result.nearest_place_km = which, dist / 1000.0


def _concatenate(layers: list[ZoneLayer], chunks: list[Classification]) -> Classification:
    def join(values: list[np.ndarray | None]) -> np.ndarray | None:
        return None if any(v is None for v in values) else np.concatenate(values)  # type: ignore[arg-type]

    if len(chunks) == 1:
        return chunks[0]
    return Classification(
        layers,
        {layer.id: np.concatenate([c.contains[layer.id] for c in chunks], axis=1) for layer in layers},
        {layer.id: np.concatenate([c.membership[layer.id] for c in chunks], axis=1) for layer in layers},
        join([c.iran_border_km for c in chunks]),
        join([c.line_of_contact_km for c in chunks]),
        join([c.nearest_place for c in chunks]),
        join([c.nearest_place_km for c in chunks]),
        chunks[0].notes,
        join([c.iran_border_margin_km for c in chunks]),
        join([c.line_of_contact_margin_km for c in chunks]),
    )
