"""The event domain: validation, authorisation, zones and audit around a store.

The HTTP layer calls these methods and maps :mod:`app.events.errors` to status codes; it never talks to the
store for writes directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.events.auth import PERMISSIONS, Action, Actor, authenticate, require
from app.events.errors import Conflict, FieldProblem, Forbidden, NotFound, StaleRevision, ValidationError
from app.events.model import SERVER_FIELDS, WRITABLE_FIELDS, Event, EventIn, parse_event_in
from app.events.store.base import AuditEntry, EventPage, EventQuery
from app.events.store.interface import EventStore, StoreTx
from app.events.vocab import Verification
from app.events.zones import event_zones
from app.layerstore.zones import ZoneIndex

if TYPE_CHECKING:
    from app.settings import Settings

Clock = Callable[[], datetime]
#: Degrees within which two reports of the same day and type are taken to be at the same place (about 100 m).
SAME_PLACE_DEG = 0.001


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class BatchResult:
    """What a batch write did: ids created, and ids skipped because they were already stored."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


class EventService:
    """Reads and authorised, audited writes of reported events.

    Parameters
    ----------
    store
        Where events live.
    zones
        The layer store's zone index; every written event gets ``zones`` computed from its location and day.
    clock
        Source of timestamps (UTC).
    region
        ``(west, south, east, north)`` in CRS84 degrees: a write that puts an event outside is refused (a point
        at (0, 0) is a mistake, not a report); None accepts any point on Earth.

    """

    def __init__(
        self,
        store: EventStore,
        zones: ZoneIndex,
        clock: Clock = _now,
        region: tuple[float, float, float, float] | None = None,
    ) -> None:
        self.store = store
        self.zones = zones
        self.clock = clock
        self.region = region

    # -- reads -------------------------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> Actor:
        """The actor for an ``Authorization`` header value (raises ``Unauthenticated``)."""
        return authenticate(self.store, authorization)

    def get(self, event_id: str) -> Event:
        """The event, or :class:`NotFound`."""
        event = self.store.get(event_id)
        if event is None:
            raise NotFound(f"no event with id {event_id!r}")
        return event

    def query(self, query: EventQuery) -> EventPage:
        """One page of GeoJSON features and how many match (see :class:`EventQuery` and :class:`EventPage`)."""
        return self.store.query(query)

    def audit(self, event_id: str) -> list[AuditEntry]:
        """The audit trail of an event, oldest first (:class:`NotFound` if it never existed)."""
        entries = self.store.audit(event_id)
        if not entries and self.store.get(event_id) is None:
            raise NotFound(f"no event with id {event_id!r}")
        return entries

    # -- writes ------------------------------------------------------------------------------------------------
    def create(self, actor: Actor, data: Any) -> Event:
        """Validate and store a new event; :class:`Conflict` if its id exists."""
        require(actor, Action.CREATE)
        incoming = parse_event_in(data)
        _refuse_retracted(incoming)
        self._refuse_republishing(actor, incoming)
        event_id = incoming.id or f"czm-{uuid.uuid4().hex[:16]}"
        with self.store.transaction() as tx:
            if tx.existing([event_id]):
                raise Conflict(f"an event with id {event_id!r} already exists")
            event = self._stamp(event_id, incoming, actor, previous=None)
            tx.insert(event)
            self._audit(tx, actor, "create", None, event)
        return event

    def replace(self, actor: Actor, event_id: str, data: Any, expected_revision: int | None = None) -> Event:
        """Replace every writable field of a stored event."""
        require(actor, Action.REPLACE)
        incoming = parse_event_in(data)
        if incoming.id is not None and incoming.id != event_id:
            raise ValidationError([FieldProblem("id", f"{incoming.id!r} does not match the event {event_id!r}")])
        _refuse_retracted(incoming)
        self._refuse_republishing(actor, incoming, event_id)
        return self._rewrite(actor, event_id, "replace", lambda _: incoming, expected_revision)

    def update(
        self, actor: Actor, event_id: str, patch: Mapping[str, Any], expected_revision: int | None = None
    ) -> Event:
        """Change some writable fields of a stored event (a partial update)."""
        require(actor, Action.UPDATE)
        _check_patch(patch)

        def merged(stored: Event) -> EventIn:
            incoming = parse_event_in({**stored.fields(), **patch})
            _refuse_retracted(incoming, allowed=stored.verification is Verification.RETRACTED)
            return incoming

        return self._rewrite(actor, event_id, "update", merged, expected_revision)

    def retract(
        self, actor: Actor, event_id: str, reason: str | None = None, expected_revision: int | None = None
    ) -> Event:
        """Mark an event retracted (the record stays, with the reason appended to its notes)."""
        require(actor, Action.RETRACT)
        if reason is not None and len(reason) > 2000:
            raise ValidationError([FieldProblem("reason", "must be at most 2000 characters")])

        def retracted(stored: Event) -> EventIn:
            if stored.verification is Verification.RETRACTED:
                raise Conflict(f"event {event_id!r} is already retracted")
            note = f"Retracted by {actor.name} on {self.clock().date()}" + (f": {reason}" if reason else ".")
            notes = f"{stored.notes}\n{note}" if stored.notes else note
            fields = {**stored.fields(), "verification": Verification.RETRACTED.value, "notes": notes}
            return parse_event_in(fields)

        return self._rewrite(actor, event_id, "retract", retracted, expected_revision)

    def _refuse_republishing(self, actor: Actor, incoming: EventIn, own_id: str | None = None) -> None:
        """:class:`Forbidden` when a non-admin writes again, under another id, a report an admin retracted.

        The same report is a retracted event of an overlapping day that shares a source URL with ``incoming``, or
        has its first day, sub-type, claimant and a source (publisher and title) at the same place (within
        :data:`SAME_PLACE_DEG`): two shellings of one town on one day stay two events. An admin may (it is how a
        retraction made by mistake is undone), and so may anyone restoring the retracted event itself.
        """
        if actor.role in PERMISSIONS[Action.EDIT_RETRACTED]:
            return
        twin = self._retracted_twin(incoming, own_id)
        if twin is not None:
            raise Forbidden(
                f"this event repeats the retracted event {twin!r} (same source, or same day, place and type); "
                "only an admin may publish a retracted report again"
            )

    def _retracted_twin(self, incoming: EventIn, own_id: str | None) -> str | None:
        """The id of a retracted event that is the same report as ``incoming`` (see :meth:`_refuse_republishing`)."""
        days = (incoming.date_start, incoming.date_end or incoming.date_start)
        query = EventQuery(datetime=days, filters={"verification": Verification.RETRACTED.value}, limit=1000)
        urls = {_url_key(s.url) for s in incoming.sources if s.url}
        for feature in self.store.query(query).features:
            props = feature["properties"]
            if feature["id"] == own_id:
                continue
            if urls & {_url_key(s["url"]) for s in props.get("sources") or [] if s.get("url")}:
                return str(feature["id"])
            if _same_report(incoming, feature):
                return str(feature["id"])
        return None

    def write_batch(self, actor: Actor, events: Sequence[EventIn], action: str = "import") -> BatchResult:
        """Store new events in one transaction, skipping ids already stored (so re-running adds nothing)."""
        require(actor, Action.CREATE)
        result = BatchResult()
        with self.store.transaction() as tx:
            existing = tx.existing([e.id for e in events if e.id])
            for incoming in events:
                if incoming.id is None:
                    raise ValidationError([FieldProblem("id", "a batch write needs an id on every event")])
                if incoming.id in existing:
                    result.existing.append(incoming.id)
                    continue
                event = self._stamp(incoming.id, incoming, actor, previous=None)
                tx.insert(event)
                self._audit(tx, actor, action, None, event)
                existing.add(incoming.id)
                result.created.append(incoming.id)
        return result

    def refresh_zones(self, actor: Actor) -> int:
        """Recompute ``zones`` of every event (after the zone layers change); return how many changed."""
        require(actor, Action.EDIT_RETRACTED)
        changed = [e.id for e in self.store.iter_events() if e.zones != self._zones_of(e)]
        for event_id in changed:
            self._rewrite(actor, event_id, "refresh-zones", lambda stored: EventIn(**stored.fields()), None)
        return len(changed)

    def iter_events(self) -> Iterator[Event]:
        """Every event, in id order."""
        return self.store.iter_events()

    # -- helpers -----------------------------------------------------------------------------------------------
    def _rewrite(
        self,
        actor: Actor,
        event_id: str,
        action: str,
        change: Callable[[Event], EventIn],
        expected_revision: int | None,
    ) -> Event:
        with self.store.transaction() as tx:
            stored = tx.get(event_id)
            if stored is None:
                raise NotFound(f"no event with id {event_id!r}")
            if stored.verification is Verification.RETRACTED and action != "refresh-zones":
                require(actor, Action.EDIT_RETRACTED)  # the role first: a 403 whatever the revision asked for
            if expected_revision is not None and expected_revision != stored.revision:
                raise StaleRevision(
                    f"revision: event {event_id!r} is at revision {stored.revision}, not {expected_revision}; "
                    "re-read it and apply your change again"
                )
            event = self._stamp(event_id, change(stored), actor, previous=stored)
            tx.update(event)
            self._audit(tx, actor, action, stored, event)
        return event

    def _zones_of(self, event: EventIn | Event) -> list[str]:
        return event_zones(self.zones, event.lon, event.lat, event.date_start)

    def _stamp(self, event_id: str, incoming: EventIn, actor: Actor, previous: Event | None) -> Event:
        if previous is None or (previous.lon, previous.lat) != (incoming.lon, incoming.lat):
            self._check_region(incoming)
        now = self.clock()
        fields = incoming.model_dump(exclude={"id"})
        return Event(
            **fields,
            id=event_id,
            zones=self._zones_of(incoming),
            created_at=previous.created_at if previous else now,
            created_by=previous.created_by if previous else actor.name,
            updated_at=now,
            updated_by=actor.name,
            revision=previous.revision + 1 if previous else 1,
        )

    def _check_region(self, incoming: EventIn) -> None:
        if self.region is None:
            return
        west, south, east, north = self.region
        if not (west <= incoming.lon <= east and south <= incoming.lat <= north):
            raise ValidationError(
                [
                    FieldProblem(
                        "geometry.coordinates",
                        f"[{incoming.lon}, {incoming.lat}] is outside the service's region (lon {west} to {east}, "
                        f"lat {south} to {north}; CZMAP_EVENTS__REGION); coordinates are [longitude, latitude]",
                    )
                ]
            )

    def _audit(self, tx: StoreTx, actor: Actor, action: str, before: Event | None, after: Event) -> None:
        entry = AuditEntry(
            seq=0,
            event_id=after.id,
            at=after.updated_at,
            actor=actor.name,
            role=actor.role.value,
            action=action,
            before=before.model_dump(mode="json") if before else None,
            after=after.model_dump(mode="json"),
        )
        tx.add_audit(entry)


