"""Size limits of analysis input, checked before any expensive work.

Each limit is a setting (``analysis.<name>``, environment ``CZMAP_ANALYSIS__<NAME>``); the defaults fit a
2-core machine shared with other requests (bench/LOAD.md): about a second of work per request at the limit. A
refusal (413) names the limit and its setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.analysis.errors import LimitExceeded


@dataclass(frozen=True)
class Limits:
    """How much input one analysis may take.

    Examples
    --------
    >>> Limits(max_features=2).check_features(2)
    >>> Limits(max_features=2).check_features(3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    app.analysis.errors.LimitExceeded: too many input features: 3 > limit 2 (setting analysis.max_features, ...)

    """

    #: Read by the one size-capped body reader (:func:`app.http.request.read_body`), not checked here.
    max_upload_bytes: int = 16 * 1024 * 1024
    max_features: int = 1000
    max_vertices: int = 200_000
    max_rows: int = 100_000
    max_raster_cells: int = 50_000_000

    def check_features(self, count: int) -> None:
        """Raise :class:`LimitExceeded` if there are too many input features."""
        if count > self.max_features:
            raise LimitExceeded("input features", count, self.max_features, "max_features")

    def check_vertices(self, count: int, slack: int = 0) -> None:
        """Raise :class:`LimitExceeded` if the input geometries have too many vertices.

        ``slack``: how much of ``count`` may be something else (``count`` is an upper bound, counted unparsed).
        """
        if count - slack > self.max_vertices:
            raise LimitExceeded("vertices in the input geometries", count, self.max_vertices, "max_vertices")

    def check_rows(self, count: int | None, slack: int = 0) -> None:
        """Raise :class:`LimitExceeded` if there are too many points to classify (None: more than the limit).

        ``slack``: how much of ``count`` may be something else (``count`` is an upper bound, counted unparsed).
        """
        if count is None or count - slack > self.max_rows:
            raise LimitExceeded("points (rows)", count, self.max_rows, "max_rows")

    def check_raster_cells(self, count: int) -> None:
        """Raise :class:`LimitExceeded` if a zonal sum would read too many raster cells."""
        if count > self.max_raster_cells:
            raise LimitExceeded("raster cells under one polygon", count, self.max_raster_cells, "max_raster_cells")
