"""``czmap render``: the static PNG of a map view, and its alt text, from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.settings import GeodataSettings
from app.webmap.errors import MapError
from app.webmap.render import render_png
from app.webmap.sources import BuiltLayers, GeoJSONEvents, MapData
from app.webmap.view import parse_view
from geodata.build import read_manifest

render_cli = typer.Typer(help="Render a static PNG of a map view (no tile server needed).")


@render_cli.callback(invoke_without_command=True)
def render(
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG file to write.")] = Path("map.png"),
    data_dir: Annotated[Path | None, typer.Option(help="Built data folder (default: $CZMAP_DATA_DIR).")] = None,
    events: Annotated[Path | None, typer.Option(help="GeoJSON FeatureCollection of reported events.")] = None,
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
    folder = data_dir or GeodataSettings.model_validate({}).data_dir
    try:
        manifest = read_manifest(folder)
        params = {"lat": lat, "lon": lon, "zoom": zoom, "datetime": datetime, "layers": layers, "title": title}
        view = parse_view({**params, "dark": "true" if dark else None}, manifest["layers"])
        event_source = GeoJSONEvents.from_file(events) if events else GeoJSONEvents([])
        image = render_png(
            view, manifest, MapData(BuiltLayers(folder, manifest), event_source), width=width, height=height
        )
    except (MapError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    out.write_bytes(image.png)
    typer.echo(image.alt)
