"""Writes and history of the ``events`` collection (OGC API - Features Part 4), and its single-event reads.

Reads of pages go through the generic routes of :mod:`app.routers.items`. A single event is served here so that
its ETag is its revision: a client reads an event, changes it and sends it back with ``If-Match``; a stale
revision is answered with 412. Writes need ``Authorization: Bearer <API key>``; the event service decides what
each role may do. DELETE is a retraction: the event stays readable, marked ``retracted``.
(No ``from __future__ import annotations`` here: FastAPI reads these annotations at run time.)
"""

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from starlette.datastructures import URL
from starlette.responses import Response

from app.collections.events import COLLECTION_ID, EventsCollection
from app.errors import StoreUnavailable
from app.events.auth import Action, Actor, require
from app.events.errors import StaleRevision
from app.events.model import Event, to_feature
from app.events.service import EventService
from app.http.etags import check_not_modified, content_coding, revision_etag, revisions_named
from app.http.request import base_url, check_parameters, read_body, reject_unknown_parameters, require_json
from app.ogc import crs as ogc_crs
from app.ogc import documents
from app.ogc.crs import reproject_features
from app.ogc.event_features import fields_from_feature, history_document, parse_json, patch_from_feature
from app.ogc.html import render
from app.ogc.links import GEOJSON, HTML, JSON, link, link_header, with_query
from app.ogc.params import output_crs, page_format, registry_of
from app.responses import GeoJSONResponse, JSONResponse

#: Reads refuse unknown parameters first; writes check the key first (:func:`get_actor`): a request without a key
#: is answered 401 whatever else is wrong with it.
router = APIRouter(tags=["Events"])
CHECKED = [Depends(reject_unknown_parameters)]
ITEMS = f"/collections/{COLLECTION_ID}/items"
REVALIDATE = "no-cache"
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not JSON, or a parameter is invalid."},
    401: {"description": "No API key, or an unknown or revoked one."},
    403: {"description": "The key's role does not allow this write."},
    404: {"description": "No event with this id."},
    409: {"description": "The write clashes with the stored event (duplicate id, already retracted)."},
    412: {"description": "If-Match names a revision that is no longer the stored one."},
    413: {"description": "The body is larger than the configured limit."},
    415: {"description": "The body is declared as something other than JSON."},
    429: {"description": "Too many writes with this key, or failed authentications from this address."},
    422: {"description": "The Feature or one of its fields is invalid; every problem names its field."},
}
#: A retraction has no body: no 413 or 422.
RETRACT_ERRORS = {status: r for status, r in WRITE_ERRORS.items() if status not in (413, 422)}


async def get_events(request: Request) -> EventsCollection:
    """The events collection of the app (404 when the app serves none)."""
    collection = registry_of(request).get(COLLECTION_ID)
    if not isinstance(collection, EventsCollection):
        raise StoreUnavailable(f"the collection {COLLECTION_ID!r} is not served from the event store")
    return collection


async def get_service(request: Request) -> EventService:
    """The event service opened at start-up (``app.state.events``)."""
    service: EventService | None = getattr(request.app.state, "events", None)
    if service is None:
        raise StoreUnavailable("no event store is open")
    return service


ServiceDep = Annotated[EventService, Depends(get_service)]
EventsDep = Annotated[EventsCollection, Depends(get_events)]
FeatureId = Annotated[str, Path(alias="featureId", description="Id of an event.", max_length=128)]
CrsDep = Annotated[str, Depends(output_crs)]
FormatDep = Annotated[str, Depends(page_format)]


def get_actor(
    request: Request,
    service: ServiceDep,
    authorization: Annotated[str | None, Header(description="'Bearer <API key>' (czmap keys create).")] = None,
) -> Actor:
    """Who is writing, from the API key (raises ``Unauthenticated``); then the query parameters are checked."""
    actor = service.authenticate(authorization)
    check_parameters(request)
    return actor


async def json_body(request: Request, collection: EventsDep) -> Any:
    """The JSON body, read up to the configured size (:class:`~app.errors.BodyTooLarge` beyond it)."""
    require_json(request)
    return parse_json(await read_body(request, collection.settings.max_body_bytes))


