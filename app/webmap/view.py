"""The map view: everything a permalink holds (centre, zoom, dates, layers, filters, basemap, theme, title)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from app.events.vocab import ACLED_EVENT_TYPES
from app.webmap.errors import InvalidViewError

WAR_START = date(2020, 9, 27)
WAR_END = date(2020, 11, 10)
EARLIEST = date(1988, 1, 1)
LATEST = date(2030, 12, 31)
EVENTS = "events"
VERIFICATION = ("reported", "corroborated", "verified", "disputed", "retracted")
#: The event types a map may filter on (ACLED's, as the event store holds them).
EVENT_TYPES: tuple[str, ...] = tuple(ACLED_EVENT_TYPES)
#: ``offline``: our own basemap layer (Natural Earth, GeoNames; no request leaves the server), ``osm``: the
#: configured tile server, ``none``: a blank background.
BASEMAPS = ("offline", "osm", "none")
Basemap = Literal["offline", "osm", "none"]
#: The built layer drawn as the offline basemap (under every zone, never listed as a zone).
BASEMAP_LAYER = "basemap"
MAX_TITLE = 200
MIN_ZOOM, MAX_ZOOM = 4, 18

#: Zone layers drawn on the map, bottom to top; ids missing from the manifest are left out.
ZONE_ORDER = (
    "iran-border-zone",
    "seven-districts",
    "nagorno-karabakh",
    "ceasefire-1994-area",
    "control-2020",
    "line-of-contact-1994",
    "iran-border",
    "places",
)
#: Layers switched on when the URL does not say.
DEFAULT_LAYERS = (
    "iran-border-zone",
    "seven-districts",
    "nagorno-karabakh",
    "control-2020",
    "line-of-contact-1994",
    "iran-border",
    EVENTS,
)


@dataclass(frozen=True)
class MapView:
    """One view of the map, validated; build it with :func:`parse_view`."""

    lat: float = 39.75
    lon: float = 46.75
    zoom: int = 8
    start: date = WAR_START
    end: date = WAR_END
    layers: tuple[str, ...] = DEFAULT_LAYERS
    event_types: tuple[str, ...] = ()
    verification: tuple[str, ...] = ()
    basemap: Basemap = "offline"
    dark: bool = False
    title: str | None = None

    @property
    def datetime(self) -> str:
        """The OGC API ``datetime`` value: one date or ``start/end``."""
        return self.start.isoformat() if self.start == self.end else f"{self.start.isoformat()}/{self.end.isoformat()}"

    def query(self) -> dict[str, str]:
        """The query parameters that reproduce this view (for permalinks and embed snippets)."""
        params = {
            "lat": f"{self.lat:.4f}",
            "lon": f"{self.lon:.4f}",
            "zoom": str(self.zoom),
            "datetime": self.datetime,
            "layers": ",".join(self.layers),
            "basemap": self.basemap,
        }
        if self.event_types:
            params["event_type"] = ",".join(self.event_types)
        if self.verification:
            params["verification"] = ",".join(self.verification)
        if self.dark:
            params["dark"] = "true"
        if self.title:
            params["title"] = self.title
        return params

    def js_state(self) -> dict[str, object]:
        """The part of the view the page's script keeps in the URL as the user moves around."""
        return {
            "lat": self.lat,
            "lon": self.lon,
            "zoom": self.zoom,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "layers": list(self.layers),
            "event_type": list(self.event_types),
            "verification": list(self.verification),
            "basemap": self.basemap,
        }


