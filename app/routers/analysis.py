"""HTTP edge of the analysis: ``/analysis/overlap``, ``/analysis/classify``, ``/analysis/zones/{layer}/summary``.

Reads the zone index from the layer store (``app.state.layers.zones``), the limits from the app's settings
(``settings.analysis``), the population raster named by the manifest (unless the settings name another) and an
optional :class:`~app.analysis.summary.EventCounter` from ``app.state.event_counter``. Domain errors become JSON
through the app's one error path (:mod:`app.http.errors`, from :data:`app.analysis.errors.ERROR_STATUS`); query
parameters a route does not declare are refused there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.analysis import service
from app.analysis.dated import DEFAULT_DAY, LayerInfos, Period, layer_infos, parse_period
from app.analysis.errors import InvalidParameter
from app.analysis.figures import truces_png
from app.analysis.output import OutputFormat
from app.analysis.population import PopulationRaster, open_population_raster
from app.analysis.summary import EventCounter
from app.analysis.truces import load_truces, truce_report
from app.errors import StoreUnavailable
from app.events.adapters import StoreEventLister
from app.http import request as http_request
from app.http.etags import check_not_modified, strong_etag
from app.http.response_cache import ResponseStore, keep_response, stored_response
from app.layerstore import LayerStore
from app.layerstore.zones import ZoneIndex
from app.responses import CSVResponse, GeoJSONResponse, JSONResponse
from app.routers.analysis_bodies import CLASSIFY_BODY, OVERLAP_BODY
from app.settings import AnalysisSection

router = APIRouter(
    prefix="/analysis", tags=["Analysis"], dependencies=[Depends(http_request.reject_unknown_parameters)]
)


async def get_settings(request: Request) -> AnalysisSection:
    """The analysis section of the settings the app was created with."""
    section: AnalysisSection = request.app.state.settings.analysis
    return section


async def get_layers(request: Request) -> LayerStore:
    """The layer store (``app.state.layers``), loaded in the lifespan."""
    store = getattr(request.app.state, "layers", None)
    if store is None:
        raise StoreUnavailable("no built layers are loaded: run `czmap geodata build`")
    layers: LayerStore = store
    return layers


async def get_zone_index(layers: Annotated[LayerStore, Depends(get_layers)]) -> ZoneIndex:
    """The layer store's zone index."""
    return layers.zones


def get_population(request: Request) -> PopulationRaster | None:
    """The population raster of the settings, else the one the manifest names; None when there is none."""
    settings: AnalysisSection = request.app.state.settings.analysis
    store = getattr(request.app.state, "layers", None)
    path = settings.population_raster or (store.population_raster if store is not None else None)
    return open_population_raster(path, settings.limits) if path is not None else None


def get_event_counter(request: Request) -> EventCounter | None:
    """The event counter (``app.state.event_counter``), or None."""
    return getattr(request.app.state, "event_counter", None)


def get_layer_infos(layers: Annotated[LayerStore, Depends(get_layers)]) -> LayerInfos:
    """Readable zone names and layer accuracies of the layer store (worked out once per store)."""
    return layer_infos(layers)


DatetimeQuery = Annotated[
    str | None,
    Query(
        description=f"Day the dated layers (control-2020, truces, ceasefire-1994-area) are answered for: "
        f"YYYY-MM-DD, or an interval start/end answered day by day (one part per stretch of days without "
        f"change). Default {DEFAULT_DAY.isoformat()}, the first day of the 10 November 2020 ceasefire.",
        examples=["2020-10-17", "2020-10-01/2020-11-30"],
    ),
]


def get_period(datetime: DatetimeQuery = None) -> Period:
    """The ``datetime`` query parameter as a :class:`~app.analysis.dated.Period` (400 when malformed)."""
    return parse_period(datetime)


BINARY_MEDIA_TYPES = {
    OutputFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    OutputFormat.GPKG: "application/geopackage+sqlite3",
    OutputFormat.PNG: "image/png",
}


