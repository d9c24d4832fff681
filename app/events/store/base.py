"""What every event store speaks: the stored columns, the queryables, and the value types of queries and answers.

A store persists validated :class:`~app.events.model.Event` objects, their audit trail and hashed API keys, and
answers OGC API items queries. The interface is :class:`app.events.store.interface.EventStore`; the SQL shared by
the SQLite and PostGIS implementations is :mod:`app.events.store.sql` (with :mod:`~app.events.store.dialect`,
:mod:`~app.events.store.checks` and the migrations runner :mod:`~app.events.store.migrate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pygeofilter import ast

from app.events.cql import Kind

#: Stored columns, in the order every SELECT returns them.
COLUMNS: tuple[str, ...] = (
    "id",
    "date_start",
    "date_end",
    "date_precision",
    "lon",
    "lat",
    "location_precision",
    "place_name",
    "geonameid",
    "country",
    "admin1",
    "admin2",
    "event_type",
    "sub_event_type",
    "actors",
    "claimed_by",
    "verification",
    "fatalities_best",
    "fatalities_low",
    "fatalities_high",
    "sources",
    "notes",
    "source_record",
    "zones",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "revision",
)
JSON_COLUMNS = frozenset({"actors", "sources", "source_record", "zones"})

#: Queryables for CQL2 and equality filters: the scalar fields (plus ``geometry`` for spatial predicates).
QUERYABLES: Mapping[str, Kind] = {
    "id": Kind.TEXT,
    "date_start": Kind.DATE,
    "date_end": Kind.DATE,
    "date_precision": Kind.INT,
    "location_precision": Kind.INT,
    "place_name": Kind.TEXT,
    "geonameid": Kind.INT,
    "country": Kind.TEXT,
    "admin1": Kind.TEXT,
    "admin2": Kind.TEXT,
    "event_type": Kind.TEXT,
    "sub_event_type": Kind.TEXT,
    "claimed_by": Kind.TEXT,
    "verification": Kind.TEXT,
    "fatalities_best": Kind.INT,
    "fatalities_low": Kind.INT,
    "fatalities_high": Kind.INT,
    "notes": Kind.TEXT,
    "created_at": Kind.DATETIME,
    "updated_at": Kind.DATETIME,
    "created_by": Kind.TEXT,
    "updated_by": Kind.TEXT,
    "revision": Kind.INT,
    "geometry": Kind.GEOMETRY,
}
#: Equality filters also accept ``zones``: a zone label ('<layer>:<feature>') or a whole layer id.
FILTERABLE: frozenset[str] = frozenset(k for k, v in QUERYABLES.items() if v is not Kind.GEOMETRY) | {"zones"}
MAX_OFFSET = 10_000_000
#: numberMatched is exact up to this many matches (or up to the end of the requested page, if that is further);
#: above it the count is left out, as OGC API - Features allows, so that no page costs more than counting this many.
COUNT_CAP = 1_000
#: Audit rows below the newest that :meth:`SqlEventStore.data_version` counts.
VERSION_WINDOW = 1_000
#: A checked datetime interval: (start, end) dates, either open.
DateInterval = tuple[date | None, date | None]
#: A closed range of start days, (first, last).
DayRange = tuple[date, date]


@dataclass(frozen=True)
class EventQuery:
    """An OGC API items request.

    Parameters
    ----------
    bbox
        ``(west, south, east, north)`` in CRS84 degrees; ``west > east`` crosses the antimeridian.
    datetime
        ``(start, end)``, either open (None): events whose [date_start, date_end] overlaps it.
    filters
        Equality filters ``{queryable: value}``; string values are coerced to the queryable's type.
    cql
        A pygeofilter AST (parsed CQL2 text or JSON).
    limit, offset
        The page.
    after
        Keyset paging: only the events after this ``(date_start, id)`` in the page order, so that reading on
        from the last event of a page costs the next page only (an offset re-reads what it skips). numberMatched
        then counts the events that follow.
    exact_count
        Count every match, however many (``resulttype=hits``): numberMatched is never left out.

    """

    bbox: tuple[float, float, float, float] | None = None
    datetime: tuple[date | datetime | None, date | datetime | None] | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    cql: ast.AstType | None = None
    limit: int = 10
    offset: int = 0
    after: tuple[date, str] | None = None
    exact_count: bool = False


@dataclass(frozen=True)
class EventPage:
    """One page of an :class:`EventQuery`.

    Attributes
    ----------
    features
        GeoJSON Feature dicts, ordered by (date_start, id).
    matched
        How many events match in all, or None when more than :data:`COUNT_CAP` (and the page's end) do.
    more
        Whether matching events follow this page.

    """

    features: list[dict[str, Any]]
    matched: int | None
    more: bool


@dataclass(frozen=True)
class AuditEntry:
    """One change to one event."""

    seq: int
    event_id: str
    at: datetime
    actor: str
    role: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class StoreExtent:
    """Where and when the stored events are (``bbox`` and dates are None for an empty store)."""

    bbox: tuple[float, float, float, float] | None
    date_start: date | None
    date_end: date | None


@dataclass(frozen=True)
class KeyRecord:
    """A stored API key: only the sha256 of the secret is kept."""

    key_id: str
    key_hash: str
    role: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None
