"""The three analyses end to end (parse, check, compute, describe), shared by the HTTP router and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from app.analysis import caveats, figures, output, writers
from app.analysis.classify import Classification, classify
from app.analysis.dated import LayerInfos, Period, change_days, is_dated, parse_period
from app.analysis.errors import InvalidParameter, UnsupportedMediaType
from app.analysis.inputs import Points, parse_json, read_csv_points, read_features, read_geojson_points
from app.analysis.limits import Limits
from app.analysis.output import OutputFormat
from app.analysis.overlap import overlap
from app.analysis.population import PopulationRaster
from app.analysis.summary import EventCounter, zone_summary
from app.layerstore.zones import ZoneIndex

ProgressCallback = Callable[[int], None]
CSV_TYPES = frozenset({"text/csv", "application/csv"})
JSON_TYPES = frozenset({"application/json", "application/geo+json"})


def population_meta(raster: PopulationRaster | None) -> dict[str, Any]:
    """The ``population`` member of a response: source, method and caveat, or why there is none."""
    if raster is None:
        return {
            "source": None,
            "caveat": "no population raster is configured (CZMAP_POPULATION_RASTER): population is omitted",
        }
    return raster.info.as_dict()


def run_overlap(
    index: ZoneIndex,
    body: bytes,
    limits: Limits,
    layers: list[str] | None = None,
    repair: bool = False,
    include_pieces: bool = False,
    population: PopulationRaster | None = None,
    on_progress: ProgressCallback | None = None,
    period: Period | None = None,
    infos: LayerInfos | None = None,
) -> dict[str, Any]:
    """Overlap of a GeoJSON body with the zones valid on a day, with the caveats that apply.

    For an interval, ``days`` holds one answer per stretch of days over which no selected dated zone changes.
    """
    period = period or parse_period(None)
    infos = infos or LayerInfos()
    layer_objs = index.select(layers)
    selected = [layer.id for layer in layer_objs]
    features = read_features(parse_json(body, limits.check_vertices), limits, repair=repair)
    days = change_days(layer_objs, period)
    answers = []
    for n, day in enumerate(days):
        result = overlap(index, features, selected, population, on_progress if n == 0 else None, day, infos)
        last = days[n + 1] - timedelta(days=1) if n + 1 < len(days) else period.end
        answers.append({"period_from": str(day), "period_to": str(last), **result.as_dict(include_pieces)})
    notes = [
        *caveats.period_caveats(period, layer_objs),
        *caveats.layer_caveats(layer_objs, infos),
        *caveats.population_caveats(population),
    ]
    if any(row.get("area_margin_km2") for answer in answers for row in answer["overlaps"]):
        notes.append("area_margin_km2: length of the zone edge inside the area times the layer's accuracy")
    head = {"layers": selected, **period.as_dict()}
    if period.is_day:
        answer = answers[0]
        answer.pop("period_from"), answer.pop("period_to")
        body_out = answer | {"notes": answer["notes"] + notes}
    else:
        body_out = {"days": answers, "notes": notes}
    return head | body_out | {"population": population_meta(population)}


def read_points(body: bytes, media_type: str, limits: Limits) -> Points:
    """Points from a CSV or GeoJSON body, by media type."""
    kind = media_type.split(";")[0].strip().lower()
    if kind in CSV_TYPES:
        return read_csv_points(body, limits)
    if kind in JSON_TYPES or not kind:
        return read_geojson_points(parse_json(body, limits.check_rows), limits)
    raise UnsupportedMediaType(f"cannot read a body of type {kind!r}; send {', '.join(sorted(JSON_TYPES | CSV_TYPES))}")


def run_classify(
    index: ZoneIndex,
    points: Points,
    fmt: OutputFormat = OutputFormat.GEOJSON,
    layers: list[str] | None = None,
    on_progress: ProgressCallback | None = None,
    period: Period | None = None,
    infos: LayerInfos | None = None,
) -> dict[str, Any] | str | bytes:
    """Classify points on a day (or each stretch of days of an interval) and render them in ``fmt``.

    A dict for GeoJSON/JSON, text for CSV, bytes for XLSX, GeoPackage and PNG (one day only). For an interval,
    the answer has one part per stretch of days over which no selected dated zone changes (``period_from`` ..
    ``period_to``, inclusive), in date order.
    """
    period = period or parse_period(None)
    infos = infos or LayerInfos()
    selected = index.select(layers)
    if fmt is OutputFormat.PNG and not period.is_day:
        raise InvalidParameter("format", "png maps one day: give datetime as a single day")
    days = change_days(selected, period)
    parts = []
    for n, day in enumerate(days):
        last = days[n + 1] - timedelta(days=1) if n + 1 < len(days) else period.end
        result = classify(
            index,
            points.lon,
            points.lat,
            points.radius_m,
            [layer.id for layer in selected],
            on_progress=on_progress if n == 0 else None,
            day=day,
            accuracy_m={lid: infos.accuracy_m(lid) for lid in infos.layers},
        )
        parts.append((day, last, result))
    notes = _classify_notes(points, parts[-1][2], period, infos)
    meta = {"layers": [layer.id for layer in selected], **period.as_dict(), "notes": notes}
    return _render(index, points, parts, fmt, meta, infos, period.is_day)


def _classify_notes(points: Points, result: Classification, period: Period, infos: LayerInfos) -> list[str]:
    ids = list(points.ids)
    return [
        *result.notes,
        *caveats.period_caveats(period, result.layers),
        *caveats.layer_caveats(result.layers, infos),
        *caveats.near_edge_caveats(result, infos, points.radius_m),
        *caveats.outside_caveats(result, ids),
        *caveats.distance_caveats(result),
    ]


def _render(
    index: ZoneIndex,
    points: Points,
    parts: list[tuple[Any, Any, Classification]],
    fmt: OutputFormat,
    meta: dict[str, Any],
    infos: LayerInfos,
    single_day: bool,
) -> dict[str, Any] | str | bytes:
    if fmt is OutputFormat.PNG:
        day, _, result = parts[0]
        layer = next((lay for lay in result.layers if is_dated(lay)), result.layers[0])
        return figures.sites_png(layer, points.lon, points.lat, result, infos, meta, day)
    if fmt in (OutputFormat.CSV, OutputFormat.XLSX, OutputFormat.GPKG):
        return _table(index, points, parts, fmt, meta, infos, single_day)
    if single_day:
        result = parts[0][2]
        render = output.as_geojson if fmt is OutputFormat.GEOJSON else output.as_json
        return render(index, points, result, meta, infos)
    if fmt is OutputFormat.GEOJSON:
        features = []
        for first, last, result in parts:
            for feature in output.as_geojson(index, points, result, {}, infos)["features"]:
                feature["id"] = f"{feature['id']}@{first}"
                feature["properties"] |= {"period_from": str(first), "period_to": str(last)}
                features.append(feature)
        return {"type": "FeatureCollection", "features": features, **meta}
    periods = [
        {"period_from": str(first), "period_to": str(last), **output.as_json(index, points, result, {}, infos)}
        for first, last, result in parts
    ]
    return {"periods": periods, **meta}


def _table(
    index: ZoneIndex,
    points: Points,
    parts: list[tuple[Any, Any, Classification]],
    fmt: OutputFormat,
    meta: dict[str, Any],
    infos: LayerInfos,
    single_day: bool,
) -> str | bytes:
    frames = []
    for first, last, result in parts:
        frame = output.as_frame(index, points, result, infos)
        frames.append(frame if single_day else frame.assign(period_from=str(first), period_to=str(last)))
    table = pd.concat(frames, ignore_index=True)
    if fmt is OutputFormat.CSV:
        return output.neutralised(table).to_csv(index=False)
    if fmt is OutputFormat.XLSX:
        return writers.as_xlsx(table, meta)
    return writers.as_gpkg(table, np.tile(points.lon, len(parts)), np.tile(points.lat, len(parts)), meta)


def run_summary(
    index: ZoneIndex,
    layer_id: str,
    population: PopulationRaster | None = None,
    counter: EventCounter | None = None,
    start: date | None = None,
    end: date | None = None,
    period: Period | None = None,
    infos: LayerInfos | None = None,
) -> dict[str, Any]:
    """Per-zone summary of the zones valid on a day (the last day of an interval), with the caveats."""
    period = period or parse_period(None)
    infos = infos or LayerInfos()
    out = zone_summary(index, layer_id, population, counter, start, end, period.end, infos)
    layers = index.select([layer_id])
    out["notes"] += [
        *caveats.period_caveats(Period(period.end, period.end, period.default), layers),
        *caveats.layer_caveats(layers, infos),
        *caveats.population_caveats(population),
    ]
    return out | period.as_dict() | {"population": population_meta(population)}
