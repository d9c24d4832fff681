"""The three analyses end to end (parse, check, compute, describe), shared by the HTTP router and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from app.analysis import output
from app.analysis.classify import classify
from app.analysis.errors import UnsupportedMediaType
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
) -> dict[str, Any]:
    """Overlap of a GeoJSON body with the zones, with the population caveat."""
    selected = [layer.id for layer in index.select(layers)]
    features = read_features(parse_json(body), limits, repair=repair)
    result = overlap(index, features, selected, population, on_progress)
    return {"layers": selected, **result.as_dict(include_pieces), "population": population_meta(population)}


def read_points(body: bytes, media_type: str, limits: Limits) -> Points:
    """Points from a CSV or GeoJSON body, by media type."""
    kind = media_type.split(";")[0].strip().lower()
    if kind in CSV_TYPES:
        return read_csv_points(body, limits)
    if kind in JSON_TYPES or not kind:
        return read_geojson_points(parse_json(body), limits)
    raise UnsupportedMediaType(f"cannot read a body of type {kind!r}; send {', '.join(sorted(JSON_TYPES | CSV_TYPES))}")


def run_classify(
    index: ZoneIndex,
    points: Points,
    fmt: OutputFormat = OutputFormat.GEOJSON,
    layers: list[str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any] | str:
    """Classify points and render them in ``fmt`` (a dict for GeoJSON/JSON, text for CSV)."""
    selected = [layer.id for layer in index.select(layers)]
    result = classify(index, points.lon, points.lat, points.radius_m, selected, on_progress=on_progress)
    if fmt is OutputFormat.CSV:
        return output.as_csv(index, points, result)
    meta = {"layers": selected, "notes": result.notes}
    render = output.as_geojson if fmt is OutputFormat.GEOJSON else output.as_json
    return render(index, points, result, meta)


def run_summary(
    index: ZoneIndex,
    layer_id: str,
    population: PopulationRaster | None = None,
    counter: EventCounter | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """Per-zone summary with the population caveat."""
    return zone_summary(index, layer_id, population, counter, start, end) | {"population": population_meta(population)}
