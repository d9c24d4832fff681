"""``czmap analyse``: the overlap analysis from the command line, with progress bars.

Results go to standard output (or ``--out``); progress and errors to standard error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.analysis import service
from app.analysis.dated import layer_infos, parse_period
from app.analysis.errors import AnalysisError
from app.analysis.inputs import parse_json
from app.analysis.output import OutputFormat
from app.analysis.population import PopulationRaster, open_population_raster
from app.analysis.summary import EventCounter, InMemoryEventCounter
from app.errors import StoreUnavailable
from app.layerstore import LayerStore
from app.settings import Settings, load_settings

analyse_cli = typer.Typer(
    help="Overlap, classification and zone summaries against the built layers.", no_args_is_help=True
)
console = Console(stderr=True)

DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Built data folder (default: $CZMAP_DATA_DIR).")]
RasterOption = Annotated[
    Path | None, typer.Option("--population-raster", help="Population GeoTIFF (default: the built raster).")
]
LayersOption = Annotated[str | None, typer.Option("--layers", help="Comma-separated zone layer ids (default: all).")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the result here instead of stdout.")]
DatetimeOption = Annotated[
    str | None,
    typer.Option(
        "--datetime",
        help="Day of the dated layers (YYYY-MM-DD) or an interval START/END answered by stretches of days; "
        "default 2020-11-10, the first day of the 10 November 2020 ceasefire.",
    ),
]


def _settings(data_dir: Path | None, raster: Path | None) -> Settings:
    return load_settings(data_dir=data_dir, analysis={"population_raster": raster})


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def _load(settings: Settings) -> tuple[LayerStore, PopulationRaster | None]:
    with console.status("loading zone layers"):
        try:
            store = LayerStore.open(settings.data_dir)
        except StoreUnavailable as exc:
            raise _fail(str(exc)) from None
    raster = settings.analysis.population_raster or store.population_raster
    return store, open_population_raster(raster, settings.analysis.limits) if raster else None


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def _read(path: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None


def _write(result: Any, out: Path | None) -> None:
    if isinstance(result, bytes):
        if out is None:
            raise _fail("xlsx, gpkg and png are files: give --out")
        out.write_bytes(result)
        console.print(f"written to {out}")
        return
    text = result if isinstance(result, str) else orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    if out is None:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"written to {out}")


def _layers(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@analyse_cli.command("overlap")
def overlap_cmd(
    file: Annotated[
        Path, typer.Argument(help="GeoJSON polygons (geometry, Feature or FeatureCollection); - for stdin.")
    ],
    layers: LayersOption = None,
    pieces: Annotated[bool, typer.Option(help="Include the intersection pieces as GeoJSON.")] = False,
    repair: Annotated[bool, typer.Option(help="Repair invalid geometries with make_valid.")] = False,
    data_dir: DataDirOption = None,
    population_raster: RasterOption = None,
    out: OutOption = None,
    datetime_: DatetimeOption = None,
) -> None:
    """Area (km2), shares and population of each input polygon in each zone valid on the day."""
    settings = _settings(data_dir, population_raster)
    store, raster = _load(settings)
    index = store.zones
    body = _read(file)
    try:
        period = parse_period(datetime_)
        count = _feature_count(body)
        with _progress() as progress:
            task = progress.add_task("overlap", total=count)
            result = service.run_overlap(
                index,
                body,
                settings.analysis.limits,
                layers=_layers(layers),
                repair=repair,
                include_pieces=pieces,
                population=raster,
                on_progress=lambda n: progress.advance(task, n),
                period=period,
                infos=layer_infos(store),
            )
    except AnalysisError as exc:
        raise _fail(str(exc)) from None
    _write(result, out)


def _feature_count(body: bytes) -> int:
    obj = parse_json(body)
    features = obj.get("features") if isinstance(obj, dict) else None
    return len(features) if isinstance(features, list) else 1


@analyse_cli.command("classify")
def classify_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (latitude/longitude columns) or GeoJSON points; - for stdin.")],
    format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.GEOJSON,
    layers: LayersOption = None,
    data_dir: DataDirOption = None,
    out: OutOption = None,
    datetime_: DatetimeOption = None,
) -> None:
    """Zones (valid on the day), membership, distances with margins and nearest place of each point."""
    settings = _settings(data_dir, None)
    store, _ = _load(settings)
    index = store.zones
    body = _read(file)
    media_type = "text/csv" if file.suffix.lower() in (".csv", ".txt") else "application/geo+json"
    try:
        period = parse_period(datetime_)
        with console.status("reading points"):
            points = service.read_points(body, media_type, settings.analysis.limits)
        with _progress() as progress:
            task = progress.add_task("classify", total=len(points))
            result = service.run_classify(
                index,
                points,
                format,
                _layers(layers),
                on_progress=lambda n: progress.advance(task, n),
                period=period,
                infos=layer_infos(store),
            )
    except AnalysisError as exc:
        raise _fail(str(exc)) from None
    _write(result, out)


def _date(value: str | None, name: str) -> Any:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise _fail(f"--{name} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


@analyse_cli.command("summary")
def summary_cmd(
    layer: Annotated[str, typer.Argument(help="Zone layer id, e.g. seven-districts.")],
    events: Annotated[
        Path | None,
        typer.Option(help="GeoJSON events (event_type, date_start) to count; default: the event store, as serve."),
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD).")] = None,
    data_dir: DataDirOption = None,
    population_raster: RasterOption = None,
    out: OutOption = None,
    datetime_: DatetimeOption = None,
) -> None:
    """Area, population estimate and event counts of each zone of LAYER valid on the day.

    Events come from --events, else from the event store ``czmap serve`` opens (CZMAP_EVENTS__DATABASE_URL, or the
    SQLite file in the data folder, seeded with the curated 2020 events when empty).
    """
    settings = _settings(data_dir, population_raster)
    store, raster = _load(settings)
    index = store.zones
    try:
        period = parse_period(datetime_)
        with _event_counter(events, settings, store) as counter:
            result = service.run_summary(
                index, layer, raster, counter, _date(start, "start"), _date(end, "end"), period, layer_infos(store)
            )
    except (AnalysisError, json.JSONDecodeError) as exc:
        raise _fail(str(exc)) from None
    _write(result, out)


@contextmanager
def _event_counter(events: Path | None, settings: Settings, store: LayerStore) -> Iterator[EventCounter]:
    """Events of a GeoJSON file, or the event store opened as ``czmap serve`` opens it."""
    if events is not None:
        yield InMemoryEventCounter.from_geojson(json.loads(_read(events)))
        return
    from app.events.adapters import StoreEventCounter

    with _event_store(settings, store) as service:
        yield StoreEventCounter(service)


@contextmanager
def _event_store(settings: Settings, layers: LayerStore) -> Iterator[Any]:
    """The event service, opened (and seeded when empty) as ``czmap serve`` opens it."""
    from app.collections.events import event_collections
    from app.startup import Startup

    with ExitStack() as stack:
        try:
            store = stack.enter_context(event_collections(Startup(settings, layers)))
        except Exception as exc:  # noqa: BLE001 - any store failure is reported, not traced back
            raise _fail(f"cannot read the event store: {exc}") from None
        yield store[0].service


@analyse_cli.command("truces")
def truces_cmd(
    format: Annotated[str, typer.Option("--format", "-f", help="json or png (png needs --out).")] = "json",
    data_dir: DataDirOption = None,
    out: OutOption = None,
) -> None:
    """Did the truce hold? Events reported after each truce took effect, from the event store (as serve opens it)."""
    if format not in ("json", "png"):
        raise _fail(f"--format must be json or png, got {format!r}")
    settings = _settings(data_dir, None)
    store, _ = _load(settings)
    index = store.zones
    from app.analysis.figures import truces_png
    from app.analysis.truces import load_truces, truce_report
    from app.events.adapters import StoreEventLister

    try:
        with _event_store(settings, store) as service:
            report = truce_report(load_truces(store), StoreEventLister(service), index, layer_infos(store))
    except AnalysisError as exc:
        raise _fail(str(exc)) from None
    _write(truces_png(report) if format == "png" else report, out)
