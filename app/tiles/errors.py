"""Errors of tile requests; both are 404s (:class:`app.errors.NotFound`), as OGC API - Tiles asks."""

from __future__ import annotations

from app.errors import NotFound


class TileMatrixSetNotFound(NotFound):
    """The path names a tile matrix set this service does not offer."""

    def __init__(self, tms_id: str, known: list[str]) -> None:
        super().__init__(f"tile matrix set {tms_id[:60]!r} not found; offered: {', '.join(known)}")


class TileNotFound(NotFound):
    """A tile matrix, row or column outside the tileset."""

    def __init__(self, message: str) -> None:
        super().__init__(f"tile not found: {message}")
