"""The reported events as an OGC API collection, served from the event store (SQLite or PostGIS).

:class:`EventsCollection` implements :class:`app.collections.base.Collection` by translating each
:class:`~app.collections.base.ItemsQuery` into an :class:`~app.events.store.base.EventQuery`: the store applies
bbox, datetime (an event matches an interval its ``date_start``..``date_end`` overlaps), equality filters, CQL2
(translated to SQL) and paging. Its ``meta.version`` is the store's data version, so ETags change with every
committed write, whichever process made it. :func:`event_collections` is the provider that opens the store when the
app starts, seeds an empty store with the curated 2020 events, and closes it at shutdown.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from app.collections import temporal
from app.collections.base import (
    CollectionMeta,
    Feature,
    FeaturePage,
    ItemsQuery,
    Licence,
    Queryable,
    QueryableType,
    TimeInterval,
)
from app.errors import FeatureNotFound, InvalidFilter, InvalidParameter, InvalidQuery, StoreUnavailable
from app.events.cql import Kind
from app.events.errors import StoreDown, ValidationError
from app.events.model import to_feature
from app.events.seed import seed
from app.events.service import EventService, open_service
from app.events.store.base import QUERYABLES, EventQuery, StoreExtent
from app.settings import EventsSection
from app.startup import Startup

logger = logging.getLogger(__name__)

COLLECTION_ID = "events"
#: The whole world, published as the extent of an empty store.
WORLD = (-180.0, -90.0, 180.0, 90.0)
#: The version published while the database has not been reached since the start (a new one follows).
UNAVAILABLE = "unavailable"
#: Seconds between attempts to seed a store that was down at start.
SEED_RETRY = 2.0
_KIND_TYPES: dict[Kind, tuple[QueryableType, str | None]] = {
    Kind.TEXT: ("string", None),
    Kind.INT: ("integer", None),
    Kind.DATE: ("string", "date"),
    Kind.DATETIME: ("string", "date-time"),
    Kind.GEOMETRY: ("geometry", None),
}
_QUERY_PARAMETERS = ("limit", "offset", "bbox", "datetime")


class EventsCollection:
    """The event store as an OGC API collection (implements :class:`app.collections.base.Collection`).

    Parameters
    ----------
    service
        The open event service; reads go to its store, writes go through it (see :mod:`app.routers.events`).
    settings
        The events section of the settings (limits of the write routes).

    """

    mutable = True  # writes change the features while the service runs

    def __init__(self, service: EventService, settings: EventsSection | None = None) -> None:
        self.service = service
        self.settings = settings or EventsSection()
        self._queryables = {name: _queryable(name, kind) for name, kind in QUERYABLES.items()}
        self._lock = threading.Lock()
        self._meta: tuple[str, CollectionMeta] | None = None

    @property
    def meta(self) -> CollectionMeta:
        """Metadata with the current version and extent (the extent is re-read only after a change).

        While the database is down, the metadata last read is given (so the list of collections stays served);
        before any was read (the service started during an outage), metadata with the whole world as extent and
        the version ``unavailable``.
        """
        try:
            version = self.service.store.data_version()
        except StoreDown:
            if self._meta is None:
                return _meta(UNAVAILABLE, StoreExtent(None, None, None), getattr(self.service.store, "count_cap", None))
            return self._meta[1]
        with self._lock:
            if self._meta is None or self._meta[0] != version:
                store = self.service.store
                self._meta = (version, _meta(version, store.extent(), getattr(store, "count_cap", None)))
            return self._meta[1]

    @meta.setter
    def meta(self, value: CollectionMeta) -> None:
        raise AttributeError("the metadata of the events collection is derived from the store")

    def version_now(self) -> str:
        """The store's data version, read now; :class:`StoreDown` while the database cannot be reached."""
        return self.service.store.data_version()

    def queryables(self) -> dict[str, Queryable]:
        """The scalar event fields and ``geometry``."""
        return dict(self._queryables)

    def items(self, query: ItemsQuery) -> FeaturePage:
        """One page of the events matching ``query``, ordered by ``date_start`` then ``id``."""
        interval = query.datetime
        after = decode_cursor(query.cursor) if query.cursor is not None else None
        event_query = EventQuery(
            bbox=query.bbox,
            datetime=(interval.start, interval.end) if interval is not None else None,
            filters=dict(query.properties),
            cql=query.cql,
            limit=1 if query.hits else query.limit,
            offset=query.offset,
            after=after,
            exact_count=query.hits,
        )
        try:
            page = self.service.query(event_query)
        except ValidationError as exc:
            raise query_error(str(exc)) from None
        following = encode_cursor(page.features[-1]) if page.more and page.features else None
        # after a cursor the store counts only what follows it: not numberMatched, which is every match
        matched = None if after is not None and not query.hits else page.matched
        return FeaturePage(page.features, matched, page.more, next_cursor=following)

    def item(self, feature_id: str) -> Feature:
        """One event, with its verbatim imported row, so that a replace can send back everything it read."""
        event = self.service.store.get(feature_id)
        if event is None:
            raise FeatureNotFound(COLLECTION_ID, feature_id)
        return to_feature(event, with_source_record=True)