def parse_view(params: Mapping[str, str | None], available_layers: Iterable[str]) -> MapView:
    """Validate raw query values into a :class:`MapView`.

    Parameters
    ----------
    params : mapping of str to str or None
        Raw values of ``lat``, ``lon``, ``zoom``, ``datetime``, ``layers``, ``event_type``, ``verification``,
        ``basemap``, ``dark`` and ``title``; missing or None means the default.
    available_layers : iterable of str
        Layer ids the manifest holds (``events`` is always allowed).

    Returns
    -------
    MapView

    Raises
    ------
    InvalidViewError
        Naming the parameter and the allowed values.

    Examples
    --------
    >>> view = parse_view({"datetime": "2020-10-01/2020-10-07", "layers": "seven-districts"}, ["seven-districts"])
    >>> view.start.isoformat(), view.end.isoformat(), view.layers
    ('2020-10-01', '2020-10-07', ('seven-districts',))

    """
    default = MapView()
    allowed = selectable_layers(available_layers)
    start, end = _parse_datetime(params.get("datetime"), default)
    return replace(
        default,
        lat=_number(params.get("lat"), "lat", default.lat, -85.0, 85.0),
        lon=_number(params.get("lon"), "lon", default.lon, -180.0, 180.0),
        zoom=int(_number(params.get("zoom"), "zoom", default.zoom, MIN_ZOOM, MAX_ZOOM, integer=True)),
        start=start,
        end=end,
        layers=_layers(params.get("layers"), allowed),
        event_types=_choices(params.get("event_type"), "event_type", EVENT_TYPES),
        verification=_choices(params.get("verification"), "verification", VERIFICATION),
        basemap=_basemap(params.get("basemap")),
        dark=_boolean(params.get("dark"), "dark"),
        title=_title(params.get("title")),
    )


def selectable_layers(available_layers: Iterable[str]) -> set[str]:
    """The ids a view's ``layers`` may name: the built layers but the basemap, and ``events``.

    Examples
    --------
    >>> sorted(selectable_layers(["basemap", "places"]))
    ['events', 'places']

    """
    return (set(available_layers) - {BASEMAP_LAYER}) | {EVENTS}


def _number(raw: str | None, name: str, default: float, low: float, high: float, *, integer: bool = False) -> float:
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidViewError(name, f"{raw[:40]!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high or (integer and not value.is_integer()):
        kind = "an integer" if integer else "a number"
        raise InvalidViewError(name, f"must be {kind} from {low:g} to {high:g}, got {raw[:40]!r}")
    return value


def _date(raw: str, name: str = "datetime") -> date:
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise InvalidViewError(name, f"{raw[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not EARLIEST <= value <= LATEST:
        raise InvalidViewError(name, f"dates must lie from {EARLIEST} to {LATEST}, got {value}")
    return value


def _parse_datetime(raw: str | None, default: MapView) -> tuple[date, date]:
    if raw is None or raw == "":
        return default.start, default.end
    parts = raw.split("/")
    if len(parts) > 2:
        raise InvalidViewError("datetime", "use one date or start/end, e.g. 2020-10-01/2020-10-07")
    if any(part in ("", "..") for part in parts):
        raise InvalidViewError("datetime", "open intervals ('..') are not supported by the map; give both dates")
    start = _date(parts[0])
    end = _date(parts[-1])
    if start > end:
        raise InvalidViewError("datetime", f"the start {start} is after the end {end}")
    return start, end


def _split(raw: str | None) -> list[str]:
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def _layers(raw: str | None, allowed: set[str]) -> tuple[str, ...]:
    if raw is None:
        return tuple(layer for layer in DEFAULT_LAYERS if layer in allowed)
    if raw.strip().lower() == "none":
        return ()
    layers = _split(raw)
    unknown = [layer for layer in layers if layer not in allowed]
    if unknown:
        raise InvalidViewError("layers", f"unknown layer {unknown[0][:60]!r}; available: {', '.join(sorted(allowed))}")
    return tuple(dict.fromkeys(layers))


def _choices(raw: str | None, name: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    values = _split(raw)
    bad = [value for value in values if value not in choices]
    if bad:
        raise InvalidViewError(name, f"{bad[0][:40]!r} is not one of: {', '.join(choices)}")
    return tuple(dict.fromkeys(values))


def _basemap(raw: str | None) -> Basemap:
    if raw is None or raw == "":
        return "offline"
    choices: dict[str, Basemap] = {"offline": "offline", "osm": "osm", "none": "none"}
    if raw in choices:
        return choices[raw]
    raise InvalidViewError("basemap", f"{raw[:40]!r} is not one of {', '.join(BASEMAPS)}")


def _boolean(raw: str | None, name: str) -> bool:
    if raw is None or raw == "":
        return False
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidViewError(name, f"{raw[:40]!r} is not true or false")


def _title(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_TITLE:
        raise InvalidViewError("title", f"at most {MAX_TITLE} characters, got {len(raw)}")
    if any(ord(char) < 32 for char in raw):
        raise InvalidViewError("title", "control characters are not allowed")
    return raw.strip()
