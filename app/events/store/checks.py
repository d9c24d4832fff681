"""Checks of the arguments of an :class:`~app.events.store.base.EventQuery`, and the ranges of start days it reads.

Every check raises :class:`~app.events.errors.ValidationError` naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.events.cql import INT_RANGE, Kind
from app.events.errors import ValidationError
from app.events.store.base import DateInterval, DayRange


def checked_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    """A CRS84 box ``(west, south, east, north)`` of finite numbers (``west > east`` crosses the antimeridian)."""
    if len(bbox) != 4:
        raise ValidationError(f"bbox: needs 4 numbers (west, south, east, north), got {len(bbox)}")
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise ValidationError("bbox: every value must be a number") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise ValidationError("bbox: values must be finite numbers")
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValidationError(
            f"bbox: ({west}, {south}, {east}, {north}) is not a CRS84 box (lon -180..180, lat -90..90, south <= north)"
        )
    return west, south, east, north


def checked_interval(interval: tuple[Any, Any] | None) -> DateInterval:
    """The ``(start, end)`` days of a datetime interval, either open; the end may not come before the start."""
    if interval is None:
        return None, None
    start, end = (as_date(v, "datetime") for v in interval)
    if start is not None and end is not None and end < start:
        raise ValidationError(f"datetime: the end {end} is before the start {start}")
    return start, end


def start_day_ranges(first: date | None, last: date | None, interval: DateInterval) -> list[DayRange]:
    """Ranges of start days to read in order: the events begun before the window, then 1, 2, 4 ... days.

    ``first`` and ``last`` are the first and last start days stored (None: an empty store). Growing ranges keep a
    dense window cheap (its first day fills the page) and a sparse one to a few queries.

    >>> from datetime import date
    >>> for lo, hi in start_day_ranges(date(2020, 9, 27), date(2020, 11, 10), (date(2020, 10, 3), date(2020, 10, 9))):
    ...     print(lo, hi)
    2020-09-27 2020-10-02
    2020-10-03 2020-10-03
    2020-10-04 2020-10-05
    2020-10-06 2020-10-09
    >>> [(lo.day, hi.day) for lo, hi in start_day_ranges(date(2020, 9, 27), date(2020, 9, 30), (None, None))]
    [(27, 27), (28, 29), (30, 30)]
    >>> start_day_ranges(None, None, (None, None))
    []
    >>> start_day_ranges(date(2020, 9, 27), date(2020, 9, 30), (None, date(2020, 9, 1)))
    []
    """
    if first is None or last is None:
        return []
    start, end = interval
    last = last if end is None else min(last, end)
    ranges: list[DayRange] = []
    if start is not None and first < start:  # events that began before the window and last into it
        ranges.append((first, min(start - timedelta(days=1), last)))
        first = start
    days = 1
    while first <= last:
        ranges.append((first, min(first + timedelta(days=days - 1), last)))
        first, days = first + timedelta(days=days), days * 2
    return ranges


def as_date(value: Any, name: str) -> date | None:
    """The day of a date or date-time (in UTC when it has a zone); ``name`` is the argument named on error."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    raise ValidationError(f"{name}: expected a date or date-time, got {value!r}")


def coerce(name: str, value: Any, kind: Kind) -> Any:
    """An equality-filter value of queryable ``name`` as its ``kind`` (text stays text).

    Examples
    --------
    >>> coerce("revision", "3", Kind.INT)
    3
    >>> coerce("revision", "2983703918428798582784", Kind.INT)
    Traceback (most recent call last):
    ...
    app.events.errors.ValidationError: revision: '2983703918428798582784' is not a valid integer

    """
    try:
        if kind is Kind.INT:
            if isinstance(value, bool) or int(value) not in INT_RANGE:
                raise ValueError
            return int(value)
        if kind is Kind.DATE:
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if kind is Kind.DATETIME:
            return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"{name}: {value!r} is not a valid {kind.value}") from None
    return str(value)
