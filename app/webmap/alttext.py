"""Alt text of a map view, written from the data it shows."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np

from app.layerstore.zones import ZoneIndex

#: Zone layers whose features name where events happened, and how a feature's name is phrased.
NAMING_LAYERS = {"seven-districts": "{name} district", "nagorno-karabakh": "the former Nagorno-Karabakh oblast"}


def date_phrase(start: date, end: date) -> str:
    """The dates of a view in words.

    Examples
    --------
    >>> date_phrase(date(2020, 10, 1), date(2020, 10, 7))
    'between 1 and 7 October 2020'
    >>> date_phrase(date(2020, 9, 27), date(2020, 11, 10))
    'between 27 September and 10 November 2020'
    >>> date_phrase(date(2020, 10, 4), date(2020, 10, 4))
    'on 4 October 2020'

    """
    if start == end:
        return f"on {start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"between {start.day} and {end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"between {start.day} {start:%B} and {end.day} {end:%B %Y}"
    return f"between {start.day} {start:%B %Y} and {end.day} {end:%B %Y}"


def count_by_zone(events: gpd.GeoDataFrame, index: ZoneIndex) -> dict[str, int]:
    """Number of events in each named zone, by the zone index's rule (events outside every zone are not counted).

    Examples
    --------
    >>> from shapely import box, points
    >>> index = ZoneIndex.from_polygons({"seven-districts": [("Fuzuli", box(0, 0, 1, 1))]})
    >>> count_by_zone(gpd.GeoDataFrame(geometry=points([(0.5, 0.5), (1.0, 0.2), (5, 5)])), index)
    {'Fuzuli district': 2}

    """
    counts: dict[str, int] = {}
    if not len(events):
        return counts
    lon, lat = events.geometry.x.to_numpy(), events.geometry.y.to_numpy()
    for layer_id, pattern in NAMING_LAYERS.items():
        if layer_id not in index.layers:
            continue
        zones = index.layers[layer_id].zones
        for z in np.flatnonzero(found := index.counts(layer_id, lon, lat)):
            label = pattern.format(name=zones[z].name)
            counts[label] = counts.get(label, 0) + int(found[z])
    return counts


#: How many zones the alt text names before it sums up the rest.
MAX_NAMED_ZONES = 3


def where_phrase(counts: dict[str, int], total: int) -> str:
    """Where the events were, with the count of each zone named, so every claim can be checked.

    "Most" is said only of more than half. Up to ``MAX_NAMED_ZONES`` zones are named, largest first; the rest
    (other zones, or no zone) are summed up as "elsewhere".

    Examples
    --------
    >>> where_phrase({"Jabrayil district": 6, "Fuzuli district": 5, "Agdam district": 3}, 14)
    ': 6 in Jabrayil district, 5 in Fuzuli district and 3 in Agdam district'
    >>> where_phrase({"the former Nagorno-Karabakh oblast": 31, "Fuzuli district": 9}, 80)
    ': 31 in the former Nagorno-Karabakh oblast, 9 in Fuzuli district and 40 elsewhere'
    >>> where_phrase({"Agdam district": 9, "Fuzuli district": 2}, 12)
    ': most (9) in Agdam district, 2 in Fuzuli district and 1 elsewhere'
    >>> where_phrase({"Agdam district": 1}, 1), where_phrase({"Agdam district": 4}, 4)
    (', in Agdam district', ', all in Agdam district')

    """
    ranked = [item for item in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if item[1] > 0]
    if not ranked or total == 0:
        return ""
    if ranked[0][1] == total:
        return f", {'all ' if total > 1 else ''}in {ranked[0][0]}"
    named = ranked[:MAX_NAMED_ZONES]
    parts = [f"{count:,} in {label}" for label, count in named]
    if named[0][1] * 2 > total:
        parts[0] = f"most ({named[0][1]:,}) in {named[0][0]}"
    rest = total - sum(count for _, count in named)
    if rest > 0:
        parts.append(f"{rest:,} elsewhere")
    return ": " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1])


def alt_text(events: gpd.GeoDataFrame, index: ZoneIndex, start: date, end: date) -> str:
    """Write a sentence describing the events of a view.

    For example "14 reported events between 1 and 7 October 2020: 6 in Jabrayil district, 5 in Fuzuli district
    and 3 in Agdam district".

    Parameters
    ----------
    events : GeoDataFrame
        The events the view shows (points, EPSG:4326).
    index : ZoneIndex
        The zone index; the layers of ``NAMING_LAYERS`` name the areas.
    start, end : date
        The view's dates.

    Returns
    -------
    str

    """
    return sentence(len(events), count_by_zone(events, index), start, end)


def count_by_stored_zone(labels: dict[str, int], index: ZoneIndex) -> dict[str, int]:
    """Events per named zone from events counted per stored ``'<layer>:<zone id>'`` label (the store's zones).

    Examples
    --------
    >>> from shapely import box
    >>> index = ZoneIndex.from_polygons({"seven-districts": [("Fuzuli", box(0, 0, 1, 1))]})
    >>> label = f"seven-districts:{index.layers['seven-districts'].zones[0].id}"
    >>> count_by_stored_zone({label: 4, "control-2020:x": 9}, index)
    {'Fuzuli district': 4}

    """
    counts: dict[str, int] = {}
    for layer_id, pattern in NAMING_LAYERS.items():
        if layer_id not in index.layers:
            continue
        for zone in index.layers[layer_id].zones:
            found = labels.get(f"{layer_id}:{zone.id}", 0)
            if found:
                label = pattern.format(name=zone.name)
                counts[label] = counts.get(label, 0) + found
    return counts


def sentence(total: int, counts: dict[str, int], start: date, end: date) -> str:
    """The alt text of ``total`` events between ``start`` and ``end``, ``counts`` of them per named zone."""
    when = date_phrase(start, end)
    if total == 0:
        return f"Map of the Nagorno-Karabakh conflict zones: no reported events {when}."
    noun = "reported event" if total == 1 else "reported events"
    return f"{total:,} {noun} {when}{where_phrase(counts, total)}."
