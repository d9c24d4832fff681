"""Zone overlap analysis for humanitarian planners: overlap areas, point classification and zone summaries.

Pure domain code (no FastAPI): :func:`load_zone_index` once at start-up, then the functions of
:mod:`app.analysis.service` per request.
"""

from app.analysis.zones import ZoneIndex, load_zone_index

__all__ = ["ZoneIndex", "load_zone_index"]
