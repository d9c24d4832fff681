"""The day an answer is for, which dated zones are valid on it, and readable names and accuracies of the zones.

Dated layers (``control-2020``, ``truces``, ``ceasefire-1994-area``) hold one feature per state of an area, with
a half-open validity ``valid_from`` (inclusive) .. ``valid_to`` (exclusive; empty is open). An answer is for one
day: on it, each place is in at most one state of a dated layer. The default day is :data:`DEFAULT_DAY`,
10 November 2020: the first day of the ceasefire of the 10 November statement (00:00 Moscow time), i.e. the
positions at which the 2020 war stopped. Undated layers are the same on every day.

A truce's validity starts at a time of day (``2020-10-10T12:00:00+04:00``); it counts from that calendar day
(in the time zone written), so on a day two truces start and end, the later one is the day's state.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from app.analysis.errors import InvalidParameter
from app.layerstore.zones import Zone, ZoneLayer

if TYPE_CHECKING:
    from app.layerstore import LayerStore

#: The day answered when none is asked for: the ceasefire of the 10 November 2020 statement took effect at
#: 00:00 Moscow time on this day, fixing the positions at the end of the war.
DEFAULT_DAY = date(2020, 11, 10)
DEFAULT_DAY_REASON = (
    "the first day of the ceasefire of the 10 November 2020 statement (00:00 Moscow time), "
    "when the positions of the end of the war were frozen"
)
#: Longest interval answered day by day (days).
MAX_INTERVAL_DAYS = 3660


@dataclass(frozen=True)
class Period:
    """The day (or the first and last day, inclusive) an answer is for, and whether it was the default."""

    start: date
    end: date
    default: bool = False

    @property
    def is_day(self) -> bool:
        """True when the answer is for a single day."""
        return self.start == self.end

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``datetime`` as asked (a day or ``start/end``), and why when it is the default."""
        text = self.start.isoformat() if self.is_day else f"{self.start.isoformat()}/{self.end.isoformat()}"
        out: dict[str, Any] = {"datetime": text, "default": self.default}
        if self.default:
            out["reason"] = f"no datetime was given: answered for {text}, {DEFAULT_DAY_REASON}"
        return out


def parse_period(value: str | None) -> Period:
    """A ``datetime`` parameter: a day or a date-time (its calendar day), or an interval ``start/end``.

    Examples
    --------
    >>> parse_period(None).start, parse_period(None).default
    (datetime.date(2020, 11, 10), True)
    >>> parse_period("2020-10-17T10:00:00Z").as_dict()
    {'datetime': '2020-10-17', 'default': False}
    >>> parse_period("2020-10-01/2020-10-20").is_day
    False
    >>> parse_period("2020-11-10/2020-10-01")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    app.analysis.errors.InvalidParameter: invalid value for 'datetime': the interval ends (2020-10-01) before its ...

    """
    if value is None or not value.strip():
        return Period(DEFAULT_DAY, DEFAULT_DAY, default=True)
    parts = value.strip().split("/")
    if len(parts) > 2:
        raise InvalidParameter("datetime", f"expected a day or start/end, got {value!r}")
    start = _day(parts[0])
    end = _day(parts[-1])
    if end < start:
        raise InvalidParameter("datetime", f"the interval ends ({end}) before its start ({start})")
    if (end - start).days > MAX_INTERVAL_DAYS:
        raise InvalidParameter("datetime", f"intervals are answered day by day: at most {MAX_INTERVAL_DAYS} days")
    return Period(start, end)


def _day(text: str) -> date:
    text = text.strip()
    if text in ("", ".."):
        raise InvalidParameter("datetime", "open intervals ('..') are not answered: give both days")
    try:
        return date.fromisoformat(text[:10]) if len(text) <= 10 else datetime.fromisoformat(text).date()
    except ValueError:
        raise InvalidParameter("datetime", f"{text!r} is not an ISO 8601 day or date-time (2020-11-10)") from None


def zone_day(value: str | None) -> date | None:
    """The calendar day of a ``valid_from``/``valid_to`` value (a day or an ISO date-time), None when open."""
    if not value:
        return None
    return date.fromisoformat(value[:10])


