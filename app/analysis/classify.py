"""Classify many points at once: zones containing each point, membership under a precision radius, distances.

Membership of a point with precision radius ``r`` in a zone: **inside** when the whole disc of radius ``r``
lies in the zone, **possibly inside** when the disc meets the zone's boundary (the point may be on either
side), **outside** when the disc does not meet the zone. With ``r = 0`` it is inside or outside. Radii are in
metres in UTM 38N (EPSG:32638), as are the distances to the Iran border, the 1994 line of contact and the
nearest place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


def classify(
    index: ZoneIndex,
    lon: np.ndarray,
    lat: np.ndarray,
    radius_m: np.ndarray | None = None,
    layers: list[str] | None = None,
    distances: bool = True,
    on_progress: ProgressCallback | None = None,
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
    chunks = []
    for start in range(0, max(lon.size, 1), CHUNK):
        part = slice(start, min(lon.size, start + CHUNK))
        radius = None if radius_m is None else radius_m[part]
        chunks.append(_classify_chunk(index, selected, lon[part], lat[part], radius, distances))
        if on_progress is not None:
            on_progress(part.stop - part.start)
    return _concatenate(selected, chunks)


def _classify_chunk(
    index: ZoneIndex,
    layers: list[ZoneLayer],
    lon: np.ndarray,
    lat: np.ndarray,
    radius: np.ndarray | None,
    distances: bool,
) -> Classification:
    needs_metric = distances or (radius is not None and bool((radius > 0).any()))
    mx, my = metric_xy(lon, lat) if needs_metric and lon.size else (np.empty(0), np.empty(0))
    contains, membership = {}, {}
    fuzzy = _Fuzzy.of(mx, my, radius)
    for layer in layers:
        inside = (
            np.stack([grid.contains(lon, lat) for grid in layer.grids])
            if lon.size
            else np.zeros((len(layer.zones), 0), bool)
        )
        contains[layer.id] = inside
        membership[layer.id] = _membership(layer, inside, fuzzy)
    result = Classification(layers, contains, membership, None, None, None, None)
    if distances:
        _add_distances(index, result, mx, my)
    return result


@dataclass
class _Fuzzy:
    """The points of a chunk with a precision radius, in metres, with their shapely points made once."""

    idx: np.ndarray
    x: np.ndarray
    y: np.ndarray
    r: np.ndarray
    points: np.ndarray

    @classmethod
    def of(cls, mx: np.ndarray, my: np.ndarray, radius: np.ndarray | None) -> _Fuzzy | None:
        if radius is None or not (radius > 0).any():
            return None
        idx = np.flatnonzero(radius > 0)
        x, y = mx[idx], my[idx]
        return cls(idx, x, y, radius[idx], shapely.points(x, y))


def _membership(layer: ZoneLayer, inside: np.ndarray, fuzzy: _Fuzzy | None) -> np.ndarray:
    state = np.where(inside, Membership.INSIDE, Membership.OUTSIDE).astype(np.uint8)
    if fuzzy is None:
        return state
    for z, boundary in enumerate(layer.boundaries_metric):
        w, s, e, n = shapely.bounds(boundary)
        r = fuzzy.r
        near_box = np.flatnonzero((fuzzy.x >= w - r) & (fuzzy.x <= e + r) & (fuzzy.y >= s - r) & (fuzzy.y <= n + r))
        if not near_box.size:
            continue
        near, unsure = layer.boundary_distance[z].settle(fuzzy.x[near_box], fuzzy.y[near_box], r[near_box])
        check = np.flatnonzero(unsure)
        near[check] = shapely.dwithin(boundary, fuzzy.points[near_box[check]], r[near_box[check]])
        state[z, fuzzy.idx[near_box[near]]] = Membership.POSSIBLY_INSIDE
    return state


def _add_distances(index: ZoneIndex, result: Classification, mx: np.ndarray, my: np.ndarray) -> None:
    for kind, attr in ((IRAN_BORDER, "iran_border_km"), (LINE_OF_CONTACT, "line_of_contact_km")):
        grid = index.nearest(kind)
        if grid is None:
            result.notes.append(f"layer {kind!r} is not loaded: {attr} omitted")
        else:
            setattr(result, attr, grid.query(mx, my)[0] / 1000.0)
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
    )
