"""Export events to CSV with an HXL hashtag row, and to GeoJSON (lossless: re-importable)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO, Any

from app.events.model import Event, to_feature
from app.spreadsheet import neutralise

#: (column, HXL hashtag) in CSV order (https://hxlstandard.org/standard/dictionary/).
HXL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "#meta+id"),
    ("date_start", "#date+start"),
    ("date_end", "#date+end"),
    ("date_precision", "#date+precision+code"),
    ("lat", "#geo+lat"),
    ("lon", "#geo+lon"),
    ("location_precision", "#geo+precision+code"),
    ("place_name", "#loc+name"),
    ("geonameid", "#loc+code+geonames"),
    ("country", "#country+name"),
    ("admin1", "#adm1+name"),
    ("admin2", "#adm2+name"),
    ("zones", "#loc+zones"),
    ("event_type", "#event+type"),
    ("sub_event_type", "#event+type+sub"),
    ("actors", "#group+name+list"),
    ("claimed_by", "#org+reported"),
    ("verification", "#status+verification"),
    ("fatalities_best", "#affected+killed"),
    ("fatalities_low", "#affected+killed+min"),
    ("fatalities_high", "#affected+killed+max"),
    ("sources", "#meta+source+list"),
    ("notes", "#description"),
    ("created_at", "#date+created"),
    ("updated_at", "#date+updated"),
    ("created_by", "#meta+author+created"),
    ("updated_by", "#meta+author+updated"),
    ("revision", "#meta+revision"),
)


def write_csv(events: Iterable[Event], out: IO[str]) -> int:
    """Write a header row, the HXL hashtag row and one row per event; return the number of events.

    ``sources`` is a JSON cell: the list of source objects with every field (publisher, title, published, url,
    title_is_descriptive, denial_by), as in the GeoJSON export and the API's CSV. Other lists (actors, zones) are
    joined with ``"; "``. Text cells that a spreadsheet would run as a formula (starting with ``= + - @``) are
    prefixed with ``'``.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in HXL_COLUMNS])
    writer.writerow([tag for _, tag in HXL_COLUMNS])
    count = 0
    for event in events:
        data = event.model_dump(mode="json")
        data["sources"] = json.dumps(data["sources"], ensure_ascii=False)
        writer.writerow([_cell(data[name]) for name, _ in HXL_COLUMNS])
        count += 1
    return count


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return str(neutralise(value))


def write_geojson(events: Iterable[Event], out: IO[str]) -> int:
    """Write a GeoJSON FeatureCollection (features streamed one by one); return the number of events."""
    out.write('{"type": "FeatureCollection", "features": [\n')
    count = 0
    for event in events:
        if count:
            out.write(",\n")
        out.write(json.dumps(to_feature(event, with_source_record=True), ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count