def _same_report(incoming: EventIn, feature: Mapping[str, Any]) -> bool:
    """Whether a stored event (a GeoJSON Feature) is ``incoming`` again, apart from its sources' URLs."""
    props = feature["properties"]
    lon, lat = feature["geometry"]["coordinates"][:2]
    cited = {(s.get("publisher"), s.get("title")) for s in props.get("sources") or []}
    return (
        props.get("date_start") == incoming.date_start.isoformat()
        and props.get("sub_event_type") == incoming.sub_event_type
        and props.get("claimed_by") == incoming.claimed_by
        and abs(lon - incoming.lon) <= SAME_PLACE_DEG
        and abs(lat - incoming.lat) <= SAME_PLACE_DEG
        and any((s.publisher, s.title) in cited for s in incoming.sources)
    )


def _url_key(url: str) -> str:
    """A source URL as compared: without scheme, case of the host, trailing slash or fragment."""
    rest = url.strip().split("#", 1)[0].split("://", 1)[-1].rstrip("/")
    host, _, path = rest.partition("/")
    return f"{host.lower().removeprefix('www.')}/{path}"


def _refuse_retracted(incoming: EventIn, allowed: bool = False) -> None:
    if incoming.verification is Verification.RETRACTED and not allowed:
        raise ValidationError(
            [FieldProblem("verification", "'retracted' is set only by a retraction (DELETE), not by a write")]
        )