def binary_response(content: bytes, fmt: OutputFormat) -> Response:
    """An XLSX, GeoPackage or PNG answer, offered as a file named ``classification.<format>``."""
    disposition = "inline" if fmt is OutputFormat.PNG else "attachment"
    return Response(
        content,
        media_type=BINARY_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="classification.{fmt.value}"'},
    )


async def read_body(request: Request, settings: Annotated[AnalysisSection, Depends(get_settings)]) -> bytes:
    """The request body, refused with 413 as soon as it passes ``max_upload_bytes`` (chunked bodies too)."""
    return await http_request.read_body(request, settings.limits.max_upload_bytes, "analysis.max_upload_bytes")


def _layer_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@dataclass
class OverlapParams:
    """Query parameters of ``POST /analysis/overlap``."""

    layers: Annotated[str | None, Query(description="Comma-separated zone layer ids; default all.")] = None
    repair: Annotated[bool, Query(description="Repair invalid geometries with make_valid instead of 422.")] = False
    pieces: Annotated[bool, Query(description="Also return the intersection pieces as GeoJSON.")] = False


@router.post(
    "/overlap",
    summary="Overlap of areas with the zones",
    description="Body: a GeoJSON geometry, Feature or FeatureCollection of polygons (CRS84, or a declared `crs`). "
    "For each input feature and each zone: intersection area (km2, EPSG:6933), share of the input, share of the "
    "zone and estimated population.",
    openapi_extra=OVERLAP_BODY,
)
async def overlap_route(
    params: Annotated[OverlapParams, Depends()],
    period: Annotated[Period, Depends(get_period)],
    infos: Annotated[LayerInfos, Depends(get_layer_infos)],
    body: Annotated[bytes, Depends(read_body)],
    index: Annotated[ZoneIndex, Depends(get_zone_index)],
    settings: Annotated[AnalysisSection, Depends(get_settings)],
    population: Annotated[PopulationRaster | None, Depends(get_population)],
) -> JSONResponse:
    """Run :func:`app.analysis.service.run_overlap` off the event loop."""
    result = await run_in_threadpool(
        service.run_overlap,
        index,
        body,
        settings.limits,
        layers=_layer_list(params.layers),
        repair=params.repair,
        include_pieces=params.pieces,
        population=population,
        period=period,
        infos=infos,
    )
    return JSONResponse(result)


@dataclass
class ClassifyParams:
    """Query parameters of ``POST /analysis/classify``."""

    layers: Annotated[str | None, Query(description="Comma-separated zone layer ids; default all.")] = None
    format: Annotated[
        OutputFormat,
        Query(
            description="Output: geojson (default), json, csv, xlsx, gpkg (GeoPackage) or png (a map of the "
            "sites coloured by zone, one day only)."
        ),
    ] = OutputFormat.GEOJSON


@router.post(
    "/classify",
    summary="Classify points by zone",
    description="Body: GeoJSON Point features, or CSV (Content-Type text/csv) with latitude/longitude columns and "
    "optional id, precision_m (metres) or where_prec (UCDP code: 1 -> 0 m, 2 -> 25 km, 3 -> 50 km, 4 -> 150 km, "
    "5 -> 50 km, 6/7 -> 300 km). Each point comes back with zones, membership (inside / possibly inside), "
    "iran_border_km, line_of_contact_km and nearest_place.",
    openapi_extra=CLASSIFY_BODY,
    responses={
        200: {
            "content": {
                "application/json": {},
                "application/geo+json": {},
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                "application/geopackage+sqlite3": {},
                "image/png": {},
            }
        }
    },
)
async def classify_route(
    request: Request,
    params: Annotated[ClassifyParams, Depends()],
    period: Annotated[Period, Depends(get_period)],
    body: Annotated[bytes, Depends(read_body)],
    layers: Annotated[LayerStore, Depends(get_layers)],
    settings: Annotated[AnalysisSection, Depends(get_settings)],
) -> Response:
    """Read the points, then run :func:`app.analysis.service.run_classify` in a worker process (app.offload).

    Reading stays here: a body over a limit is refused without a trip to the worker.
    """
    media_type = request.headers.get("content-type", "application/json")
    points = await run_in_threadpool(service.read_points, body, media_type, settings.limits)
    result = await request.app.state.workers.classify(points, params.format, _layer_list(params.layers), period)
    if isinstance(result, bytes):
        return binary_response(result, params.format)
    if params.format is OutputFormat.CSV:
        return CSVResponse(result)
    return (GeoJSONResponse if params.format is OutputFormat.GEOJSON else JSONResponse)(result)


