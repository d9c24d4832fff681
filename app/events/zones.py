"""Which zones an event is in: computed from the layer store's zone index, never typed in by a client.

The index's boundary rule applies (a point on a boundary is in the zone), and a dated zone counts only on
the event's first day, so an event gets one control state, the one of its day.
"""

from __future__ import annotations

from datetime import date

from app.layerstore.zones import ZoneIndex

#: Zone layers an event is labelled with, in this order; layers the build lacks are skipped.
ZONE_LAYERS: tuple[str, ...] = (
    "nagorno-karabakh",
    "seven-districts",
    "iran-border-zone",
    "ceasefire-1994-area",
    "control-2020",
    "admin-units",
)


def event_zones(index: ZoneIndex, lon: float, lat: float, day: date | None = None) -> list[str]:
    """Sorted ``'<layer>:<zone>'`` labels of the zones covering the point on ``day``.

    Examples
    --------
    >>> from shapely import box
    >>> index = ZoneIndex.from_polygons({"seven-districts": [("a", box(0, 0, 2, 2)), ("b", box(1, 1, 3, 3))]})
    >>> event_zones(index, 1.5, 1.5), event_zones(index, 2.0, 0.5), event_zones(index, 9, 9)
    (['seven-districts:a', 'seven-districts:b'], ['seven-districts:a'], [])

    """
    return index.labels_at(lon, lat, day, ZONE_LAYERS)
