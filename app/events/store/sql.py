"""The generic SQL event store: reads, writes, audit and keys in the SQL both backends share.

:class:`SqlEventStore` implements :class:`~app.events.store.interface.EventStore` over a DB-API cursor; a backend
(:mod:`~app.events.store.sqlite`, :mod:`~app.events.store.postgis`) adds its connections and a
:class:`~app.events.store.dialect.SqlDialect`.
"""

from __future__ import annotations

import sys
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from typing import Any

import shapely

from app.events.cql import Column, CqlTranslator, Kind, Params
from app.events.errors import ValidationError
from app.events.model import Event, sources_text
from app.events.store.base import (
    COLUMNS,
    COUNT_CAP,
    FILTERABLE,
    MAX_OFFSET,
    QUERYABLES,
    VERSION_WINDOW,
    AuditEntry,
    DateInterval,
    DayRange,
    EventPage,
    EventQuery,
    KeyRecord,
    StoreExtent,
)
from app.events.store.checks import as_date, checked_bbox, checked_interval, coerce, start_day_ranges
from app.events.store.dialect import SqlDialect, utc_iso
from app.events.store.interface import EventStore, StoreTx

#: The events' extent, each bound a subquery of its own that an index answers (see :meth:`SqlEventStore.extent`).
EXTENT_SQL = "SELECT " + ", ".join(
    f"(SELECT {bound} FROM events)"
    for bound in ("min(lon)", "min(lat)", "max(lon)", "max(lat)", "min(date_start)", "max(date_end)")
)


