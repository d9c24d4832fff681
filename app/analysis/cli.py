"""``czmap analyse``: the overlap analysis from the command line, with progress bars.

Results go to standard output (or ``--out``); progress and errors to standard error.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.analysis import service
from app.analysis.errors import AnalysisError
from app.analysis.inputs import parse_json
from app.analysis.output import OutputFormat
from app.analysis.population import PopulationRaster, open_population_raster
from app.analysis.summary import InMemoryEventCounter
from app.errors import StoreUnavailable
from app.layerstore import LayerStore, ZoneIndex
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


def _settings(data_dir: Path | None, raster: Path | None) -> Settings:
    return load_settings(data_dir=data_dir, analysis={"population_raster": raster})


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def _load(settings: Settings) -> tuple[ZoneIndex, PopulationRaster | None]:
    with console.status("loading zone layers"):
        try:
            store = LayerStore.open(settings.data_dir)
        except StoreUnavailable as exc:
            raise _fail(str(exc)) from None
    raster = settings.analysis.population_raster or store.population_raster
    return store.zones, open_population_raster(raster, settings.analysis.limits) if raster else None


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def _read(path: Path) -> bytes:
    try:
        return sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None


def _write(result: Any, out: Path | None) -> None:
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
) -> None:
    """Area (km2), shares and population of each input polygon in each zone."""
    settings = _settings(data_dir, population_raster)
    index, raster = _load(settings)
    body = _read(file)
    try:
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
) -> None:
    """Zones, membership, distances and nearest place of each point."""
    settings = _settings(data_dir, None)
    index, _ = _load(settings)
    body = _read(file)
    media_type = "text/csv" if file.suffix.lower() in (".csv", ".txt") else "application/geo+json"
    try:
        with console.status("reading points"):
            points = service.read_points(body, media_type, settings.analysis.limits)
        with _progress() as progress:
            task = progress.add_task("classify", total=len(points))
            result = service.run_classify(
                index, points, format, _layers(layers), on_progress=lambda n: progress.advance(task, n)
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
        Path | None, typer.Option(help="GeoJSON events (event_type, date_start) to count; omit for no counts.")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD).")] = None,
    data_dir: DataDirOption = None,
    population_raster: RasterOption = None,
    out: OutOption = None,
) -> None:
    """Area, population estimate and event counts of each zone of LAYER."""
    settings = _settings(data_dir, population_raster)
    index, raster = _load(settings)
    try:
        counter = InMemoryEventCounter.from_geojson(json.loads(_read(events))) if events else None
        result = service.run_summary(index, layer, raster, counter, _date(start, "start"), _date(end, "end"))
    except (AnalysisError, json.JSONDecodeError) as exc:
        raise _fail(str(exc)) from None
    _write(result, out)
