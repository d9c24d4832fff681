"""``czmap render``: the static image (PNG, SVG or PDF) of a map view, and its alt text, from the command line.

Events come from the event store the service uses (``CZMAP_EVENTS__DATABASE_URL``, else ``<data dir>/events.sqlite``,
seeded with the curated 2020 events when empty, as ``czmap serve`` does), or from a GeoJSON file (``--events``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from app.errors import StoreUnavailable
from app.events.errors import EventError
from app.layerstore import LayerStore
from app.settings import load_settings
from app.startup import Startup
from app.webmap.errors import MapError
from app.webmap.render import ImageFormat, StaticMap, render_png
from app.webmap.sources import EventSource, GeoJSONEvents, MapData, StoreZones
from app.webmap.view import MapView, parse_view
from geodata.manifest import Manifest

render_cli = typer.Typer(help="Render a static PNG of a map view (no tile server needed).")


@render_cli.callback(invoke_without_command=True)
def render(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Image to write: .png, .svg or .pdf (by its suffix).")
    ] = Path("map.png"),
    data_dir: Annotated[Path | None, typer.Option(help="Built data folder (default: $CZMAP_DATA_DIR).")] = None,
    events: Annotated[
        Path | None, typer.Option(help="GeoJSON FeatureCollection of events (default: the event store).")
    ] = None,
    lat: Annotated[str | None, typer.Option(help="Latitude of the centre.")] = None,
    lon: Annotated[str | None, typer.Option(help="Longitude of the centre.")] = None,
    zoom: Annotated[str | None, typer.Option(help="Zoom level, 4 to 18.")] = None,
    datetime: Annotated[str | None, typer.Option(help="A date or start/end (YYYY-MM-DD).")] = None,
    layers: Annotated[str | None, typer.Option(help="Comma-separated layer ids ('events' too).")] = None,
    title: Annotated[str | None, typer.Option(help="Title printed on the image.")] = None,
    dark: Annotated[bool, typer.Option(help="Dark theme.")] = False,
    width: Annotated[int, typer.Option(help="Width in pixels.")] = 1200,
    height: Annotated[int, typer.Option(help="Height in pixels.")] = 800,
) -> None:
    """Write the PNG to ``--out`` and print its alt text."""
    settings = load_settings(data_dir=data_dir)
    try:
        store = LayerStore.open(settings.data_dir)
        manifest = store.manifest
        params = {"lat": lat, "lon": lon, "zoom": zoom, "datetime": datetime, "layers": layers, "title": title}
        view = parse_view({**params, "dark": "true" if dark else None}, manifest.layers)
        with event_source(Startup(settings, store), events) as source:
            image = _render(view, manifest, MapData(StoreZones(store), source), (width, height), out)
    except (MapError, EventError, StoreUnavailable, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    out.write_bytes(image.png)
    typer.echo(image.alt)


@contextmanager
def event_source(startup: Startup, events_file: Path | None) -> Iterator[EventSource]:
    """The events of a GeoJSON file, or of the event store the service would open with ``startup``."""
    if events_file is not None:
        yield GeoJSONEvents.from_file(events_file)
        return
    from app.collections.events import event_collections
    from app.events.adapters import StoreEventSource

    with event_collections(startup) as collections:
        yield StoreEventSource(collections[0].service, startup.settings.map.image_markers)


def _render(view: MapView, manifest: Manifest, data: MapData, size: tuple[int, int], out: Path) -> StaticMap:
    suffix = out.suffix.lower().lstrip(".")
    formats: dict[str, ImageFormat] = {"png": "png", "svg": "svg", "pdf": "pdf"}
    if suffix not in formats:
        raise ValueError(f"--out must end in .png, .svg or .pdf, got {out.name!r}")
    return render_png(view, manifest, data, width=size[0], height=size[1], fmt=formats[suffix])
