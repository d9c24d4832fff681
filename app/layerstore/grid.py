"""Grid-accelerated exact lookups for millions of points: point in polygon, and nearest segment.

Both answers are exact; the grids only decide which exact test a point needs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely.geometry.base import BaseGeometry

_OUTSIDE, _INSIDE, _EDGE = 0, 1, 2


class ZoneGrid:
    """Point-in-polygon for one polygon: a grid of cells marked inside, outside or edge.

    Cells the polygon boundary touches (widened by one cell for safety) are *edge*; a point there is tested
    exactly with ``shapely.contains_xy`` on the prepared polygon. Every other cell lies wholly inside or
    wholly outside, so its points take the cell's answer.

    Parameters
    ----------
    polygon
        The zone, in the coordinates the points will be given in.
    cell
        Cell size in those units.

    Examples
    --------
    >>> from shapely import box
    >>> grid = ZoneGrid(box(0, 0, 10, 10), cell=1.0)
    >>> grid.contains(np.array([5.0, 10.0, 10.000001, -3]), np.array([5.0, 5.0, 5.0, 5.0])).tolist()
    [True, True, False, False]

    """

    def __init__(self, polygon: BaseGeometry, cell: float) -> None:
        self.polygon = polygon
        shapely.prepare(polygon)
        w, s, e, n = polygon.bounds
        self.west, self.north, self.cell = w - cell, n + cell, cell
        self.width, self.height = math.ceil((e - w) / cell) + 2, math.ceil((n - s) / cell) + 2
        transform = from_origin(self.west, self.north, cell, cell)
        shape = (self.height, self.width)
        inside = rasterize([polygon], out_shape=shape, transform=transform, fill=0, default_value=1, dtype="uint8")
        edge = rasterize([polygon.boundary], out_shape=shape, transform=transform, all_touched=True, dtype="uint8")
        state = np.where(inside > 0, _INSIDE, _OUTSIDE).astype(np.uint8)
        state[widen(edge > 0)] = _EDGE
        self.state = state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled in another process (:class:`app.layerstore.zones.WarmGrids`): prepare the polygon again."""
        self.__dict__.update(state)
        shapely.prepare(self.polygon)

    @property
    def edge_share(self) -> float:
        """Share of the grid's cells that need an exact test."""
        return float((self.state == _EDGE).mean())

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether each point ``(x, y)`` lies in the polygon (boundary included, as ``covers``)."""
        result = np.zeros(x.shape, dtype=bool)
        col = np.floor((x - self.west) / self.cell)
        row = np.floor((self.north - y) / self.cell)
        near = (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        idx = np.flatnonzero(near)
        state = self.state[row[idx].astype(np.intp), col[idx].astype(np.intp)]
        result[idx[state == _INSIDE]] = True
        check = idx[state == _EDGE]
        if check.size:
            result[check] = shapely.intersects_xy(self.polygon, x[check], y[check])
        return result


class BoundaryDistance:
    """Distance to a boundary at the centres of a grid, to settle "within r of the boundary?" without GEOS.

    A point in a cell whose centre lies ``D`` from the boundary is within ``D +- h`` of it (``h``: half the cell
    diagonal). So a point is surely within ``r`` when ``D + h <= r``, surely not when ``D - h > r``; only the
    rest (and points off the grid) need an exact test.

    Examples
    --------
    >>> from shapely import box
    >>> grid = BoundaryDistance(box(0, 0, 100, 100).boundary, cell=2.0, margin=20.0)
    >>> x, y, r = np.array([50.0, 50.0, 50.0]), np.array([50.0, 50.0, 97.0]), np.array([10.0, 60.0, 2.5])
    >>> sure, unsure = grid.settle(x, y, r)
    >>> sure.tolist(), unsure.tolist()
    ([False, True, False], [False, False, True])

    """

    def __init__(self, boundary: BaseGeometry, cell: float, margin: float) -> None:
        w, s, e, n = boundary.bounds
        self.west, self.south, self.cell = w - margin, s - margin, cell
        self.nx = max(1, math.ceil((e - w + 2 * margin) / cell))
        self.ny = max(1, math.ceil((n - s + 2 * margin) / cell))
        gx, gy = np.meshgrid(
            self.west + (np.arange(self.nx) + 0.5) * cell, self.south + (np.arange(self.ny) + 0.5) * cell
        )
        starts, ends = segments_of(boundary)
        tree = shapely.STRtree(shapely.linestrings(np.stack([starts, ends], axis=1)))
        (cells, _), dist = tree.query_nearest(
            shapely.points(gx.ravel(), gy.ravel()), return_distance=True, all_matches=False
        )
        self.distance = np.empty(gx.size)
        self.distance[cells] = dist
        self.half_diagonal = cell * math.sqrt(2) / 2

    def settle(self, x: np.ndarray, y: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(surely within r, undecided)`` for each point."""
        col = np.floor((x - self.west) / self.cell)
        row = np.floor((y - self.south) / self.cell)
        on_grid = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        d = np.full(x.shape, np.nan)
        d[on_grid] = self.distance[row[on_grid].astype(np.intp) * self.nx + col[on_grid].astype(np.intp)]
        sure = on_grid & (d + self.half_diagonal <= r)
        unsure = ~on_grid | (np.abs(d - r) < self.half_diagonal)
        return sure, unsure & ~sure