def content_crs(
    crs: Annotated[
        str | None,
        Header(
            alias="Content-Crs",
            description="CRS of the body's geometry, e.g. <http://www.opengis.net/def/crs/EPSG/0/4326>.",
        ),
    ] = None,
) -> str:
    """The CRS of the geometry in a write body (CRS84 when not given)."""
    return ogc_crs.parse_crs(crs.strip().removeprefix("<").removesuffix(">") if crs else None, "Content-Crs")


ActorDep = Annotated[Actor, Depends(get_actor)]
BodyDep = Annotated[Any, Depends(json_body)]
ContentCrsDep = Annotated[str, Depends(content_crs)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="ETag of the revision the write applies to.")]


@router.get(
    f"{ITEMS}/{{featureId}}",
    summary="One event",
    response_class=GeoJSONResponse,
    operation_id="getEvent",
    dependencies=CHECKED,
)
def get_event(request: Request, collection: EventsDep, feature_id: FeatureId, fmt: FormatDep, crs: CrsDep) -> Response:
    """One event with its full record; the ETag is its revision (send it back as If-Match when writing)."""
    feature = collection.item(feature_id)
    tag = revision_etag(feature["properties"]["revision"], _variant(request, fmt, crs))
    headers = {"ETag": tag, "Cache-Control": REVALIDATE, "Content-Crs": f"<{crs}>"}
    check_not_modified(request, tag, headers)
    doc = _document(request, collection, reproject_features([feature], crs)[0])
    headers["Link"] = link_header(doc["links"])
    if fmt == "html":
        map_url = with_query(request.url, f="json", crs=None)
        return render(request, "item.html", headers, c=collection, doc=doc, map_url=map_url)
    return GeoJSONResponse(doc, headers=headers)


@router.post(
    ITEMS,
    summary="Add an event",
    status_code=201,
    responses=WRITE_ERRORS,
    operation_id="createEvent",
    response_class=GeoJSONResponse,
)
def create_event(
    request: Request, collection: EventsDep, actor: ActorDep, body: BodyDep, crs: ContentCrsDep, service: ServiceDep
) -> Response:
    """Add an event from a GeoJSON Feature (Point geometry); 201 with its Location and ETag."""
    require(actor, Action.CREATE)  # the role before the fields
    event = service.create(actor, fields_from_feature(body, crs))
    return _written(request, collection, event, status=201)


@router.put(
    f"{ITEMS}/{{featureId}}",
    summary="Replace an event",
    responses=WRITE_ERRORS,
    operation_id="replaceEvent",
    response_class=GeoJSONResponse,
)
def replace_event(
    request: Request,
    collection: EventsDep,
    feature_id: FeatureId,
    actor: ActorDep,
    body: BodyDep,
    crs: ContentCrsDep,
    service: ServiceDep,
    if_match: IfMatch = None,
) -> Response:
    """Replace every field of an event with those of a GeoJSON Feature (fields set by the server are ignored)."""
    revision = expected_revision(if_match, service, feature_id, actor, Action.REPLACE)
    fields = fields_from_feature(body, crs)
    event = service.replace(actor, feature_id, fields, revision)
    return _written(request, collection, event)


@router.patch(
    f"{ITEMS}/{{featureId}}",
    summary="Change an event",
    responses=WRITE_ERRORS,
    operation_id="updateEvent",
    response_class=GeoJSONResponse,
)
def update_event(
    request: Request,
    collection: EventsDep,
    feature_id: FeatureId,
    actor: ActorDep,
    body: BodyDep,
    crs: ContentCrsDep,
    service: ServiceDep,
    if_match: IfMatch = None,
) -> Response:
    """Change some fields: a JSON merge patch of the Feature (``properties`` to change, optionally ``geometry``)."""
    revision = expected_revision(if_match, service, feature_id, actor, Action.UPDATE)
    patch = patch_from_feature(body, crs)
    event = service.update(actor, feature_id, patch, revision)
    return _written(request, collection, event)


