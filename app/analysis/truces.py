"""Did the truce hold? For each truce of the ``truces`` layer, the events reported after it took effect.

The events come from the event store (or any :class:`EventLister`): per window of days after the start, their
count by type, by claimant (``claimed_by``: who reported or claimed the event) and by zone (the unit of the
dated control map on the day of the event), the first reported event on or after the day the truce took effect
with its sources, and the events the truce record itself links as violations (``violation_event_ids``).

A violation is an event of a violent type (:data:`VIOLENT_TYPES`); the announcement of a truce, recorded as a
strategic development, is counted among the events but is not one. Events are dated by day, not by hour: an
event on the day a truce took effect may have come before its start time (``same_day_as_start``); the first
event of a later day certainly came after it. Counts are of *reported* events (retracted reports are left
out), not of verified violations.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from app.analysis.classify import classify
from app.analysis.dated import LayerInfos
from app.analysis.errors import UnknownLayer
from app.layerstore import LayerStore
from app.layerstore.zones import ZoneIndex

TRUCES = "truces"
CONTROL = "control-2020"
#: Windows of days after the day a truce took effect (day 0), inclusive bounds.
WINDOWS: tuple[tuple[int, int, str], ...] = (
    (0, 0, "day it took effect (events have no time of day: some may precede the start)"),
    (1, 1, "first full day after"),
    (2, 3, "days 2-3 after"),
    (4, 7, "days 4-7 after"),
)
#: Event types that can break a truce (ACLED's political-violence types); strategic developments (such as the
#: truce itself being announced), protests and riots are counted but are not violations.
VIOLENT_TYPES = frozenset({"Battles", "Explosions/Remote violence", "Violence against civilians"})
#: A truce still in force is followed for this many days.
OPEN_TRUCE_DAYS = 30


class EventLister(Protocol):
    """Reported events as GeoJSON Point features whose dates overlap a period (inclusive)."""

    def features(self, start: date, end: date) -> Iterable[dict[str, Any]]:
        """Event features with ``date_start``, ``event_type``, ``claimed_by``, ``verification``, ``sources``."""
        ...


@dataclass(frozen=True)
class Truce:
    """One truce of the layer: when it took effect, until when it was the truce in force, linked violations."""

    id: str
    title: str
    start_time: str
    start_time_utc: str
    valid_to: str | None
    time_zone_disputed: bool
    outcome: str
    broken_reported_on: str | None
    violation_event_ids: tuple[str, ...]

    @property
    def start_day(self) -> date:
        """The calendar day the truce took effect, in the time zone its text names."""
        return datetime.fromisoformat(self.start_time).date()

    @property
    def last_day(self) -> date:
        """The last day followed: the day before the next truce replaced it, or 30 days for an open one."""
        if self.valid_to:
            return datetime.fromisoformat(self.valid_to).date() - timedelta(days=1)
        return self.start_day + timedelta(days=OPEN_TRUCE_DAYS)


@functools.lru_cache(maxsize=4)
def load_truces(store: LayerStore) -> list[Truce]:
    """The truces of the layer store's ``truces`` layer, by start time, or :class:`UnknownLayer`."""
    if TRUCES not in store:
        raise UnknownLayer(TRUCES, list(store.layers))
    frame = store.frame(TRUCES).drop(columns="geometry")
    truces = [_truce(row) for row in frame.to_dict("records")]
    return sorted(truces, key=lambda t: t.start_time_utc)


def _truce(row: dict[str, Any]) -> Truce:
    def text(key: str) -> str | None:
        value = row.get(key)
        return None if value is None or (isinstance(value, float) and np.isnan(value)) or value == "" else str(value)

    ids = tuple(i.strip() for i in (text("violation_event_ids") or "").split(";") if i.strip())
    return Truce(
        str(row["id"]),
        text("title") or str(row["id"]),
        str(row["start_time"]),
        str(row["start_time_utc"]),
        text("valid_to"),
        bool(row.get("time_zone_disputed")),
        text("outcome") or "",
        text("broken_reported_on"),
        ids,
    )


def truce_report(
    truces: list[Truce], lister: EventLister, index: ZoneIndex | None = None, infos: LayerInfos | None = None
) -> dict[str, Any]:
    """Per truce: events by window, type, claimant and zone, the first reported event and the linked violations."""
    out = []
    for truce in truces:
        events = [
            f
            for f in lister.features(truce.start_day, truce.last_day)
            if f["properties"].get("verification") != "retracted"
            and truce.start_day <= date.fromisoformat(f["properties"]["date_start"]) <= truce.last_day
        ]
        events.sort(key=lambda f: (f["properties"]["date_start"], str(f["id"])))
        zones = _zones(events, index, infos)
        out.append(_one(truce, events, zones))
    return {
        "truces": out,
        "notes": [
            "events are the reports in the event store (retracted reports left out), not verified violations",
            "events are dated by day: those on the day a truce took effect may precede its start time",
            f"a truce still in force is followed for {OPEN_TRUCE_DAYS} days; the others until the next truce",
            "zone: the area of the dated control map (control-2020) on the event's day, and who held it; schematic",
            "violations are events of violent types (battles, explosions/remote violence, violence against "
            "civilians) as reported and claimed; who claimed an event is not who caused it",
        ],
    }