class NearestSegments:
    """Exact distance from many points to the nearest of a set of segments (or points), in planar units.

    A grid over ``extent`` keeps, per cell, the segments that can be nearest to some point of the cell: those
    within ``D + 2r`` of the cell centre, where ``D`` is the centre's distance to the nearest segment and ``r``
    the half diagonal of a cell (found once with an STRtree). A query computes distances to a point's
    candidates only, in numpy. Points outside the extent are compared with every segment.

    Parameters
    ----------
    starts, ends
        ``(m, 2)`` arrays of segment end points; a point is a segment with equal ends.
    extent
        ``(xmin, ymin, xmax, ymax)`` of the grid.
    cell
        Cell size.

    Examples
    --------
    >>> starts = np.array([[0.0, 0.0], [10.0, 0.0]])
    >>> ends = np.array([[10.0, 0.0], [10.0, 10.0]])
    >>> index = NearestSegments(starts, ends, extent=(-5, -5, 15, 15), cell=1.0)
    >>> dist, seg = index.query(np.array([5.0, 12.0, 100.0]), np.array([3.0, 5.0, 5.0]))
    >>> dist.tolist(), seg.tolist()
    ([3.0, 2.0, 90.0], [0, 1, 1])

    """

    def __init__(self, starts: np.ndarray, ends: np.ndarray, extent: tuple[float, float, float, float], cell: float):
        if len(starts) == 0:
            raise ValueError("NearestSegments needs at least one segment")
        self.a, self.b = np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)
        self.xmin, self.ymin = extent[0], extent[1]
        self.cell = cell
        self.nx = max(1, math.ceil((extent[2] - extent[0]) / cell))
        self.ny = max(1, math.ceil((extent[3] - extent[1]) / cell))
        cx = self.xmin + (np.arange(self.nx) + 0.5) * cell
        cy = self.ymin + (np.arange(self.ny) + 0.5) * cell
        gx, gy = (v.ravel() for v in np.meshgrid(cx, cy))
        self.offsets, self.segments = self._candidates(gx, gy, cell * math.sqrt(2) / 2)
        self._ax, self._ay = self.a[:, 0].copy(), self.a[:, 1].copy()
        self._dx, self._dy = self.b[:, 0] - self._ax, self.b[:, 1] - self._ay
        length2 = self._dx**2 + self._dy**2
        self._inv_len2 = np.divide(1.0, length2, out=np.zeros_like(length2), where=length2 > 0)

    def _candidates(self, gx: np.ndarray, gy: np.ndarray, half_diagonal: float) -> tuple[np.ndarray, np.ndarray]:
        """Candidate segments per cell, as CSR arrays ``offsets`` (cells + 1) and ``segments``."""
        is_point = np.all(self.a == self.b, axis=1)
        geoms = np.where(
            is_point,
            shapely.points(self.a),
            shapely.linestrings(np.stack([self.a, self.b], axis=1)),
        )
        tree = shapely.STRtree(geoms)
        centres = shapely.points(gx, gy)
        (cells, _), nearest = tree.query_nearest(centres, return_distance=True, all_matches=False)
        reach = np.empty(gx.size)
        reach[cells] = nearest
        reach += 2 * half_diagonal + 1e-9 * self.cell
        cell_ids, segs = tree.query(centres, predicate="dwithin", distance=reach)
        centre_dist = shapely.distance(centres[cell_ids], geoms[segs])
        order = np.lexsort((segs, centre_dist, cell_ids))
        offsets = np.zeros(gx.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell_ids, minlength=gx.size), out=offsets[1:])
        # per cell, candidates by distance from the centre; keys make that order global for searchsorted
        self._key_step = float(reach.max() * 2 + 1)
        self._keys = cell_ids[order] * self._key_step + centre_dist[order]
        return offsets, segs[order].astype(np.int64)

    @property
    def max_candidates(self) -> int:
        """The most candidate segments of any cell."""
        return int(np.diff(self.offsets).max())

    def query(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance to the nearest segment, and its index, for each point."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        dist = np.full(x.shape, np.inf)
        best = np.zeros(x.shape, dtype=np.int64)
        col = np.floor((x - self.xmin) / self.cell)
        row = np.floor((y - self.ymin) / self.cell)
        on_grid = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        idx = np.flatnonzero(on_grid)
        cell = row[idx].astype(np.intp) * self.nx + col[idx].astype(np.intp)
        px, py = x[idx], y[idx]
        first = self.offsets[cell]
        near, which = self._distances(px, py, self.segments[first]), self.segments[first]
        # a candidate farther from the cell centre than (distance to the first + distance to the centre)
        # cannot be nearer than the first: count only the candidates that can
        to_centre = np.hypot(
            px - (self.xmin + (col[idx] + 0.5) * self.cell), py - (self.ymin + (row[idx] + 0.5) * self.cell)
        )
        limit = np.searchsorted(self._keys, cell * self._key_step + near + to_centre, side="right")
        count = np.minimum(limit, self.offsets[cell + 1]) - first
        order = np.argsort(-count, kind="stable")  # round k then works on a contiguous prefix
        neg_count, first, px, py = -count[order], first[order], px[order], py[order]
        near, which = near[order], which[order]
        longest = -int(neg_count[0]) if neg_count.size else 0
        remaining = neg_count.size - np.cumsum(np.bincount(-neg_count, minlength=longest + 1))
        for k in range(1, longest):
            m = int(remaining[k])
            seg = self.segments[first[:m] + k]
            d = self._distances(px[:m], py[:m], seg)
            better = d < near[:m]
            near[:m] = np.where(better, d, near[:m])
            which[:m] = np.where(better, seg, which[:m])
        dist[idx[order]], best[idx[order]] = near, which
        self._brute_force(x, y, np.flatnonzero(~on_grid), dist, best)
        return dist, best

    def _distances(self, px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> np.ndarray:
        ax, ay, dx, dy, inv = self._ax[seg], self._ay[seg], self._dx[seg], self._dy[seg], self._inv_len2[seg]
        t = np.clip(((px - ax) * dx + (py - ay) * dy) * inv, 0.0, 1.0)
        return np.hypot(px - ax - t * dx, py - ay - t * dy)

    def _brute_force(
        self, x: np.ndarray, y: np.ndarray, points: np.ndarray, dist: np.ndarray, best: np.ndarray
    ) -> None:
        for start in range(0, points.size, 2048):
            chunk = points[start : start + 2048]
            d = _segment_distances(x[chunk, None], y[chunk, None], self.a, self.b)
            best[chunk] = d.argmin(axis=1)
            dist[chunk] = d.min(axis=1)


def _segment_distances(px: np.ndarray, py: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from points to segments ``a``-``b`` (broadcasting; zero-length segments are points)."""
    ax, ay, bx, by = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(length2 > 0, ((px - ax) * dx + (py - ay) * dy) / length2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def segments_of(lines: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points of every segment of a (multi)linestring.

    Examples
    --------
    >>> from shapely import LineString
    >>> a, b = segments_of(LineString([(0, 0), (1, 0), (1, 1)]))
    >>> a.tolist(), b.tolist()
    ([[0.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [1.0, 1.0]])

    """
    starts, ends = [], []
    for part in shapely.get_parts(lines):
        coords = shapely.get_coordinates(part)
        starts.append(coords[:-1])
        ends.append(coords[1:])
    return np.concatenate(starts), np.concatenate(ends)


def widen(mask: np.ndarray) -> np.ndarray:
    """``mask`` grown by one cell in the eight directions.

    Examples
    --------
    >>> mask = np.zeros((3, 4), dtype=bool)
    >>> mask[0, 0] = True
    >>> widen(mask).astype(int).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]

    """
    grown = mask.copy()
    grown[1:, :] |= mask[:-1, :]
    grown[:-1, :] |= mask[1:, :]
    wide = grown.copy()
    wide[:, 1:] |= grown[:, :-1]
    wide[:, :-1] |= grown[:, 1:]
    return wide
