"""Import UCDP GED CSV, ACLED CSV, GeoJSON and seed JSON files into the event store.

Every source row becomes an :class:`EventIn` whose id derives from the source's own id (``ucdp-<id>``,
``acled-<event_id_cnty>``), so importing a file twice adds nothing. The row is kept verbatim in
``source_record``. Rows that fail validation are listed (line, field, reason) and not written; the rest are
written one transaction per batch, so an interrupted import never leaves a batch half-written.

Mappings that are not one-to-one (documented here because they lose precision in the typed fields; the
original values stay in ``source_record``):

- UCDP ``type_of_violence`` 1 (state-based) and 2 (non-state) -> ACLED ``Battles`` / ``Armed clash``;
  3 (one-sided) -> ``Violence against civilians`` / ``Attack``.
- ACLED ``time_precision`` 1/2/3 (day/week/month) -> UCDP ``date_prec`` 1/3/4.
- ACLED ``geo_precision`` 1/2/3 (town/near town/region) -> UCDP ``where_prec`` 1/2/4.
- Imported events start as ``verification = "reported"``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.events.auth import Actor, import_actor
from app.events.errors import ValidationError
from app.events.model import SERVER_FIELDS, EventIn, parse_event_in
from app.events.service import EventService

FORMATS = ("ucdp", "acled", "geojson", "seed")
MAX_FILE_BYTES = 2_000_000_000
UCDP_REQUIRED = frozenset({"id", "type_of_violence", "where_prec", "date_prec", "latitude", "longitude", "best"})
ACLED_REQUIRED = frozenset({"event_id_cnty", "event_date", "event_type", "sub_event_type", "latitude", "longitude"})
_CRS84 = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"}
_UCDP_TYPES = {
    1: ("Battles", "Armed clash"),
    2: ("Battles", "Armed clash"),
    3: ("Violence against civilians", "Attack"),
}
_ACLED_TIME_PREC = {1: 1, 2: 3, 3: 4}
_ACLED_GEO_PREC = {1: 1, 2: 2, 3: 4}


@dataclass(frozen=True)
class Rejection:
    """A row that was not written: its line (CSV) or feature number (GeoJSON, 1-based), field and reason."""

    line: int
    field: str
    reason: str


@dataclass
class ImportReport:
    """What an import did."""

    format: str
    rows: int = 0
    created: int = 0
    existing: int = 0
    rejected: list[Rejection] = field(default_factory=list)


class RowError(ValueError):
    """A source value that cannot be converted; names the source column."""

    def __init__(self, column: str, reason: str) -> None:
        self.column = column
        super().__init__(reason)


Row = tuple[int, EventIn | list[Rejection]]
ProgressCallback = Callable[[int], None]


def detect_format(path: Path) -> str:
    """``ucdp``, ``acled``, ``geojson`` or ``seed``, from the file's first bytes or CSV header."""
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        head = handle.read(65536)
    stripped = head.lstrip()
    if stripped.startswith("{"):
        return "geojson"
    if stripped.startswith("["):
        return "seed"
    header = set(next(csv.reader(io.StringIO(head)), []))
    if ACLED_REQUIRED <= header:
        return "acled"
    if UCDP_REQUIRED <= header:
        return "ucdp"
    raise ValidationError(
        f"format: cannot tell the format of {path.name}: not JSON, and the CSV header has neither the UCDP GED "
        f"columns ({', '.join(sorted(UCDP_REQUIRED))}) nor the ACLED ones ({', '.join(sorted(ACLED_REQUIRED))})"
    )