def change_days(layers: Iterable[ZoneLayer], period: Period) -> list[date]:
    """The first day of the period and every later day in it on which a zone of ``layers`` starts or ends."""
    days = {period.start}
    for layer in layers:
        for zone in layer.zones:
            for value in (zone.valid_from, zone.valid_to):
                day = zone_day(value)
                if day is not None and period.start < day <= period.end:
                    days.add(day)
    return sorted(days)


def is_dated(layer: ZoneLayer) -> bool:
    """True when some zone of the layer has a validity."""
    return any(zone.valid_from or zone.valid_to for zone in layer.zones)


# -- readable names and accuracies, from the built data folder ---------------------------------------------


@dataclass(frozen=True)
class LayerInfo:
    """What the answers say about a layer: accuracy (m) and why, and a readable description of each zone."""

    accuracy_m: float
    accuracy_note: str
    schematic: bool
    zones: list[dict[str, Any]] = field(default_factory=list)
    attribution: str = ""

    def describe(self, z: int, zone: Zone) -> dict[str, Any]:
        """The zone as an answer shows it: id, a readable name, who controls it and since when (when known)."""
        extra = self.zones[z] if z < len(self.zones) else {}
        return zone.as_dict() | extra


@dataclass(frozen=True)
class LayerInfos:
    """:class:`LayerInfo` of every layer of a build (empty when the data folder is unknown)."""

    layers: dict[str, LayerInfo] = field(default_factory=dict)

    def get(self, layer_id: str) -> LayerInfo:
        """The layer's info, or an empty one (exact, no extra names)."""
        return self.layers.get(layer_id) or LayerInfo(0.0, "", False)

    def accuracy_m(self, layer_id: str) -> float:
        """Positional accuracy of the layer in metres (0 when not declared)."""
        return self.get(layer_id).accuracy_m


@functools.lru_cache(maxsize=4)
def layer_infos(store: LayerStore) -> LayerInfos:
    """Accuracies and readable zone names of every layer of the layer store (worked out once per store)."""
    out = {}
    for layer in store:
        meta = layer.entry
        zones: list[dict[str, Any]] = []
        if meta.is_polygonal:
            zones = [readable(row) for row in layer.full.frame.drop(columns="geometry").to_dict("records")]
        out[layer.id] = LayerInfo(
            meta.accuracy_m,
            meta.accuracy_note,
            bool(getattr(meta, "schematic", False)) or "schematic" in meta.title.lower(),
            zones,
            meta.attribution,
        )
    return LayerInfos(out)


def readable(row: dict[str, Any]) -> dict[str, Any]:
    """A readable ``name`` for a zone's attributes, plus who controls it and since when where the layer says.

    Examples
    --------
    >>> readable({"id": "AZ-FUZ-fuzuli-district-2020-10-17", "unit": "Fuzuli", "area": "Fuzuli district",
    ...           "controlled_by": "Azerbaijan", "valid_from": "2020-10-17", "valid_to": None})["name"]
    'Fuzuli district: Azerbaijan since 2020-10-17'
    >>> readable({"id": "truce-2020-10-10", "title": "Humanitarian ceasefire", "start_time": "2020-10-10T12:00"})
    {'name': 'Humanitarian ceasefire, from 2020-10-10T12:00'}
    >>> readable({"id": "x", "unit": "Kalbajar", "area": "part held by Azerbaijan throughout",
    ...           "controlled_by": "Azerbaijan", "valid_from": "1994-05-12"})["name"]
    'part held by Azerbaijan throughout (Kalbajar): Azerbaijan since 1994-05-12'
    >>> readable({"id": "b38", "name": "Area held under the 1994 ceasefire"})
    {'name': 'Area held under the 1994 ceasefire'}

    """
    text = {k: _text(v) for k, v in row.items()}
    out: dict[str, Any] = {}
    if text.get("controlled_by"):
        place = text.get("area") or text.get("unit") or text.get("name") or text.get("id") or ""
        unit = text.get("unit")
        if unit and unit not in place:
            place = f"{place} ({unit})"
        since = text.get("valid_from")
        out = {"name": f"{place}: {text['controlled_by']}" + (f" since {since}" if since else "")}
        out |= {k: text[k] for k in ("unit", "area", "controlled_by") if text.get(k)}
        out["since"], out["until"] = since, text.get("valid_to")
    elif title := text.get("title"):
        start = text.get("start_time")
        out = {"name": title + (f", from {start}" if start else "")}
    elif text.get("name"):
        out = {"name": text["name"]}
    return out


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value) or None
