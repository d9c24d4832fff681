"""When a dated feature is valid: the one rule, used by the collections, the zone index and the map.

A feature with ``valid_from``/``valid_to`` columns is valid over the half-open interval
``[valid_from, valid_to)``: a change of control on 20 November ends the old state at the start of that day,
so "as of 20 November" finds exactly one of the two states. A missing bound is open. Dates are whole UTC
days; a value with a time (a truce that took effect at 08:00+04:00) is that instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from app.collections import temporal

COLUMNS = ("valid_from", "valid_to")


@dataclass(frozen=True)
class Validity:
    """The first and last instants (UTC) of each row's validity.

    Examples
    --------
    >>> v = Validity.of(pd.DataFrame({"valid_from": ["2020-10-04", "1994-05-12"], "valid_to": [None, "2020-10-04"]}))
    >>> v.on(date(2020, 10, 3)).tolist(), v.on(date(2020, 10, 4)).tolist()
    ([False, True], [True, False])

    """

    first: pd.Series
    last: pd.Series

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Validity | None:
        """The validity of ``frame``'s rows, or None when it has no ``valid_from``/``valid_to`` column."""
        if not any(c in frame.columns for c in COLUMNS):
            return None
        nulls = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        starts = frame["valid_from"] if "valid_from" in frame.columns else nulls
        ends = frame["valid_to"] if "valid_to" in frame.columns else nulls
        first = temporal.column_bounds(starts.astype(object).where(starts.notna(), None), end=False)
        parsed_end = pd.to_datetime(ends, utc=True, errors="coerce", format="ISO8601")
        last = (parsed_end - pd.Timedelta(microseconds=1)).fillna(temporal.MAX)  # half-open: valid_to excluded
        return cls(first.reset_index(drop=True), last.reset_index(drop=True))

    def overlaps(self, start: datetime | None, end: datetime | None) -> np.ndarray:
        """Rows valid at some instant of ``[start, end]`` (None is open)."""
        lo, hi = temporal.bound(start, end=False), temporal.bound(end, end=True)
        return ((self.first <= hi) & (self.last >= lo)).to_numpy()

    def on(self, day: date) -> np.ndarray:
        """Rows valid on ``day`` (at any instant of it)."""
        return self.overlaps(temporal.start_of(day), temporal.end_of(day))


def valid_rows(frame: pd.DataFrame, day: date | None) -> np.ndarray:
    """Mask of the rows of ``frame`` valid on ``day``; every row when ``day`` is None or the frame is undated."""
    validity = Validity.of(frame)
    if day is None or validity is None:
        return np.ones(len(frame), dtype=bool)
    return validity.on(day)