def import_file(
    service: EventService,
    path: Path,
    fmt: str | None = None,
    actor: Actor | None = None,
    batch_size: int = 500,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a file; see the module docstring. ``on_progress(n)`` is called with the rows read so far."""
    if fmt is not None and fmt not in FORMATS:
        raise ValidationError(f"format: {fmt!r} is not supported; choose one of {', '.join(FORMATS)}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationError(f"file: {path.name} is larger than {MAX_FILE_BYTES} bytes")
    fmt = fmt or detect_format(path)
    report = ImportReport(fmt)
    actor = actor or import_actor(fmt)
    batch: list[EventIn] = []
    for _line, parsed in read_rows(path, fmt):
        report.rows += 1
        if isinstance(parsed, list):
            report.rejected.extend(parsed)
        else:
            batch.append(parsed)
        if len(batch) >= batch_size:
            _flush(service, actor, batch, report)
        if on_progress is not None:
            on_progress(report.rows)
    _flush(service, actor, batch, report)
    return report


def _flush(service: EventService, actor: Actor, batch: list[EventIn], report: ImportReport) -> None:
    if batch:
        result = service.write_batch(actor, batch, action=f"import:{report.format}")
        report.created += len(result.created)
        report.existing += len(result.existing)
        batch.clear()


def read_rows(path: Path, fmt: str) -> Iterator[Row]:
    """``(line, EventIn or rejections)`` for every row of the file."""
    if fmt in ("geojson", "seed"):
        yield from _json_rows(path, fmt)
        return
    convert = _ucdp_event if fmt == "ucdp" else _acled_event
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for record in reader:
            yield reader.line_num, _convert(reader.line_num, record, convert)


def _convert(line: int, record: Mapping[str, Any], convert: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Any:
    try:
        return parse_event_in(convert(record))
    except RowError as exc:
        return [Rejection(line, exc.column, str(exc))]
    except ValidationError as exc:
        return [Rejection(line, p.field, p.message) for p in exc.problems]


# -- UCDP GED -------------------------------------------------------------------------------------------------------
def _ucdp_event(row: Mapping[str, Any]) -> dict[str, Any]:
    ucdp_id = _text(row, "id", required=True)
    violence = _int(row, "type_of_violence")
    if violence not in _UCDP_TYPES:
        raise RowError("type_of_violence", f"must be 1, 2 or 3, got {violence}")
    event_type, sub_event_type = _UCDP_TYPES[violence]
    headline = _text(row, "source_headline") or _text(row, "source_article")
    sources: list[dict[str, Any]] = [
        {"publisher": "UCDP Georeferenced Event Dataset", "title": f"UCDP GED event {ucdp_id}"}
    ]
    if headline:
        sources.insert(
            0,
            {
                "publisher": (_text(row, "source_office") or "unnamed outlet")[:300],
                "title": headline[:1000],
                "published": _date(row, "source_date", required=False),
            },
        )
    return {
        "id": f"ucdp-{ucdp_id}",
        "date_start": _date(row, "date_start"),
        "date_end": _date(row, "date_end"),
        "date_precision": _int(row, "date_prec"),
        "lon": _float(row, "longitude"),
        "lat": _float(row, "latitude"),
        "location_precision": _int(row, "where_prec"),
        "place_name": _text(row, "where_coordinates"),
        "country": _text(row, "country"),
        "admin1": _text(row, "adm_1"),
        "admin2": _text(row, "adm_2"),
        "event_type": event_type,
        "sub_event_type": sub_event_type,
        "actors": [a for a in (_text(row, "side_a"), _text(row, "side_b")) if a],
        "claimed_by": (_text(row, "source_office") or "UCDP GED")[:300],
        "fatalities_best": _int(row, "best"),
        "fatalities_low": _int(row, "low", required=False),
        "fatalities_high": _int(row, "high", required=False),
        "sources": sources,
        "source_record": dict(row),
    }


# -- ACLED ----------------------------------------------------------------------------------------------------------
def _acled_event(row: Mapping[str, Any]) -> dict[str, Any]:
    event_id = _text(row, "event_id_cnty", required=True)
    when = _acled_date(row)
    time_prec, geo_prec = _int(row, "time_precision"), _int(row, "geo_precision")
    if time_prec not in _ACLED_TIME_PREC:
        raise RowError("time_precision", f"must be 1, 2 or 3, got {time_prec}")
    if geo_prec not in _ACLED_GEO_PREC:
        raise RowError("geo_precision", f"must be 1, 2 or 3, got {geo_prec}")
    outlets = [s.strip() for s in (_text(row, "source") or "").split(";") if s.strip()] or ["ACLED"]
    title = f"ACLED {event_id}: {_text(row, 'sub_event_type')} in {_text(row, 'location') or 'unnamed place'}"
    actors = [_text(row, "actor1"), _text(row, "actor2")]
    for column in ("assoc_actor_1", "assoc_actor_2"):
        actors.extend(a.strip() for a in (_text(row, column) or "").split(";"))
    return {
        "id": f"acled-{event_id}",
        "date_start": when,
        "date_precision": _ACLED_TIME_PREC[time_prec],
        "lon": _float(row, "longitude"),
        "lat": _float(row, "latitude"),
        "location_precision": _ACLED_GEO_PREC[geo_prec],
        "place_name": _text(row, "location"),
        "country": _text(row, "country"),
        "admin1": _text(row, "admin1"),
        "admin2": _text(row, "admin2"),
        "event_type": _text(row, "event_type"),
        "sub_event_type": _text(row, "sub_event_type"),
        "actors": [a for a in actors if a],
        "claimed_by": "; ".join(outlets)[:300],
        "fatalities_best": _int(row, "fatalities", required=False),
        "sources": [{"publisher": o[:300], "title": title[:1000], "published": when} for o in outlets[:50]],
        "notes": _text(row, "notes"),
        "source_record": dict(row),
    }


def _acled_date(row: Mapping[str, Any]) -> str:
    value = _text(row, "event_date", required=True) or ""
    for pattern in ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    raise RowError("event_date", f"{value!r} is not a date (YYYY-MM-DD or '04 October 2020')")


# -- GeoJSON and seed JSON -------------------------------------------------------------------------------------------
def _json_rows(path: Path, fmt: str) -> Iterator[Row]:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"file: {path.name} is not valid JSON: {exc}") from None
    if fmt == "seed":
        if not isinstance(document, list):
            raise ValidationError("file: a seed file must be a JSON list of event objects")
        for number, item in enumerate(document, start=1):
            yield number, _convert(number, item if isinstance(item, dict) else {"": item}, dict)
        return
    for number, feature in enumerate(_features(document), start=1):
        yield number, _convert(number, feature, _geojson_event)


def _features(document: Any) -> list[Any]:
    if not isinstance(document, dict) or document.get("type") not in ("FeatureCollection", "Feature"):
        raise ValidationError("file: GeoJSON must be a FeatureCollection or a Feature")
    crs = document.get("crs")
    if crs is not None:
        name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
        if name not in _CRS84:
            raise ValidationError(f"crs: {name!r} is not supported; GeoJSON must be in CRS84 (lon/lat WGS 84)")
    features = document.get("features") if document["type"] == "FeatureCollection" else [document]
    if not isinstance(features, list):
        raise ValidationError("features: must be a list")
    return features


def _geojson_event(feature: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise RowError("type", "each item must be a GeoJSON Feature")
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
        raise RowError("geometry", "must be a Point (events are points)")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list | tuple) or len(coords) not in (2, 3):
        raise RowError("geometry", "a Point needs [lon, lat] coordinates")
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        raise RowError("properties", "must be an object")
    data = {k: v for k, v in props.items() if k not in SERVER_FIELDS}
    event_id = feature.get("id", props.get("id"))
    if event_id is None:
        raise RowError("id", "a feature needs an id, so that importing it again adds nothing")
    data.update(id=str(event_id), lon=coords[0], lat=coords[1])
    return data


# -- cell converters -------------------------------------------------------------------------------------------------
def _text(row: Mapping[str, Any], column: str, required: bool = False) -> str | None:
    value = row.get(column)
    value = value.strip() if isinstance(value, str) else value
    if value in (None, ""):
        if required:
            raise RowError(column, "is empty")
        return None
    return str(value)


def _int(row: Mapping[str, Any], column: str, required: bool = True) -> int | None:
    value = _text(row, column, required)
    if value is None:
        return None
    try:
        return int(float(value)) if float(value).is_integer() else int(value)
    except ValueError:
        raise RowError(column, f"{value!r} is not a whole number") from None


def _float(row: Mapping[str, Any], column: str) -> float:
    value = _text(row, column, required=True)
    try:
        return float(value)  # type: ignore[arg-type]
    except ValueError:
        raise RowError(column, f"{value!r} is not a number") from None


def _date(row: Mapping[str, Any], column: str, required: bool = True) -> str | None:
    value = _text(row, column, required)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        if not required:
            return None
        raise RowError(column, f"{value!r} is not a date (YYYY-MM-DD)") from None
