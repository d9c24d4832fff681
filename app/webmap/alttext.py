"""Alt text of a map view, written from the data it shows."""

from __future__ import annotations

from datetime import date

import geopandas as gpd

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


def join_places(labels: list[str]) -> str:
    """Join place labels, merging ``X district`` and ``Y district`` into ``X and Y districts``.

    Examples
    --------
    >>> join_places(["Jabrayil district", "Fuzuli district"])
    'Jabrayil and Fuzuli districts'
    >>> join_places(["Agdam district", "the former Nagorno-Karabakh oblast"])
    'Agdam district and the former Nagorno-Karabakh oblast'

    """
    if len(labels) == 2 and all(label.endswith(" district") for label in labels):
        return f"{labels[0].removesuffix(' district')} and {labels[1].removesuffix(' district')} districts"
    return " and ".join(labels)


def count_by_zone(events: gpd.GeoDataFrame, zones: dict[str, gpd.GeoDataFrame]) -> dict[str, int]:
    """Number of events in each named zone (events outside every zone are not counted)."""
    counts: dict[str, int] = {}
    if not len(events):
        return counts
    points = events[["geometry"]].reset_index(drop=True)
    for layer_id, frame in zones.items():
        pattern = NAMING_LAYERS.get(layer_id, "{name}")
        named = frame.assign(label=[pattern.format(name=n) for n in frame.get("name", frame.get("id"))])
        joined = gpd.sjoin(points, named[["label", "geometry"]], predicate="within", how="inner")
        for label, count in joined.groupby("label").size().items():
            counts[str(label)] = counts.get(str(label), 0) + int(count)
    return counts


def where_phrase(counts: dict[str, int], total: int) -> str:
    """Where most events were: the one or two zones holding at least half of them, if any.

    Examples
    --------
    >>> where_phrase({"Jabrayil district": 6, "Fuzuli district": 5, "Agdam district": 3}, 14)
    ', most in Jabrayil and Fuzuli districts'
    >>> where_phrase({"Agdam district": 1}, 1)
    ', in Agdam district'

    """
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if not ranked or total == 0:
        return ""
    if ranked[0][1] == total:
        return f", {'all ' if total > 1 else ''}in {ranked[0][0]}"
    if ranked[0][1] * 2 >= total:
        return f", most in {ranked[0][0]}"
    if len(ranked) > 1 and (ranked[0][1] + ranked[1][1]) * 2 >= total:
        return f", most in {join_places([ranked[0][0], ranked[1][0]])}"
    return f", spread over {len(ranked)} areas, most in {ranked[0][0]}"


def alt_text(events: gpd.GeoDataFrame, zones: dict[str, gpd.GeoDataFrame], start: date, end: date) -> str:
    """Write a sentence describing the events of a view.

    For example "14 reported events between 1 and 7 October 2020, most in Jabrayil and Fuzuli districts".

    Parameters
    ----------
    events : GeoDataFrame
        The events the view shows (points, EPSG:4326).
    zones : dict of str to GeoDataFrame
        Zone layers by id whose ``name`` column names the areas (see ``NAMING_LAYERS``).
    start, end : date
        The view's dates.

    Returns
    -------
    str

    """
    total = len(events)
    when = date_phrase(start, end)
    if total == 0:
        return f"Map of the Nagorno-Karabakh conflict zones: no reported events {when}."
    noun = "reported event" if total == 1 else "reported events"
    return f"{total:,} {noun} {when}{where_phrase(count_by_zone(events, zones), total)}."