def _check_patch(patch: Mapping[str, Any]) -> None:
    if not isinstance(patch, Mapping):
        raise ValidationError("a partial update must be a JSON object of fields to change")
    problems = [
        FieldProblem(key, "set by the server; cannot be changed" if key in (*SERVER_FIELDS, "id") else "unknown field")
        for key in patch
        if key not in WRITABLE_FIELDS
    ]
    if problems:
        raise ValidationError(problems)


def open_store(settings: Settings, start_down: bool = False) -> EventStore:
    """Open (and migrate) the event store that ``settings.events`` selects.

    With ``start_down``, a PostgreSQL database that cannot be reached yet does not stop the opening: the store
    answers :class:`~app.events.errors.StoreDown` until it can (the service starts during an outage).
    """
    events = settings.events
    if events.backend == "postgis":
        from app.events.store.postgis import PostgisEventStore

        assert events.database_url is not None
        return PostgisEventStore(
            events.database_url,
            pool_max_size=events.pool_max_size,
            pool_timeout=events.pool_timeout,
            retry_after=events.retry_after,
            max_limit=events.max_limit,
            count_cap=events.count_cap,
            start_down=start_down,
        )
    from app.events.store.sqlite import SqliteEventStore

    return SqliteEventStore(
        settings.sqlite_path, max_limit=events.max_limit, count_cap=events.count_cap, readers=events.sqlite_readers
    )


def open_service(settings: Settings, zones: ZoneIndex, start_down: bool = False) -> EventService:
    """Open the store that ``settings`` selects, computing zones with the layer store's ``zones`` index."""
    return EventService(open_store(settings, start_down), zones, region=settings.events.region)
