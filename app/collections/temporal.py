"""Time values as closed UTC intervals, and their comparison on columns of ISO date strings.

A calendar date stands for the whole day: ``2020-11-10`` is ``[2020-11-10T00:00Z, 2020-11-10T23:59:59.999999Z]``.
A missing bound is open.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd

from app.collections.base import TimeInterval

#: Stand-ins for open bounds, so that comparisons need no special cases.
MIN = pd.Timestamp("0001-01-01", tz="UTC")
MAX = pd.Timestamp("9999-12-31T23:59:59.999999", tz="UTC")
_DAY = pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def start_of(value: date | datetime) -> datetime:
    """The first instant of ``value`` in UTC (a date starts at midnight; a naive datetime is taken as UTC).

    Examples
    --------
    >>> start_of(date(2020, 9, 27)).isoformat()
    '2020-09-27T00:00:00+00:00'

    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def end_of(value: date | datetime) -> datetime:
    """The last instant of ``value`` in UTC (a date ends just before the next midnight).

    Examples
    --------
    >>> end_of(date(2020, 11, 10)).isoformat()
    '2020-11-10T23:59:59.999999+00:00'

    """
    if isinstance(value, datetime):
        return start_of(value)
    return datetime.combine(value, time.max, tzinfo=UTC)


def interval_of(value: date | datetime) -> TimeInterval:
    """The interval a date (whole day) or an instant covers."""
    return TimeInterval(start_of(value), end_of(value))


def column_bounds(values: pd.Series, *, end: bool) -> pd.Series:
    """UTC timestamps of a column of ISO dates/datetimes; a null is open (``MIN`` or ``MAX``)."""
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    if end:
        is_date = values.astype("string").str.len().fillna(0).le(10)
        parsed = parsed.where(~is_date, parsed + _DAY)
    return parsed.fillna(MAX if end else MIN)


def bound(value: datetime | None, *, end: bool) -> pd.Timestamp:
    """A scalar bound as a timestamp, ``None`` being open."""
    if value is None:
        return MAX if end else MIN
    return pd.Timestamp(value)


def next_day(value: date) -> date:
    """The day after ``value``."""
    return value + timedelta(days=1)