@contextmanager
def event_collections(startup: Startup) -> Iterator[list[EventsCollection]]:
    """Provider for ``app.main.COLLECTION_PROVIDERS``: open (and seed) the event store, close it at shutdown.

    ``settings.events.database_url`` chooses the store (SQLite in the data folder by default); zones of written
    events come from the layer store's zone index. A PostgreSQL database that cannot be reached does not stop the
    start: event requests answer 503 until it can, and the seeding waits for it in a background thread.
    """
    settings = startup.settings
    if startup.layers is None:
        raise StoreUnavailable(f"the event store needs the built layers (for zones): none in {settings.data_dir}")
    try:
        service = open_service(settings, startup.layers.zones, start_down=True)
    except Exception as exc:
        where = settings.sqlite_path if settings.events.backend == "sqlite" else "CZMAP_EVENTS__DATABASE_URL"
        raise StoreUnavailable(f"cannot open the event store ({settings.events.backend} at {where}): {exc}") from exc
    stopped = threading.Event()
    seeder = None
    try:
        if settings.events.seed:
            seeder = _seed_when_reachable(service, stopped)
        yield [EventsCollection(service, settings.events)]
    finally:
        stopped.set()
        if seeder is not None:
            seeder.join()
        service.store.close()


def _seed_when_reachable(service: EventService, stopped: threading.Event) -> threading.Thread | None:
    """Seed now; if the database is down, retry every :data:`SEED_RETRY` s in a thread (returned) until it is up."""
    try:
        seed_if_empty(service)
        return None
    except StoreDown:
        pass

    def retry() -> None:
        while not stopped.wait(SEED_RETRY):
            try:
                seed_if_empty(service)
                return
            except StoreDown:
                continue

    thread = threading.Thread(target=retry, name="czmap-seed", daemon=True)
    thread.start()
    return thread


def seed_if_empty(service: EventService) -> int:
    """Load the curated 2020 events into an empty store; return how many were written.

    Another process starting at the same time may seed first: when the seed fails and the store is no longer
    empty, that is what happened, and the failure is not an error.
    """
    if service.store.count() > 0:
        return 0
    try:
        report = seed(service)
    except Exception:
        if service.store.count() > 0:
            logger.info("the event store was seeded by another process")
            return 0
        raise
    for rejection in report.rejected:
        logger.warning("seed row %s rejected: %s: %s", rejection.line, rejection.field, rejection.reason)
    logger.info("seeded the event store with %d events", report.created)
    return report.created


def encode_cursor(feature: Feature) -> str:
    """The cursor of the position after ``feature`` in the page order (``date_start``, then ``id``): opaque text.

    Examples
    --------
    >>> cursor = encode_cursor({"id": "czm-1", "properties": {"date_start": "2020-10-04"}})
    >>> cursor, decode_cursor(cursor)
    ('MjAyMC0xMC0wNHxjem0tMQ', (datetime.date(2020, 10, 4), 'czm-1'))

    """
    key = f"{feature['properties']['date_start']}|{feature['id']}"
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date, str]:
    """The ``(date_start, id)`` of a cursor made by :func:`encode_cursor`; :class:`InvalidParameter` otherwise."""
    try:
        day, _, event_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition("|")
        if event_id:
            return date.fromisoformat(day), event_id
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        pass
    raise InvalidParameter("cursor", "not a cursor of a next link of this collection")


def _queryable(name: str, kind: Kind) -> Queryable:
    kind_type, fmt = _KIND_TYPES[kind]
    return Queryable(name, kind_type, title=name.replace("_", " "), format=fmt)


def _meta(version: str, extent: StoreExtent, count_cap: int | None) -> CollectionMeta:
    start = temporal.start_of(extent.date_start) if extent.date_start else None
    end = temporal.end_of(extent.date_end) if extent.date_end else None
    paging = "Pages are ordered by date_start, then id."
    if count_cap is not None:
        paging += (
            f" numberMatched is given up to {count_cap:,} matches (or to the end of the page asked for) and left out"
            " above (the next link says more follow); resulttype=hits counts every match exactly."
        )
    return CollectionMeta(
        id=COLLECTION_ID,
        title="Reported events",
        description=(
            "Reported fighting in and around Nagorno-Karabakh (curated 2020 events and later additions), one point "
            "per report with its dates, precision codes, ACLED event type, who claimed it, verification status and "
            "cited sources. Retracted reports stay, marked 'retracted'; every change is in the item's /history. "
            + paging
        ),
        version=version,
        bbox=extent.bbox or WORLD,
        geometry_type="Point",
        licence=Licence("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
        attribution="Conflict-zone map seed dataset, 2020 Nagorno-Karabakh war (CC BY 4.0); cited reports belong "
        "to their publishers",
        keywords=("Nagorno-Karabakh", "2020", "armed conflict", "events", "ACLED", "UCDP GED"),
        temporal=TimeInterval(start, end) if start or end else None,
    )


def query_error(message: str) -> InvalidQuery:
    """The OGC-level error for a query the store refused (its messages start with the parameter's name)."""
    name, _, reason = message.partition(": ")
    if name == "filter":
        return InvalidFilter(reason)
    if name in _QUERY_PARAMETERS or name in QUERYABLES:
        return InvalidParameter(name, reason)
    return InvalidQuery(message)