def _one(truce: Truce, events: list[dict[str, Any]], zones: list[str]) -> dict[str, Any]:
    offsets = [(date.fromisoformat(f["properties"]["date_start"]) - truce.start_day).days for f in events]
    windows = []
    for first, last, label in WINDOWS:
        if truce.start_day + timedelta(days=first) > truce.last_day:
            break
        picked = [i for i, d in enumerate(offsets) if first <= d <= last]
        windows.append(_window(truce, first, last, label, [events[i] for i in picked], [zones[i] for i in picked]))
    later = [i for i, d in enumerate(offsets) if d > WINDOWS[-1][1]]
    if later:
        label = "the rest of the period"
        windows.append(
            _window(
                truce, WINDOWS[-1][1] + 1, offsets[-1], label, [events[i] for i in later], [zones[i] for i in later]
            )
        )
    found = {str(f["id"]) for f in events}
    violent = Counter(
        o for o, f in zip(offsets, events, strict=True) if f["properties"].get("event_type") in VIOLENT_TYPES
    )
    span = (truce.last_day - truce.start_day).days + 1
    return {
        "id": truce.id,
        "title": truce.title,
        "start_time": truce.start_time,
        "start_time_utc": truce.start_time_utc,
        "time_zone_disputed": truce.time_zone_disputed,
        "followed_until": truce.last_day.isoformat(),
        "outcome": truce.outcome,
        "broken_reported_on": truce.broken_reported_on,
        "event_count": len(events),
        "windows": windows,
        "first_reported_violation": _first(events, zones, truce, same_day=True),
        "first_reported_violation_after_start_day": _first(events, zones, truce, same_day=False),
        "linked_violations": [{"id": i, "in_event_store": i in found} for i in truce.violation_event_ids],
        "violations_per_day": [
            [(truce.start_day + timedelta(days=d)).isoformat(), violent.get(d, 0)] for d in range(span)
        ],
    }


def _window(
    truce: Truce, first: int, last: int, label: str, events: list[dict[str, Any]], zones: list[str]
) -> dict[str, Any]:
    props = [f["properties"] for f in events]
    end = min(truce.start_day + timedelta(days=last), truce.last_day)
    return {
        "label": label,
        "from": (truce.start_day + timedelta(days=first)).isoformat(),
        "to": end.isoformat(),
        "count": len(events),
        "by_type": dict(Counter(str(p.get("event_type")) for p in props).most_common()),
        "by_claimant": dict(Counter(str(p.get("claimed_by") or "unknown") for p in props).most_common()),
        "by_zone": dict(Counter(zones).most_common()),
    }


def _first(events: list[dict[str, Any]], zones: list[str], truce: Truce, same_day: bool) -> dict[str, Any] | None:
    for feature, zone in zip(events, zones, strict=True):
        day = date.fromisoformat(feature["properties"]["date_start"])
        if (not same_day and day == truce.start_day) or feature["properties"].get("event_type") not in VIOLENT_TYPES:
            continue
        p = feature["properties"]
        return {
            "id": str(feature["id"]),
            "date": p["date_start"],
            "same_day_as_start": day == truce.start_day,
            "place_name": p.get("place_name"),
            "zone": zone,
            "event_type": p.get("event_type"),
            "claimed_by": p.get("claimed_by"),
            "verification": p.get("verification"),
            "sources": p.get("sources", []),
        }
    return None


def _zones(events: list[dict[str, Any]], index: ZoneIndex | None, infos: LayerInfos | None) -> list[str]:
    """The control-2020 unit (with who held it) of each event on its own day; 'outside' when in none."""
    if index is None or CONTROL not in index.layer_ids or not events:
        return ["unknown"] * len(events)
    layer = index.layer(CONTROL)
    info = (infos or LayerInfos()).get(CONTROL)
    xy = np.array([f["geometry"]["coordinates"][:2] for f in events], dtype=np.float64)
    days = [date.fromisoformat(f["properties"]["date_start"]) for f in events]
    out = ["outside the oblast and the seven districts"] * len(events)
    for day in sorted(set(days)):
        rows = np.flatnonzero([d == day for d in days])
        result = classify(index, xy[rows, 0], xy[rows, 1], layers=[CONTROL], distances=False, day=day)
        for n, i in enumerate(rows):
            inside = np.flatnonzero(result.contains[CONTROL][:, n])
            if inside.size:
                described = info.describe(int(inside[0]), layer.zones[int(inside[0])])
                out[i] = str(described["name"])
    return out
