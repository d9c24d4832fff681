"""Where a tile is: WebMercatorQuad (morecantile's definition), tile addresses checked, and spherical Mercator.

A tile ``z/y/x`` (tile matrix, row, column, as in OGC API - Tiles paths) covers a square of EPSG:3857 metres;
its features are written in tile units, 0..:data:`EXTENT` from the top-left corner, and reach :data:`BUFFER`
units beyond the edges so that symbols and strokes cut at an edge continue in the next tile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import morecantile
import numpy as np
from morecantile import TileMatrixSet

from app.tiles.errors import TileMatrixSetNotFound, TileNotFound

TMS_ID = "WebMercatorQuad"
#: The tile matrix sets offered, by id (one for now: the one every web map speaks).
MATRIX_SETS: dict[str, TileMatrixSet] = {TMS_ID: morecantile.tms.get(TMS_ID)}
#: Tile units across a tile (the MVT default), and how far beyond its edges features reach.
EXTENT = 4096
BUFFER = 64
#: Half the side of the Mercator square, metres (EPSG:3857 on a sphere of radius 6378137 m).
HALF_WORLD = math.pi * 6378137.0
MAX_LAT = 85.0511287798066


def matrix_set(tms_id: str) -> TileMatrixSet:
    """The tile matrix set ``tms_id``, or :class:`TileMatrixSetNotFound` naming those offered."""
    try:
        return MATRIX_SETS[tms_id]
    except KeyError:
        raise TileMatrixSetNotFound(tms_id, list(MATRIX_SETS)) from None


@dataclass(frozen=True)
class TileAddress:
    """One WebMercatorQuad tile: zoom (tile matrix), row (from the top) and column (from the left)."""

    z: int
    y: int
    x: int

    @classmethod
    def checked(cls, z: int, y: int, x: int, max_zoom: int) -> TileAddress:
        """The tile ``z/y/x``, or :class:`TileNotFound` saying which value is outside the tileset.

        Examples
        --------
        >>> TileAddress.checked(8, 97, 161, max_zoom=18)
        TileAddress(z=8, y=97, x=161)
        >>> TileAddress.checked(2, 4, 0, max_zoom=18)
        Traceback (most recent call last):
        ...
        app.tiles.errors.TileNotFound: tile not found: tileRow 4 is outside 0..3 at tileMatrix 2

        """
        if not 0 <= z <= max_zoom:
            raise TileNotFound(f"tileMatrix {z} is outside 0..{max_zoom}")
        last = (1 << z) - 1
        if not 0 <= y <= last:
            raise TileNotFound(f"tileRow {y} is outside 0..{last} at tileMatrix {z}")
        if not 0 <= x <= last:
            raise TileNotFound(f"tileCol {x} is outside 0..{last} at tileMatrix {z}")
        return cls(z, y, x)

    @property
    def size(self) -> float:
        """Side of the tile, metres."""
        return 2 * HALF_WORLD / (1 << self.z)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in EPSG:3857 metres."""
        left, top = -HALF_WORLD + self.x * self.size, HALF_WORLD - self.y * self.size
        return left, top - self.size, left + self.size, top

    def lonlat_bounds(self, buffer: int = 0) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in CRS84 of the tile grown by ``buffer`` tile units (clamped to the world).

        Examples
        --------
        >>> [round(v, 4) for v in TileAddress(1, 0, 1).lonlat_bounds()]
        [0.0, 0.0, 180.0, 85.0511]

        """
        pad = self.size * buffer / EXTENT
        left, bottom, right, top = self.bounds
        west, south = to_lonlat(np.array([left - pad]), np.array([bottom - pad]))
        east, north = to_lonlat(np.array([right + pad]), np.array([top + pad]))
        return (max(float(west[0]), -180.0), float(south[0]), min(float(east[0]), 180.0), float(north[0]))


def to_mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:3857 metres of CRS84 degrees (latitudes clamped to the square's edge).

    Examples
    --------
    >>> x, y = to_mercator(np.array([180.0, 0.0]), np.array([0.0, MAX_LAT]))
    >>> bool(np.allclose(x, [HALF_WORLD, 0])), bool(np.allclose(y, [0, HALF_WORLD]))
    (True, True)

    """
    phi = np.radians(np.clip(lat, -MAX_LAT, MAX_LAT))
    return lon * (HALF_WORLD / 180.0), np.log(np.tan(math.pi / 4 + phi / 2)) * (HALF_WORLD / math.pi)


def to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CRS84 degrees of EPSG:3857 metres (the inverse of :func:`to_mercator`)."""
    lat = np.degrees(2 * np.arctan(np.exp(y * (math.pi / HALF_WORLD))) - math.pi / 2)
    return x * (180.0 / HALF_WORLD), lat
