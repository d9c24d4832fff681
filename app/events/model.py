"""The reported-event model (aligned with UCDP GED and ACLED) and its GeoJSON form.

:class:`EventIn` is what a client or an importer writes; :class:`Event` is what the store keeps, with the
server-side fields (zones, timestamps, authors, revision). Every validation message names its field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.events.errors import FieldProblem, ValidationError
from app.events.vocab import ACLED_EVENT_TYPES, Verification, check_event_type

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
EARLIEST_DATE = date(1900, 1, 1)
MAX_FATALITIES = 1_000_000
ShortText = Annotated[str, Field(min_length=1, max_length=300)]


def _none_if_blank(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class Source(BaseModel):
    """One published report of the event: who published it, under what title, when, and where to read it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    publisher: ShortText
    title: Annotated[str, Field(min_length=1, max_length=1000)]
    published: date | None = None
    url: Annotated[str, Field(max_length=2000)] | None = None
    title_is_descriptive: bool = Field(
        default=False, description="True when the title describes the report rather than quoting its headline."
    )
    denial_by: ShortText | None = Field(
        default=None,
        description="The party whose denial of the claim this source reports (only on a source reporting a denial).",
    )

    @field_validator("url", "published", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return _none_if_blank(value)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+\S*$", value):
            raise ValueError(f"url must be an http(s) address, got {value[:80]!r}")
        return value


class EventFields(BaseModel):
    """The fields a client writes. Unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    date_start: date
    date_end: date | None = Field(None, description="Last day; defaults to date_start.")
    date_precision: int = Field(1, ge=1, le=5, description="UCDP GED date_prec code (1 exact ... 5 year).")
    lon: float = Field(ge=-180, le=180, description="Longitude, WGS 84 / CRS84 degrees.")
    lat: float = Field(ge=-90, le=90, description="Latitude, WGS 84 / CRS84 degrees.")
    location_precision: int = Field(1, ge=1, le=7, description="UCDP GED where_prec code (1 exact ... 7 waters).")
    place_name: Annotated[str, Field(max_length=300)] | None = None
    geonameid: int | None = Field(None, ge=1, le=10**9)
    country: Annotated[str, Field(max_length=100)] | None = None
    admin1: Annotated[str, Field(max_length=200)] | None = None
    admin2: Annotated[str, Field(max_length=200)] | None = None
    event_type: str
    sub_event_type: str
    actors: list[ShortText] = Field(default_factory=list, max_length=50)
    claimed_by: ShortText = Field(description="Who reported it: a ministry of defence, local authorities, an outlet.")
    verification: Verification = Verification.REPORTED
    fatalities_best: int | None = Field(None, ge=0, le=MAX_FATALITIES)
    fatalities_low: int | None = Field(None, ge=0, le=MAX_FATALITIES)
    fatalities_high: int | None = Field(None, ge=0, le=MAX_FATALITIES)
    sources: list[Source] = Field(min_length=1, max_length=50)
    notes: Annotated[str, Field(max_length=20_000)] | None = None
    source_record: dict[str, str | int | float | None] | None = Field(
        None, max_length=300, description="The imported row verbatim (UCDP GED / ACLED columns), so nothing is lost."
    )

    @field_validator("place_name", "country", "admin1", "admin2", "notes", "date_end", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        """An empty (or blank) optional text means "not known": stored as null, never as ''."""
        return _none_if_blank(value)

    @field_validator("date_start")
    @classmethod
    def _plausible_date(cls, value: date) -> date:
        latest = datetime.now(UTC).date() + timedelta(days=1)
        if not EARLIEST_DATE <= value <= latest:
            raise ValueError(f"date_start {value} is outside {EARLIEST_DATE}..{latest}")
        return value

    @field_validator("date_end")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("date_start")
        if value is not None and start is not None:
            if value < start:
                raise ValueError(f"date_end {value} is before date_start {start}")
            if (value - start).days > 366 * 5:
                raise ValueError(f"date_end {value} is more than five years after date_start {start}")
        return value

    @field_validator("event_type")
    @classmethod
    def _known_event_type(cls, value: str) -> str:
        if value not in ACLED_EVENT_TYPES:
            raise ValueError(f"{value!r} is not an ACLED event type; allowed: {', '.join(ACLED_EVENT_TYPES)}")
        return value

    @field_validator("sub_event_type")
    @classmethod
    def _known_sub_event_type(cls, value: str, info: ValidationInfo) -> str:
        event_type = info.data.get("event_type")
        if event_type is not None:
            check_event_type(event_type, value)
        return value

    @field_validator("fatalities_high")
    @classmethod
    def _ordered_fatalities(cls, value: int | None, info: ValidationInfo) -> int | None:
        low, best = info.data.get("fatalities_low"), info.data.get("fatalities_best")
        known = [v for v in (low, best, value) if v is not None]
        if known != sorted(known):
            raise ValueError(f"fatalities must satisfy low <= best <= high, got {low}, {best}, {value}")
        return value

    def model_post_init(self, context: Any, /) -> None:
        """Default ``date_end`` to ``date_start``."""
        if self.date_end is None:
            self.date_end = self.date_start


class EventIn(EventFields):
    """An event as written by a client or importer; ``id`` is optional on create (the store assigns one)."""

    id: Annotated[str, Field(pattern=ID_PATTERN)] | None = None


class Event(EventFields):
    """An event as stored: the written fields plus zones (computed), timestamps, authors and revision."""

    model_config = ConfigDict(extra="ignore")

    id: str
    zones: list[str] = Field(default_factory=list, description="'<layer-id>:<feature-id>' of every zone it is in.")
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    revision: int = 1

    def fields(self) -> dict[str, Any]:
        """The client-writable fields as JSON-ready values (what a replace would send back)."""
        return self.model_dump(mode="json", include=set(EventFields.model_fields))


WRITABLE_FIELDS: tuple[str, ...] = tuple(EventFields.model_fields)
SERVER_FIELDS: tuple[str, ...] = (
    "zones",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "revision",
    "sources_text",
)
#: Between two sources in :func:`sources_text`.
SOURCES_SEPARATOR = " | "


def sources_text(sources: Any) -> str | None:
    """The cited sources as one line of text, for GIS clients that drop a list of objects (QGIS shows it empty).

    Each source is ``publisher: title (published) url``; sources are separated by :data:`SOURCES_SEPARATOR`.

    Examples
    --------
    >>> sources_text([{"publisher": "Reuters", "title": "Shelling", "published": "2020-10-08",
    ...                "url": "https://example.org/a"}, {"publisher": "MoD", "title": "Statement"}])
    'Reuters: Shelling (2020-10-08) https://example.org/a | MoD: Statement'
    >>> sources_text([]) is None
    True

    """
    parts = []
    for source in sources or ():
        if not isinstance(source, dict):
            continue
        text = f"{source.get('publisher', '')}: {source.get('title', '')}"
        if source.get("published"):
            text += f" ({source['published']})"
        if source.get("url"):
            text += f" {source['url']}"
        parts.append(text)
    return SOURCES_SEPARATOR.join(parts) or None


def parse_event_in(data: Any) -> EventIn:
    """Validate client data as :class:`EventIn`; raise the domain :class:`ValidationError` naming each field."""
    if isinstance(data, EventIn):
        return data
    if not isinstance(data, dict):
        raise ValidationError([FieldProblem("", f"an event must be a JSON object, got {type(data).__name__}")])
    try:
        return EventIn.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(problems_of(exc)) from None


def problems_of(exc: pydantic.ValidationError) -> list[FieldProblem]:
    """Turn pydantic's errors into field problems with readable messages."""
    problems = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown field; allowed: {', '.join(EventIn.model_fields)}"
        problems.append(FieldProblem(field, message))
    return problems


def to_feature(event: Event, *, with_source_record: bool = False) -> dict[str, Any]:
    """The event as a GeoJSON Feature dict (Point geometry in CRS84).

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> e = Event(id="x-1", date_start="2020-10-04", lon=46.75, lat=39.82, event_type="Battles",
    ...           sub_event_type="Armed clash", claimed_by="MoD", sources=[{"publisher": "p", "title": "t"}],
    ...           created_at=datetime(2020, 10, 5, tzinfo=UTC), updated_at=datetime(2020, 10, 5, tzinfo=UTC),
    ...           created_by="seed", updated_by="seed")
    >>> f = to_feature(e)
    >>> f["geometry"], f["properties"]["date_end"]
    ({'type': 'Point', 'coordinates': [46.75, 39.82]}, '2020-10-04')

    """
    props = event.model_dump(mode="json", exclude={"id", "lon", "lat"})
    props["sources_text"] = sources_text(props["sources"])
    if not with_source_record:
        props.pop("source_record", None)
    return {
        "type": "Feature",
        "id": event.id,
        "geometry": {"type": "Point", "coordinates": [event.lon, event.lat]},
        "properties": props,
    }
