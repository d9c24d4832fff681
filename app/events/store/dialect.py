"""The SQL pieces that differ between backends (:class:`SqlDialect`), and value encodings both use."""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from shapely.geometry.base import BaseGeometry

from app.events.cql import Kind, Params
from app.events.store.base import DateInterval, DayRange

_EPOCH = date(1970, 1, 1)


class SqlDialect(ABC):
    """Backend-specific SQL pieces (placeholders, value encoding, spatial predicates)."""

    placeholder: ClassVar[str]
    lock_clause: ClassVar[str] = ""
    #: The column to join a page of keys back to its rows (SQLite's integer rowid; PostgreSQL's primary key).
    row_key: ClassVar[str] = "id"

    @abstractmethod
    def bind_value(self, value: Any, kind: Kind | None) -> Any:
        """A query literal as the driver binds it."""

    @abstractmethod
    def spatial(self, predicate: str, geometry: BaseGeometry, params: Params) -> str:
        """SQL testing ``predicate(event point, geometry)``."""

    @abstractmethod
    def bbox(
        self, box: tuple[float, float, float, float], interval: DateInterval, starts: DayRange, params: Params
    ) -> tuple[str, str]:
        """``(join, condition)``: events in a box not crossing the antimeridian, with a start day in ``starts``.

        ``interval`` is checked by the caller too; a dialect may also give it to its index.
        """

    @abstractmethod
    def zone_condition(self, zone: str, params: Params) -> str:
        """SQL true when the event's zones include ``zone`` (a label or a whole layer id)."""

    @abstractmethod
    def encode(self, column: str, value: Any) -> Any:
        """A JSON-mode model value as written to ``column``."""

    @abstractmethod
    def decode(self, column: str, value: Any) -> Any:
        """A value read from ``column`` as a JSON-ready value."""


def utc_iso(value: datetime) -> str:
    """A timestamp as pydantic writes it in JSON mode (UTC, ``Z`` suffix)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def epoch_day(day: date) -> int:
    """Days since 1970-01-01: the time coordinate of both stores' space-time indexes.

    >>> epoch_day(date(2020, 9, 27))
    18532
    """
    return (day - _EPOCH).days


def escape_like(text: str) -> str:
    r"""Escape ``%``, ``_`` and ``\`` for a LIKE pattern with ``ESCAPE '\'``."""
    return re.sub(r"([%_\\])", r"\\\1", text)


def json_text(value: Any) -> str | None:
    """Compact JSON text (None stays None)."""
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
