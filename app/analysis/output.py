"""Classification results as GeoJSON, JSON or CSV (the table also feeds XLSX and GeoPackage).

Each input point comes back with its id and properties, plus ``zones`` (layer id -> the zones containing the
point, by id and readable name: area, unit, who controlled it and since when), ``possibly`` (layer id -> the
zones the point is only possibly in, within its precision plus the layer's accuracy), ``membership`` (layer id
-> zone id -> ``inside`` / ``possibly inside``; zones not listed are outside), ``iran_border_km`` and
``line_of_contact_km`` with their ``*_margin_km``, and ``nearest_place``. In GeoJSON these are members of
``properties`` and replace input properties of the same name. In CSV, ``zones_<layer>`` holds ``;``-separated
zone ids, ``zone_names_<layer>`` and ``possibly_<layer>`` their names, and ``membership_<layer>`` ``id:status``
pairs; text cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from app.analysis.classify import Classification, Membership
from app.analysis.dated import LayerInfos
from app.analysis.inputs import Points
from app.layerstore.zones import ZoneIndex, ZoneLayer
from app.spreadsheet import neutralise

RESULT_FIELDS = (
    "zones",
    "possibly",
    "membership",
    "iran_border_km",
    "iran_border_margin_km",
    "line_of_contact_km",
    "line_of_contact_margin_km",
    "nearest_place",
)


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are :func:`neutralise` d."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


class OutputFormat(StrEnum):
    """Formats of a classification."""

    GEOJSON = "geojson"
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    GPKG = "gpkg"
    PNG = "png"

    @property
    def is_binary(self) -> bool:
        """True for the formats answered as bytes (XLSX, GeoPackage, PNG)."""
        return self in (OutputFormat.XLSX, OutputFormat.GPKG, OutputFormat.PNG)


def _codes(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One code per column of a small-integer matrix, and the distinct columns (``unique[:, code]``)."""
    if matrix.shape[1] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((matrix.shape[0], 0), dtype=matrix.dtype)
    unique, inverse = np.unique(matrix, axis=1, return_inverse=True)
    return inverse.reshape(-1), unique


class _LayerLabels:
    """Per layer, the JSON value and CSV text of each distinct combination of zones (computed once each)."""

    def __init__(self, layer: ZoneLayer, result: Classification, infos: LayerInfos | None = None) -> None:
        self.layer = layer
        info = (infos or LayerInfos()).get(layer.id)
        combined = result.membership[layer.id].astype(np.int16) * 2 + result.contains[layer.id]
        self.code, self.unique = _codes(combined)
        self.zones_json: list[list[dict[str, str]]] = []
        self.membership_json: list[dict[str, str]] = []
        self.possibly_json: list[list[dict[str, str]]] = []
        for column in self.unique.T:
            contains = np.flatnonzero(column % 2)
            states = column // 2
            self.zones_json.append([info.describe(int(z), layer.zones[z]) for z in contains])
            near = np.flatnonzero(states == Membership.POSSIBLY_INSIDE)
            self.possibly_json.append([info.describe(int(z), layer.zones[z]) for z in near])
            self.membership_json.append(
                {layer.zones[z].id: Membership(int(states[z])).label for z in np.flatnonzero(states)}
            )

    def csv_columns(self) -> dict[str, np.ndarray]:
        zones = np.array([";".join(z["id"] for z in combo) for combo in self.zones_json], dtype=object)
        membership = np.array(
            [";".join(f"{k}:{v}" for k, v in combo.items()) for combo in self.membership_json], dtype=object
        )
        names = np.array([";".join(z["name"] for z in combo) for combo in self.zones_json], dtype=object)
        possibly = np.array([";".join(z["name"] for z in combo) for combo in self.possibly_json], dtype=object)
        return {
            f"zones_{self.layer.id}": zones[self.code],
            f"zone_names_{self.layer.id}": names[self.code],
            f"possibly_{self.layer.id}": possibly[self.code],
            f"membership_{self.layer.id}": membership[self.code],
        }


def _rounded(values: np.ndarray | None) -> list[float | None]:
    if values is None:
        return []
    return np.round(values, 3).tolist()


def records(
    index: ZoneIndex, points: Points, result: Classification, infos: LayerInfos | None = None
) -> Iterator[dict[str, Any]]:
    """One result dict per point: ``id``, ``lon``, ``lat``, ``properties`` and the result fields."""
    labels = [_LayerLabels(layer, result, infos) for layer in result.layers]
    iran, line = _rounded(result.iran_border_km), _rounded(result.line_of_contact_km)
    iran_margin, line_margin = _rounded(result.iran_border_margin_km), _rounded(result.line_of_contact_margin_km)
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
            "possibly": {lab.layer.id: lab.possibly_json[lab.code[i]] for lab in labels},
            "membership": {lab.layer.id: lab.membership_json[lab.code[i]] for lab in labels},
            "iran_border_km": iran[i] if iran else None,
            "iran_border_margin_km": iran_margin[i] if iran_margin else None,
            "line_of_contact_km": line[i] if line else None,
            "line_of_contact_margin_km": line_margin[i] if line_margin else None,
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


def as_geojson(
    index: ZoneIndex, points: Points, result: Classification, meta: dict[str, Any], infos: LayerInfos | None = None
) -> dict[str, Any]:
    """A FeatureCollection of the points, results merged into ``properties``."""
    features = []
    for rec in records(index, points, result, infos):
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


def as_json(
    index: ZoneIndex, points: Points, result: Classification, meta: dict[str, Any], infos: LayerInfos | None = None
) -> dict[str, Any]:
    """``{"points": [...records...], **meta}``."""
    return {"points": list(records(index, points, result, infos)), **meta}


def as_csv(index: ZoneIndex, points: Points, result: Classification, infos: LayerInfos | None = None) -> str:
    """The input columns (for GeoJSON input: id, lon, lat and the properties) plus the result columns."""
    buffer = io.StringIO()
    neutralised(as_frame(index, points, result, infos)).to_csv(buffer, index=False)
    return buffer.getvalue()


def as_frame(index: ZoneIndex, points: Points, result: Classification, infos: LayerInfos | None = None) -> pd.DataFrame:
    """The table of :func:`as_csv`: input columns, then zones, readable names, membership and distances."""
    props = points.properties
    if isinstance(props, pd.DataFrame):
        frame = props.copy()
    else:
        frame = pd.DataFrame({"id": list(points.ids), "longitude": points.lon, "latitude": points.lat})
        frame = frame.join(pd.DataFrame.from_records(props, index=frame.index), rsuffix="_input") if props else frame
    for labels in (_LayerLabels(layer, result, infos) for layer in result.layers):
        for name, column in labels.csv_columns().items():
            frame[name] = column
    for name, km in (
        ("iran_border_km", result.iran_border_km),
        ("iran_border_margin_km", result.iran_border_margin_km),
        ("line_of_contact_km", result.line_of_contact_km),
        ("line_of_contact_margin_km", result.line_of_contact_margin_km),
    ):
        if km is not None:
            frame[name] = np.round(km, 3)
    if result.nearest_place is not None and index.places is not None:
        refs = index.places.iloc[result.nearest_place]
        frame["nearest_place_id"] = refs["id"].astype(str).to_numpy()
        frame["nearest_place_name"] = refs["name"].astype(str).to_numpy() if "name" in refs else ""
        frame["nearest_place_km"] = (
            np.round(result.nearest_place_km, 3) if result.nearest_place_km is not None else None
        )
    return frame
