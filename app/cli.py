"""The ``czmap`` command line."""

from __future__ import annotations

import functools
import socket
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.analysis.cli import analyse_cli
from app.events.cli import events_cli, keys_cli
from app.settings import Settings, load_settings
from app.webmap.cli import render_cli
from geodata.build import build_all
from geodata.errors import GeodataError
from geodata.fetch import fetch_sources
from geodata.layerdefs import load_registry
from geodata.sources import load_catalogue

cli = typer.Typer(
    help="Conflict-zone map: geodata pipeline, service and tools.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
geodata_cli = typer.Typer(help="Fetch the public source files and build the zone layers.", no_args_is_help=True)
cli.add_typer(geodata_cli, name="geodata")
cli.add_typer(events_cli, name="events")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(render_cli, name="render")
cli.add_typer(analyse_cli, name="analyse")
console = Console(stderr=True)

MirrorOption = Annotated[
    Path | None,
    typer.Option("--mirror", help="Folder with the source files (default: $CZMAP_GEODATA_MIRROR)."),
]
DataDirOption = Annotated[Path | None, typer.Option("--data-dir", help="Output folder (default: $CZMAP_DATA_DIR).")]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _settings(mirror: Path | None, data_dir: Path | None, layers_dir: Path | None = None) -> Settings:
    return load_settings(data_dir=data_dir, geodata={"mirror": mirror, "layer_definitions": layers_dir})


def _fetch(settings: Settings) -> dict[str, Path]:
    catalogue = load_catalogue()
    sources = list(catalogue.sources.values())
    mirror = settings.geodata.mirror
    where = f"mirror {mirror}" if mirror else "upstream (download)"
    with _progress() as progress:
        task = progress.add_task(f"fetch from {where}", total=len(sources))
        return fetch_sources(sources, settings.source_cache, mirror, on_done=lambda s: progress.advance(task))


@geodata_cli.command("fetch")
def fetch_cmd(mirror: MirrorOption = None, data_dir: DataDirOption = None) -> None:
    """Copy (or download) every source file into the cache and verify its sha256."""
    settings = _settings(mirror, data_dir)
    try:
        paths = _fetch(settings)
    except GeodataError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"{len(paths)} sources verified in {settings.source_cache}")


@geodata_cli.command("build")
def build_cmd(
    mirror: MirrorOption = None,
    data_dir: DataDirOption = None,
    layers_dir: Annotated[
        Path | None, typer.Option(help="Folder of layer definitions (default: the project's layers/).")
    ] = None,
) -> None:
    """Fetch the sources, then build every layer in ``layers/`` with its checks, display variants and manifest."""
    settings = _settings(mirror, data_dir, layers_dir)
    try:
        paths = _fetch(settings)
        catalogue = load_catalogue()
        registry = load_registry(catalogue, settings.geodata.layer_definitions)
        with _progress() as progress:
            task = progress.add_task("build layers", total=len(registry))
            steps = iter(range(len(registry) + 1))
            next(steps)

            def on_step(layer_id: str) -> None:
                progress.update(task, description=f"build {layer_id}", completed=next(steps) - 1)

            manifest = build_all(registry, catalogue, paths, settings.data_dir, on_step=on_step)
            progress.update(task, completed=len(registry), description="build layers")
    except GeodataError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    _print_manifest(manifest)


def _print_manifest(manifest: dict) -> None:
    table = Table(title="Built layers")
    for column in ("layer", "features", "version", "licence"):
        table.add_column(column)
    for meta in manifest["layers"].values():
        table.add_row(meta["id"], str(meta["feature_count"]), meta["version"], meta["licence"]["name"])
    Console().print(table)


def main() -> None:
    """Entry point of the ``czmap`` console script."""
    cli()


@cli.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (each loads the layers once).")] = 1,
    data_dir: DataDirOption = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    access_log: Annotated[bool, typer.Option(help="Log every request (costs ~7% of throughput).")] = False,
) -> None:
    """Serve the built layers as OGC API - Features (settings from CZMAP_* variables and these options).

    Logs are JSON lines on stderr, each with the id of its request (also sent back as ``X-Request-ID``).
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from app.http.logging import log_config
    from app.main import create_app

    # the settings travel to each worker with the factory (pickled), never through the environment
    settings = load_settings(data_dir=data_dir)
    factory = functools.partial(create_app, settings, prestart_workers=True)
    _warn_without_public_url(host, settings)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "access_log": False,  # ours (app.http.logging) carries the request id and the duration
        "log_config": log_config(access_log=access_log),
    }
    if reload:
        uvicorn.run("app.main:app", reload=True, **options)  # reload re-imports: settings from the environment
        return
    config = uvicorn.Config(factory, factory=True, workers=workers, timeout_worker_healthcheck=120, **options)
    if workers == 1:
        uvicorn.Server(config).run()
        return
    # a worker loads every layer and opens the event store before it answers the supervisor's health checks
    Multiprocess(config, sockets=[_tcp_socket(host, port)]).run()


def _warn_without_public_url(host: str, settings: Settings) -> None:
    """Warn when embed snippets would point at the server's own address (see CZMAP_SERVICE__PUBLIC_URL)."""
    from app.webmap.embed import public_url_warning

    warning = public_url_warning(host, settings.service.public_url)
    if warning:
        typer.echo(f"warning: {warning}", err=True)


def _tcp_socket(host: str, port: int) -> socket.socket:
    """A listening socket declared as TCP, shared by the worker processes.

    uvicorn's own multi-worker socket is created without the protocol, so asyncio never sets TCP_NODELAY on
    accepted connections and every keep-alive response waits ~40 ms for the client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


if __name__ == "__main__":
    main()
