"""Classification results as GeoJSON, JSON or CSV.

Each input point comes back with its id and properties, plus ``zones`` (layer id -> the zones containing the
point, by id and name), ``membership`` (layer id -> zone id -> ``inside`` / ``possibly inside``; zones not
listed are outside), ``iran_border_km``, ``line_of_contact_km`` and ``nearest_place``. In GeoJSON these are
members of ``properties`` and replace input properties of the same name. In CSV, ``zones_<layer>`` holds
``;``-separated zone ids and ``membership_<layer>`` ``id:status`` pairs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from app.analysis.classify import Classification, Membership
from app.analysis.inputs import Points
from app.layerstore.zones import ZoneIndex, ZoneLayer

RESULT_FIELDS = ("zones", "membership", "iran_border_km", "line_of_contact_km", "nearest_place")


class OutputFormat(StrEnum):
    """Formats of a classification."""

    GEOJSON = "geojson"
    JSON = "json"
    CSV = "csv"


def _codes(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One code per column of a small-integer matrix, and the distinct columns (``unique[:, code]``)."""
    if matrix.shape[1] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((matrix.shape[0], 0), dtype=matrix.dtype)
    unique, inverse = np.unique(matrix, axis=1, return_inverse=True)
    return inverse.reshape(-1), unique


class _LayerLabels:
    """Per layer, the JSON value and CSV text of each distinct combination of zones (computed once each)."""

    def __init__(self, layer: ZoneLayer, result: Classification) -> None:
        self.layer = layer
        combined = result.membership[layer.id].astype(np.int16) * 2 + result.contains[layer.id]
        self.code, self.unique = _codes(combined)
        self.zones_json: list[list[dict[str, str]]] = []
        self.membership_json: list[dict[str, str]] = []
        for column in self.unique.T:
            contains = np.flatnonzero(column % 2)
            states = column // 2
            self.zones_json.append([layer.zones[z].as_dict() for z in contains])
            self.membership_json.append(
                {layer.zones[z].id: Membership(int(states[z])).label for z in np.flatnonzero(states)}
            )

    def csv_columns(self) -> dict[str, np.ndarray]:
        zones = np.array([";".join(z["id"] for z in combo) for combo in self.zones_json], dtype=object)
        membership = np.array(
            [";".join(f"{k}:{v}" for k, v in combo.items()) for combo in self.membership_json], dtype=object
        )
        return {f"zones_{self.layer.id}": zones[self.code], f"membership_{self.layer.id}": membership[self.code]}


def _rounded(values: np.ndarray | None) -> list[float | None]:
    if values is None:
        return []
    return np.round(values, 3).tolist()


def records(index: ZoneIndex, points: Points, result: Classification) -> Iterator[dict[str, Any]]:
    """One result dict per point: ``id``, ``lon``, ``lat``, ``properties`` and the result fields."""
    labels = [_LayerLabels(layer, result) for layer in result.layers]
    iran, line = _rounded(result.iran_border_km), _rounded(result.line_of_contact_km)
    place_km = _rounded(result.nearest_place_km)
    places = _place_refs(index)
    props = points.properties
    rows = props.to_dict("records") if isinstance(props, pd.DataFrame) else props
    for i in range(len(points)):
        yield {
            "id": points.ids[i],
            "lon": float(points.lon[i]),
            "lat": float(points.lat[i]),
            "properties": rows[i],
            "zones": {lab.layer.id: lab.zones_json[lab.code[i]] for lab in labels},
            "membership": {lab.layer.id: lab.membership_json[lab.code[i]] for lab in labels},
            "iran_border_km": iran[i] if iran else None,
            "line_of_contact_km": line[i] if line else None,
            "nearest_place": (
                places[int(result.nearest_place[i])] | {"distance_km": place_km[i]}
                if result.nearest_place is not None
                else None
            ),
        }


def _place_refs(index: ZoneIndex) -> list[dict[str, Any]]:
    if index.places is None:
        return []
    frame = index.places
    names = frame["name"] if "name" in frame.columns else frame["id"]
    countries = frame["country"] if "country" in frame.columns else [None] * len(frame)
    return [
        {"id": str(i), "name": str(n), "country": None if c is None else str(c)}
        for i, n, c in zip(frame["id"], names, countries, strict=True)
    ]


def as_geojson(index: ZoneIndex, points: Points, result: Classification, meta: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection of the points, results merged into ``properties``."""
    features = []
    for rec in records(index, points, result):
        properties = dict(rec["properties"]) | {k: rec[k] for k in RESULT_FIELDS}
        features.append(
            {
                "type": "Feature",
                "id": rec["id"],
                "geometry": {"type": "Point", "coordinates": [rec["lon"], rec["lat"]]},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features, **meta}


def as_json(index: ZoneIndex, points: Points, result: Classification, meta: dict[str, Any]) -> dict[str, Any]:
    """``{"points": [...records...], **meta}``."""
    return {"points": list(records(index, points, result)), **meta}


def as_csv(index: ZoneIndex, points: Points, result: Classification) -> str:
    """The input columns (for GeoJSON input: id, lon, lat and the properties) plus the result columns."""
    props = points.properties
    if isinstance(props, pd.DataFrame):
        frame = props.copy()
    else:
        frame = pd.DataFrame({"id": list(points.ids), "longitude": points.lon, "latitude": points.lat})
        frame = frame.join(pd.DataFrame.from_records(props, index=frame.index), rsuffix="_input") if props else frame
    for labels in (_LayerLabels(layer, result) for layer in result.layers):
        for name, column in labels.csv_columns().items():
            frame[name] = column
    for name, km in (("iran_border_km", result.iran_border_km), ("line_of_contact_km", result.line_of_contact_km)):
        if km is not None:
            frame[name] = np.round(km, 3)
    if result.nearest_place is not None and index.places is not None:
        refs = index.places.iloc[result.nearest_place]
        frame["nearest_place_id"] = refs["id"].astype(str).to_numpy()
        frame["nearest_place_name"] = refs["name"].astype(str).to_numpy() if "name" in refs else ""
        frame["nearest_place_km"] = (
            np.round(result.nearest_place_km, 3) if result.nearest_place_km is not None else None
        )
    buffer = io.StringIO()
    _spreadsheet_safe(frame).to_csv(buffer, index=False)
    return buffer.getvalue()


#: A text cell starting with one of these is run as a formula by spreadsheets (``=HYPERLINK(...)``).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when a spreadsheet would run it as a formula (numbers such as ``-1.5`` stay).

    >>> safe_cell("=HYPERLINK(A1)"), safe_cell("-46.5"), safe_cell("@SUM(A1)"), safe_cell(3)
    ("'=HYPERLINK(A1)", '-46.5', "'@SUM(A1)", 3)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell and column name neutralised by :func:`safe_cell`."""
    safe = frame.rename(columns=lambda name: safe_cell(str(name)))
    for column in safe.select_dtypes(include="object").columns:
        safe[column] = safe[column].map(safe_cell)
    return safe