class SqlEventStore(EventStore):
    """The parts of a SQL store that are the same for both backends."""

    dialect: SqlDialect
    max_limit: int = 10_000
    #: numberMatched is exact up to ``max(count_cap, offset + limit)`` matches (see :data:`COUNT_CAP`).
    count_cap: int = COUNT_CAP

    @abstractmethod
    def _cursor(self, write: bool) -> AbstractContextManager[Any]:
        """A DB-API cursor; with ``write`` inside a transaction committed (durably) on a clean exit."""

    @abstractmethod
    def _snapshot(self) -> AbstractContextManager[Any]:
        """A read-only cursor whose statements all see the same committed state."""

    # -- reads -------------------------------------------------------------------------------------------------
    def query(self, query: EventQuery) -> EventPage:
        """One page ordered by (date_start, id), read range of start days by range so that it stops when full.

        Sorting and counting every match before LIMIT costs as much as the matches (63,262 in one dense week of
        the benchmark): instead the start days are read in ranges of 1, 2, 4 ... days (:func:`start_day_ranges`),
        each one sorted and counted on its own, until the page is full; what follows is only counted, and only
        up to the bound of numberMatched (:attr:`count_cap`, or the end of the page if further).
        """
        self._check_page(query)
        interval = checked_interval(query.datetime)
        bound = sys.maxsize if query.exact_count else max(self.count_cap, query.offset + query.limit)
        rows: list[Sequence[Any]] = []
        counted, skip, complete = 0, query.offset, True
        with self._snapshot() as cur:
            first, last = self._start_days(cur)
            after_day = None if query.after is None else as_date(query.after[0], "after")
            if first is not None and after_day is not None:
                first = max(first, after_day)  # nothing that starts before the key can follow it
            for starts in start_day_ranges(first, last, interval):
                if counted > bound:  # numberMatched will be left out: nothing more to count
                    complete = False
                    break
                if len(rows) < query.limit:
                    found, page = self._read_range(cur, query, interval, starts, skip, query.limit - len(rows))
                    counted, skip, rows = counted + found, max(skip - found, 0), rows + page
                else:  # the page is full: only count what follows, one past the bound at most
                    cap = None if query.exact_count else bound - counted + 1
                    counted += self._count(cur, query, interval, starts, cap)
        matched = counted if complete and counted <= bound else None
        return EventPage([self._feature(row) for row in rows], matched, counted > query.offset + len(rows))

    @contextmanager
    def matching(self, query: EventQuery) -> Iterator[tuple[Any, str, list[Any]]]:
        """A cursor, ``FROM events e ... WHERE ...`` of the events matching ``query`` and its bound values.

        For readers that select their own columns and aggregates in one statement (vector tiles:
        :mod:`app.tiles.events`): the bbox, datetime, equality filters and CQL of ``query`` apply as in
        :meth:`query`, its page does not. One statement sees one state, so no snapshot transaction is opened, and
        the start days are bounded by the window alone (no look-up of the first and last stored).
        """
        interval = checked_interval(query.datetime)
        params = Params(self.dialect.placeholder)
        starts = (date.min, interval[1] or date.max)  # nothing that starts after the window can match
        joins, where = self._where(query, interval, starts, params)
        with self._cursor(write=False) as cur:
            yield cur, f"FROM events e {joins} WHERE {where}", params.values

    def _start_days(self, cur: Any) -> tuple[date | None, date | None]:
        """The first and last ``date_start`` stored (two index lookups), or None for an empty store."""
        cur.execute("SELECT (SELECT min(date_start) FROM events), (SELECT max(date_start) FROM events)")
        first, last = cur.fetchone()
        day = lambda v: None if v is None else v if isinstance(v, date) else date.fromisoformat(str(v))  # noqa: E731
        return day(first), day(last)

    def _read_range(
        self, cur: Any, query: EventQuery, interval: DateInterval, starts: DayRange, skip: int, need: int
    ) -> tuple[int, list[Sequence[Any]]]:
        """How many events of one range of start days match, and rows ``skip .. skip + need`` of them in order.

        The keys come first through the indexes (a MATERIALIZED CTE keeps the planner from walking the date index
        for ORDER BY ... LIMIT), are sorted and counted in one pass, then the full rows of the page only are read.
        """
        params = Params(self.dialect.placeholder)
        joins, where = self._where(query, interval, starts, params)
        ph, key, columns = self.dialect.placeholder, self.dialect.row_key, ", ".join(f"e.{c}" for c in COLUMNS)
        cur.execute(
            f"WITH m AS MATERIALIZED (SELECT e.{key} AS k, e.date_start AS ds, e.id AS i "
            f"FROM events e {joins} WHERE {where}), "
            f"p AS (SELECT k, ds, i, count(*) OVER () AS n FROM m ORDER BY ds, i LIMIT {ph} OFFSET {ph}) "
            f"SELECT {columns}, p.n FROM p JOIN events e ON e.{key} = p.k ORDER BY p.ds, p.i",
            [*params.values, need, skip],
        )
        rows = cur.fetchall()
        if rows:
            return int(rows[0][-1]), [row[:-1] for row in rows]
        return (self._count(cur, query, interval, starts, None) if skip else 0), []

    def _count(self, cur: Any, query: EventQuery, interval: DateInterval, starts: DayRange, cap: int | None) -> int:
        """How many events with a start day in ``starts`` match, counting ``cap`` at most."""
        params = Params(self.dialect.placeholder)
        joins, where = self._where(query, interval, starts, params)
        tail = "" if cap is None else f" LIMIT {params.bind(cap)}"
        cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM events e {joins} WHERE {where}{tail}) c", params.values)
        return int(cur.fetchone()[0])

    def get(self, event_id: str) -> Event | None:
        """The event, or None."""
        with self._cursor(write=False) as cur:
            return _fetch_event(cur, self.dialect, event_id, lock=False)

    def iter_events(self, batch_size: int = 1000) -> Iterator[Event]:
        """Every stored event, in id order, read in batches (keyset pagination, so no long-held cursor)."""
        ph, columns, last = self.dialect.placeholder, ", ".join(COLUMNS), ""
        while True:
            with self._cursor(write=False) as cur:
                cur.execute(f"SELECT {columns} FROM events WHERE id > {ph} ORDER BY id LIMIT {ph}", [last, batch_size])
                rows = cur.fetchall()
            for row in rows:
                yield self._event(row)
            if len(rows) < batch_size:
                return
            last = rows[-1][0]

    def _event(self, row: Sequence[Any]) -> Event:
        return Event.model_validate({c: self.dialect.decode(c, v) for c, v in zip(COLUMNS, row, strict=True)})

    def ping(self) -> None:
        """One trivial statement (``SELECT 1``): raises :class:`~app.events.errors.StoreDown` when unreachable."""
        with self._cursor(write=False) as cur:
            cur.execute("SELECT 1")
            cur.fetchone()

    def count(self) -> int:
        """How many events are stored."""
        with self._cursor(write=False) as cur:
            cur.execute("SELECT count(*) FROM events")
            return int(cur.fetchone()[0])

    def data_version(self) -> str:
        """The newest audit ``seq`` and how many audit rows lie in the window below it.

        Every write appends audit rows in its own transaction and nothing deletes them. The newest ``seq`` alone
        would miss a transaction that took its ``seq`` before another one and committed after it (PostgreSQL
        sequences are not in commit order); the count of the last :data:`VERSION_WINDOW` rows catches that.
        Both are index lookups: a full ``count(*)`` takes 65 ms on 100 000 PostgreSQL audit rows, this 1.2 ms.
        """
        with self._cursor(write=False) as cur:
            cur.execute(
                "SELECT m.top, (SELECT count(*) FROM audit WHERE seq > m.top - "
                f"{VERSION_WINDOW}) FROM (SELECT coalesce(max(seq), 0) AS top FROM audit) m"
            )
            top, recent = cur.fetchone()
        return f"{int(top)}.{int(recent)}"

    def extent(self) -> StoreExtent:
        """The events' bounding box (CRS84) and their first and last day.

        Each bound is its own subquery, so that both databases answer it from an index (migration 0006) in a
        lookup: an aggregate over the table (a count, or several bounds in one query on SQLite) scans every event.
        """
        with self._cursor(write=False) as cur:
            cur.execute(EXTENT_SQL)
            west, south, east, north, first, last = cur.fetchone()
        if west is None:
            return StoreExtent(None, None, None)
        day = lambda v: v if isinstance(v, date) else date.fromisoformat(str(v))  # noqa: E731
        return StoreExtent((float(west), float(south), float(east), float(north)), day(first), day(last))

    def audit(self, event_id: str) -> list[AuditEntry]:
        """The audit trail of one event, oldest first."""
        ph = self.dialect.placeholder
        with self._cursor(write=False) as cur:
            cur.execute(
                "SELECT seq, event_id, at, actor, role, action, before, after FROM audit "
                f"WHERE event_id = {ph} ORDER BY seq",
                [event_id],
            )
            rows = cur.fetchall()
        decode = self.dialect.decode
        return [
            AuditEntry(
                seq=r[0],
                event_id=r[1],
                at=datetime.fromisoformat(decode("created_at", r[2])),
                actor=r[3],
                role=r[4],
                action=r[5],
                before=decode("source_record", r[6]),
                after=decode("source_record", r[7]),
            )
            for r in rows
        ]

    @contextmanager
    def transaction(self) -> Iterator[StoreTx]:
        """A write transaction, committed durably when the block exits without error."""
        with self._cursor(write=True) as cur:
            yield _SqlTx(cur, self.dialect)

    # -- keys ----------------------------------------------------------------------------------------------------
    def add_key(self, record: KeyRecord) -> None:
        """Store a new API key record."""
        ph = self.dialect.placeholder
        with self._cursor(write=True) as cur:
            cur.execute(
                f"INSERT INTO api_keys (key_id, key_hash, role, label, created_at) VALUES ({', '.join([ph] * 5)})",
                [record.key_id, record.key_hash, record.role, record.label, utc_iso(record.created_at)],
            )

    def get_key(self, key_id: str) -> KeyRecord | None:
        """The key record, or None."""
        keys = self._keys("WHERE key_id = " + self.dialect.placeholder, [key_id])
        return keys[0] if keys else None

    def list_keys(self) -> list[KeyRecord]:
        """Every key record."""
        return self._keys("ORDER BY created_at, key_id", [])

    def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Mark a key revoked; False if there is no such active key."""
        ph = self.dialect.placeholder
        with self._cursor(write=True) as cur:
            cur.execute(
                f"UPDATE api_keys SET revoked_at = {ph} WHERE key_id = {ph} AND revoked_at IS NULL",
                [utc_iso(at), key_id],
            )
            return bool(cur.rowcount)

    def _keys(self, tail: str, params: list[Any]) -> list[KeyRecord]:
        with self._cursor(write=False) as cur:
            cur.execute(f"SELECT key_id, key_hash, role, label, created_at, revoked_at FROM api_keys {tail}", params)
            rows = cur.fetchall()
        stamp = lambda v: None if v is None else datetime.fromisoformat(self.dialect.decode("created_at", v))  # noqa: E731
        return [KeyRecord(r[0], r[1], r[2], r[3], stamp(r[4]), stamp(r[5])) for r in rows]  # type: ignore[arg-type]

    # -- query building ------------------------------------------------------------------------------------------
    def _check_page(self, query: EventQuery) -> None:
        if not 1 <= query.limit <= self.max_limit:
            raise ValidationError(f"limit: must be between 1 and {self.max_limit}, got {query.limit}")
        if not 0 <= query.offset <= MAX_OFFSET:
            raise ValidationError(f"offset: must be between 0 and {MAX_OFFSET}, got {query.offset}")

    def _where(self, query: EventQuery, interval: DateInterval, starts: DayRange, params: Params) -> tuple[str, str]:
        """``(joins, condition)`` of the events matching ``query`` whose start day lies in ``starts``."""
        joins, conditions = "", []
        box = None if query.bbox is None else checked_bbox(query.bbox)
        if box is not None and box[0] <= box[2]:
            joins, condition = self.dialect.bbox(box, interval, starts, params)  # the index takes the start days
            conditions.append(condition)
        else:
            if box is not None:  # crossing the antimeridian: two halves
                west, south, east, north = box
                halves = [shapely.box(west, south, 180, north), shapely.box(-180, south, east, north)]
                spatial = [self.dialect.spatial("intersects", half, params) for half in halves]
                conditions.append("(" + " OR ".join(spatial) + ")")
            bind = lambda v: params.bind(self.dialect.bind_value(v, Kind.DATE))  # noqa: E731
            conditions.append(f"e.date_start BETWEEN {bind(starts[0])} AND {bind(starts[1])}")
        conditions.extend(self._datetime(interval, params))
        if query.after is not None:
            day = self.dialect.bind_value(as_date(query.after[0], "after"), Kind.DATE)
            later, same, key = params.bind(day), params.bind(day), params.bind(str(query.after[1]))  # in text order
            conditions.append(f"(e.date_start > {later} OR (e.date_start = {same} AND e.id > {key}))")
        for name, value in query.filters.items():
            conditions.append(self._equality(name, value, params))
        if query.cql is not None:
            conditions.append(CqlTranslator(self.dialect, _columns()).translate(query.cql, params))
        return joins, " AND ".join(conditions)

    def _datetime(self, interval: DateInterval, params: Params) -> list[str]:
        start, end = interval
        bind = lambda v: params.bind(self.dialect.bind_value(v, Kind.DATE))  # noqa: E731
        found = []
        if start is not None:
            found.append(f"e.date_end >= {bind(start)}")
        if end is not None:
            found.append(f"e.date_start <= {bind(end)}")
        return found

    def _equality(self, name: str, value: Any, params: Params) -> str:
        if name not in FILTERABLE:
            raise ValidationError(f"{name}: unknown filter; filterable: {', '.join(sorted(FILTERABLE))}")
        if name == "zones":
            return self.dialect.zone_condition(str(value), params)
        kind = QUERYABLES[name]
        return f"e.{name} = {params.bind(self.dialect.bind_value(coerce(name, value, kind), kind))}"

    def _feature(self, row: Sequence[Any]) -> dict[str, Any]:
        props = {c: self.dialect.decode(c, v) for c, v in zip(COLUMNS, row, strict=True)}
        props.pop("source_record")
        props["sources_text"] = sources_text(props["sources"])
        event_id, lon, lat = props.pop("id"), props.pop("lon"), props.pop("lat")
        return {
            "type": "Feature",
            "id": event_id,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props,
        }


def _columns() -> dict[str, Column]:
    return {
        name: Column("e." + name if kind is not Kind.GEOMETRY else "e.geom", kind) for name, kind in QUERYABLES.items()
    }


def _fetch_event(cur: Any, dialect: SqlDialect, event_id: str, lock: bool) -> Event | None:
    columns = ", ".join(COLUMNS)
    cur.execute(
        f"SELECT {columns} FROM events WHERE id = {dialect.placeholder}{dialect.lock_clause if lock else ''}",
        [event_id],
    )
    row = cur.fetchone()
    if row is None:
        return None
    return Event.model_validate({c: dialect.decode(c, v) for c, v in zip(COLUMNS, row, strict=True)})


class _SqlTx:
    """:class:`StoreTx` over a DB-API cursor that is inside a transaction."""

    def __init__(self, cur: Any, dialect: SqlDialect) -> None:
        self.cur = cur
        self.dialect = dialect
        ph = dialect.placeholder
        self._insert_sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join([ph] * len(COLUMNS))})"
        assignments = ", ".join(f"{c} = {ph}" for c in COLUMNS[1:])
        self._update_sql = f"UPDATE events SET {assignments} WHERE id = {ph}"

    def get(self, event_id: str) -> Event | None:
        return _fetch_event(self.cur, self.dialect, event_id, lock=True)

    def existing(self, event_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(event_ids), 500):
            marks = ", ".join([self.dialect.placeholder] * len(chunk))
            self.cur.execute(f"SELECT id FROM events WHERE id IN ({marks})", chunk)
            found.update(r[0] for r in self.cur.fetchall())
        return found

    def insert(self, event: Event) -> None:
        self.cur.execute(self._insert_sql, self._values(event))

    def update(self, event: Event) -> None:
        values = self._values(event)
        self.cur.execute(self._update_sql, [*values[1:], values[0]])

    def add_audit(self, entry: AuditEntry) -> None:
        ph = self.dialect.placeholder
        self.cur.execute(
            f"INSERT INTO audit (event_id, at, actor, role, action, before, after) VALUES ({', '.join([ph] * 7)})",
            [
                entry.event_id,
                utc_iso(entry.at),
                entry.actor,
                entry.role,
                entry.action,
                self.dialect.encode("source_record", entry.before),
                self.dialect.encode("source_record", entry.after),
            ],
        )

    def _values(self, event: Event) -> list[Any]:
        data = event.model_dump(mode="json")
        return [self.dialect.encode(c, data[c]) for c in COLUMNS]


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