@router.delete(
    f"{ITEMS}/{{featureId}}",
    summary="Retract an event",
    responses=RETRACT_ERRORS,
    operation_id="retractEvent",
    response_class=GeoJSONResponse,
)
def retract_event(
    request: Request,
    collection: EventsDep,
    feature_id: FeatureId,
    actor: ActorDep,
    service: ServiceDep,
    if_match: IfMatch = None,
    reason: Annotated[
        str | None, Query(max_length=2000, description="Why it is retracted (kept in its notes).")
    ] = None,
) -> Response:
    """Retract an event (admin): it stays readable, marked ``retracted``, with the reason in its notes."""
    revision = expected_revision(if_match, service, feature_id, actor, Action.RETRACT)
    event = service.retract(actor, feature_id, reason, revision)
    return _written(request, collection, event)


@router.get(
    f"{ITEMS}/{{featureId}}/history",
    summary="Changes to an event",
    operation_id="getEventHistory",
    dependencies=CHECKED,
)
def event_history(request: Request, feature_id: FeatureId, service: ServiceDep, fmt: FormatDep) -> Response:
    """Every change to the event, oldest first: who, when, what, and the record before and after."""
    doc = history_document(feature_id, service.audit(feature_id))
    here = f"{base_url(request)}{ITEMS}/{feature_id}"
    doc["links"] = [
        link(with_query(request.url, f="json"), "self" if fmt == "json" else "alternate", JSON, "This history"),
        link(with_query(request.url, f="html"), "self" if fmt == "html" else "alternate", HTML, "This history"),
        link(here, "about", GEOJSON, "The event"),
    ]
    headers = {"Cache-Control": REVALIDATE, "Link": link_header(doc["links"])}
    if fmt == "html":
        return _history_html(request, doc, headers)
    return JSONResponse(doc, headers=headers)


# -- helpers -------------------------------------------------------------------------------------------------------
def expected_revision(
    if_match: str | None, service: EventService, event_id: str, actor: Actor, action: Action
) -> int | None:
    """The revision ``If-Match`` asks for (None when absent or ``*``); raises ``StaleRevision`` when none can match.

    The actor's role is checked first: a write the role may not make is a 403 whatever its ``If-Match``.
    """
    require(actor, action)
    if if_match is None or if_match.strip() == "*":
        return None
    wanted = revisions_named(if_match)
    if len(wanted) == 1:
        return wanted.pop()
    current = service.get(event_id).revision
    if current in wanted:
        return current
    raise StaleRevision(f"If-Match: event {event_id!r} is at revision {current}; {if_match!r} does not name it")


def _variant(request: Request, fmt: str, crs: str) -> str:
    """Format, CRS and coding of a representation of one revision (empty for GeoJSON in CRS84, uncompressed)."""
    coding = content_coding(request)
    crs_part = "" if crs == ogc_crs.CRS84 else hashlib.sha256(crs.encode()).hexdigest()[:8]
    return "-".join(p for p in ("" if fmt == "json" else fmt, crs_part, "" if coding == "identity" else coding) if p)


def _document(request: Request, collection: EventsCollection, feature: dict[str, Any]) -> dict[str, Any]:
    doc = documents.feature(feature, collection, base_url(request), request.url)
    here = f"{base_url(request)}{ITEMS}/{feature['id']}"
    doc["links"].append(link(f"{here}/history", "version-history", JSON, "Every change to this event"))
    return doc


def _written(request: Request, collection: EventsCollection, event: Event, status: int = 200) -> Response:
    here = f"{base_url(request)}{ITEMS}/{event.id}"
    doc = documents.feature(to_feature(event, with_source_record=True), collection, base_url(request), URL(here))
    doc["links"].append(link(f"{here}/history", "version-history", JSON, "Every change to this event"))
    headers = {"ETag": revision_etag(event.revision), "Cache-Control": "no-store"}
    if status == 201:
        headers["Location"] = here
    return GeoJSONResponse(doc, status_code=status, headers=headers)


def _history_html(request: Request, doc: dict[str, Any], headers: dict[str, str]) -> Response:
    entries = [
        {**e, "changes": [{**c, "before": _text(c["before"]), "after": _text(c["after"])} for c in e["changes"]]}
        for e in doc["entries"]
    ]
    return render(request, "history.html", headers, doc=doc, entries=entries)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
