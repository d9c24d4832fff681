"""Non-JSON encodings of features: CSV with WKT geometry."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import shapely

from app.spreadsheet import neutralise


def features_to_csv(features: list[dict[str, Any]]) -> str:
    """CSV of the features: ``id``, every property (union over the page, in order of appearance), ``wkt``.

    Text cells that a spreadsheet would run as a formula are prefixed with an apostrophe.

    Examples
    --------
    >>> print(features_to_csv([{"id": "a", "geometry": {"type": "Point", "coordinates": [46.75, 39.8]},
    ...                          "properties": {"id": "a", "name": "Shusha"}}]).strip())
    id,name,wkt
    a,Shusha,POINT (46.75 39.8)
    >>> print(features_to_csv([{"id": "e", "geometry": None, "properties": {"actors": ["A", "B"]}}]).splitlines()[1])
    e,"[""A"", ""B""]",

    """
    columns: dict[str, None] = {"id": None}
    for feature in features:
        columns.update(dict.fromkeys(feature.get("properties") or {}))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*columns, "wkt"])
    for feature in features:
        props = {**(feature.get("properties") or {}), "id": feature.get("id")}
        geometry = feature.get("geometry")
        wkt = shapely.geometry.shape(geometry).wkt if geometry else ""
        writer.writerow([_cell(props.get(c)) for c in columns] + [wkt])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):  # actors, sources, zones: JSON, which spreadsheets and scripts can read
        value = json.dumps(value, ensure_ascii=False)
    return neutralise(value)
