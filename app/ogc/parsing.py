"""Parsing of the OGC API query parameter values that are not plain numbers: bbox, datetime, property values."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from app.collections import temporal
from app.collections.base import Queryable, TimeInterval
from app.collections.cql import check_attributes, parse_cql2_text
from app.errors import InvalidParameter
from app.ogc import crs as ogc_crs

MAX_PARAMETER_LENGTH = 2_000


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minx,miny,maxx,maxy`` (or with heights ``minx,miny,minz,maxx,maxy,maxz``) as four floats.

    Examples
    --------
    >>> parse_bbox("46,39.2,47.1,40")
    (46.0, 39.2, 47.1, 40.0)
    >>> parse_bbox("46,39,0,47,40,3000")
    (46.0, 39.0, 47.0, 40.0)

    """
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (4, 6):
        raise InvalidParameter("bbox", f"expected 4 or 6 comma-separated numbers, got {len(parts)}")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InvalidParameter("bbox", f"{text!r} is not a list of numbers") from None
    if not all(math.isfinite(n) for n in numbers):
        raise InvalidParameter("bbox", "numbers must be finite")
    minx, miny, maxx, maxy = numbers if len(numbers) == 4 else numbers[:2] + numbers[3:5]
    if miny > maxy:
        raise InvalidParameter("bbox", f"the lower corner ({miny}) lies above the upper corner ({maxy})")
    if minx > maxx:
        raise InvalidParameter("bbox", "boxes crossing the antimeridian are not supported; minx must be <= maxx")
    return minx, miny, maxx, maxy


def check_crs84_range(bbox: tuple[float, float, float, float]) -> None:
    """Raise when a CRS84 box leaves the valid range of longitudes and latitudes."""
    west, south, east, north = bbox
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise InvalidParameter("bbox", "longitudes must lie within [-180, 180] and latitudes within [-90, 90]")


def parse_datetime(text: str) -> TimeInterval:
    """An instant (``2020-10-01`` or ``2020-10-01T12:00:00Z``) or interval (``a/b``, ``../b``, ``a/..``).

    A date stands for the whole day; so does a date with a bare ``T`` (``2020-10-01T``), which GDAL's OAPIF
    driver sends for ``date_start >= '2020-10-01'``. Anything else must be a full RFC 3339 date-time.

    Examples
    --------
    >>> i = parse_datetime("2020-09-27/..")
    >>> i.start.isoformat(), i.end
    ('2020-09-27T00:00:00+00:00', None)
    >>> i = parse_datetime("2020-10-01T/2020-10-10T")
    >>> i.start.isoformat(), i.end.isoformat()
    ('2020-10-01T00:00:00+00:00', '2020-10-10T23:59:59.999999+00:00')

    """
    if "/" not in text:
        value = _instant(text)
        return temporal.interval_of(value)
    if text.count("/") > 1:
        raise InvalidParameter("datetime", f"{text!r} has more than one '/'")
    first, second = text.split("/")
    start = temporal.start_of(_instant(first)) if first not in ("", "..") else None
    end = temporal.end_of(_instant(second)) if second not in ("", "..") else None
    if start is None and end is None:
        raise InvalidParameter("datetime", "an interval needs at least one bound; '../..' matches everything")
    if start is not None and end is not None and start > end:
        raise InvalidParameter("datetime", f"the interval {text!r} ends before it starts")
    return TimeInterval(start, end)


def _instant(text: str) -> date | datetime:
    value = text.strip()
    try:
        if not value.isascii():
            raise ValueError
        if len(value) == 10 or (len(value) == 11 and value[10] in "Tt"):  # a date, or GDAL's date with a bare T
            return date.fromisoformat(value[:10])
        if "T" not in value.upper():
            raise ValueError
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InvalidParameter(
            "datetime", f"{text!r} is not an RFC 3339 date or date-time (e.g. 2020-09-27 or 2020-09-27T04:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise InvalidParameter("datetime", f"{text!r} has no time zone; add Z or an offset such as +04:00")
    return parsed


def parse_property_value(queryable: Queryable, text: str) -> Any:
    """A query-string value converted to the queryable's type; raises :class:`InvalidParameter`.

    Examples
    --------
    >>> parse_property_value(Queryable("population", "integer"), "1200")
    1200

    """
    try:
        if queryable.type == "integer":
            return int(text)
        if queryable.type == "number":
            return float(text)
    except ValueError:
        raise InvalidParameter(
            queryable.name, f"{text!r} is not a{'n' if queryable.type[0] == 'i' else ''} {queryable.type}"
        ) from None
    if queryable.type == "boolean":
        if text.lower() not in ("true", "false"):
            raise InvalidParameter(queryable.name, f"{text!r} is not true or false")
        return text.lower() == "true"
    if queryable.type == "geometry":
        raise InvalidParameter(queryable.name, "filter on geometry with bbox or a CQL2 S_INTERSECTS filter")
    return text


def parse_filter(text: str, filter_crs: str | None, queryables: dict[str, Queryable]) -> Any:
    """The AST of a CQL2 text ``filter`` on ``queryables`` (its geometries in CRS84, the only ``filter-crs``)."""
    if ogc_crs.parse_crs(filter_crs, "filter-crs") != ogc_crs.CRS84:
        raise InvalidParameter("filter-crs", f"only {ogc_crs.CRS84} is supported for filter geometries")
    cql = parse_cql2_text(text)
    check_attributes(cql, queryables)
    return cql