@router.get(
    "/zones/{layer}/summary",
    summary="Per-zone summary of a layer",
    description="Area, population estimate and reported events by type (between start and end) for each zone.",
)
async def summary_route(
    request: Request,
    period: Annotated[Period, Depends(get_period)],
    infos: Annotated[LayerInfos, Depends(get_layer_infos)],
    layer: Annotated[str, Path(description="A zone layer id, e.g. seven-districts.")],
    index: Annotated[ZoneIndex, Depends(get_zone_index)],
    population: Annotated[PopulationRaster | None, Depends(get_population)],
    counter: Annotated[EventCounter | None, Depends(get_event_counter)],
    start: Annotated[date | None, Query(description="First day of the period (ISO date).")] = None,
    end: Annotated[date | None, Query(description="Last day of the period (ISO date).")] = None,
) -> Response:
    """Run :func:`app.analysis.service.run_summary` off the event loop, or answer from the summary cache.

    The cache key and the ETag hold the version of every collection (layers and the event store's data version),
    so a write or a rebuild computes the summary again; a matching ``If-None-Match`` gets 304.
    """
    index.layer(layer)
    version = request.app.state.collections.version
    period_key = f"{start}/{end}/{period.start}/{period.end}"
    headers = {"ETag": strong_etag(version, request.url.path, period_key, "json"), "Cache-Control": "no-cache"}
    check_not_modified(request, headers["ETag"], headers)
    cache: ResponseStore | None = request.app.state.summary_cache
    key = ("summary", layer, start, end, period.start, period.end, version)
    cached = cache.get(key) if cache is not None else None
    if cached is not None:
        return stored_response(cached)
    result = await run_in_threadpool(service.run_summary, index, layer, population, counter, start, end, period, infos)
    return keep_response(cache, key, JSONResponse(result, headers=headers))


class TruceFormat(StrEnum):
    """Formats of the truce report."""

    JSON = "json"
    PNG = "png"


@router.get(
    "/truces",
    summary="Did the truce hold?",
    description="For each truce of the `truces` layer: the events reported in the event store in the days after it "
    "took effect (day 0, day 1, days 2-3, days 4-7, the rest until the next truce), by type, claimant and zone "
    "(the dated control map on the event's day), the first reported violation with its sources, and the "
    "violations the truce record links. Events are dated by day: day 0 events may precede the start time. "
    "format=png draws the violations per day.",
    responses={200: {"content": {"application/json": {}, "image/png": {}}}},
)
async def truces_route(
    request: Request,
    index: Annotated[ZoneIndex, Depends(get_zone_index)],
    layers: Annotated[LayerStore, Depends(get_layers)],
    infos: Annotated[LayerInfos, Depends(get_layer_infos)],
    format: Annotated[TruceFormat, Query(description="json (default) or png.")] = TruceFormat.JSON,
) -> Response:
    """Run :func:`app.analysis.truces.truce_report` on the app's event store off the event loop."""
    events = getattr(request.app.state, "events", None)
    if events is None:
        raise InvalidParameter("format", "no event store is open in this service: the truce report needs one")
    truces = load_truces(layers)
    report = await run_in_threadpool(truce_report, truces, StoreEventLister(events), index, infos)
    if format is TruceFormat.PNG:
        png = await run_in_threadpool(truces_png, report)
        return Response(png, media_type="image/png", headers={"Content-Disposition": 'inline; filename="truces.png"'})
    return JSONResponse(report)
