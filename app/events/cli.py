"""Command line for events and API keys; the lead registers ``events_cli`` and ``keys_cli`` in ``app/cli.py``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.errors import StoreUnavailable
from app.events.auth import Role, create_key
from app.events.errors import AmbiguousPlace, EventError
from app.events.export import write_csv, write_geojson
from app.events.geocode import default_gazetteer
from app.events.importers import ImportReport, import_file
from app.events.seed import DEFAULT_SEED, seed
from app.events.service import EventService, open_service, open_store
from app.layerstore import LayerStore
from app.settings import load_settings

events_cli = typer.Typer(help="Reported events: import, export, seed, geocode.", no_args_is_help=True)
keys_cli = typer.Typer(help="API keys for writing events.", no_args_is_help=True)
console = Console(stderr=True)
MAX_REJECTIONS_SHOWN = 50


class ImportFormat(StrEnum):
    """Formats ``import`` reads."""

    UCDP = "ucdp"
    ACLED = "acled"
    GEOJSON = "geojson"
    SEED = "seed"


class ExportFormat(StrEnum):
    """Formats ``export`` writes."""

    CSV = "csv"
    GEOJSON = "geojson"


@contextmanager
def _service() -> Iterator[EventService]:
    settings = load_settings()
    try:
        service = open_service(settings, LayerStore.open(settings.data_dir).zones)
    except (EventError, StoreUnavailable) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    try:
        yield service
    except EventError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        service.store.close()


def _with_progress(description: str, run: Callable[[Callable[[int], None]], ImportReport]) -> ImportReport:
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} rows"),
                  TimeElapsedColumn(), console=console) as progress:  # fmt: skip
        task = progress.add_task(description, total=None)
        return run(lambda n: progress.update(task, completed=n))


def _print_report(report: ImportReport) -> None:
    console.print(
        f"{report.format}: {report.rows} rows read, {report.created} created, "
        f"{report.existing} already present, {len(report.rejected)} rejected"
    )
    if not report.rejected:
        return
    table = Table(title="Rejected rows (not written)")
    for column in ("line", "field", "reason"):
        table.add_column(column)
    for rejection in report.rejected[:MAX_REJECTIONS_SHOWN]:
        table.add_row(str(rejection.line), rejection.field, rejection.reason)
    console.print(table)
    if len(report.rejected) > MAX_REJECTIONS_SHOWN:
        console.print(f"... and {len(report.rejected) - MAX_REJECTIONS_SHOWN} more")


@events_cli.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="UCDP GED CSV, ACLED CSV or GeoJSON.")],
    fmt: Annotated[ImportFormat | None, typer.Option("--format", help="Default: detected from the file.")] = None,
) -> None:
    """Import a file idempotently; rejected rows are listed and not written. Exit code 2 if any was rejected."""
    with _service() as service:
        report = _with_progress(
            f"import {file.name}", lambda cb: import_file(service, file, fmt.value if fmt else None, on_progress=cb)
        )
    _print_report(report)
    if report.rejected:
        raise typer.Exit(2)


@events_cli.command("export")
def export_cmd(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv (with an HXL row) or geojson.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")] = None,
) -> None:
    """Export every event."""
    writer = write_csv if fmt is ExportFormat.CSV else write_geojson
    with _service() as service:
        if output is None:
            count = writer(service.iter_events(), sys.stdout)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("w", encoding="utf-8", newline="") as out:
                count = writer(service.iter_events(), out)
            partial.replace(output)
    console.print(f"{count} events exported")


@events_cli.command("seed")
def seed_cmd(
    file: Annotated[Path, typer.Option(help="Seed JSON file.")] = DEFAULT_SEED,
) -> None:
    """Load the curated 2020 events (idempotent; author 'seed')."""
    with _service() as service:
        report = _with_progress("seed", lambda cb: seed(service, file, on_progress=cb))
    _print_report(report)
    if report.rejected:
        raise typer.Exit(2)


@events_cli.command("geocode")
def geocode_cmd(
    name: Annotated[str, typer.Argument(help="Place name, in any spelling GeoNames knows.")],
    country: Annotated[str | None, typer.Option(help="AZ, AM or IR, to resolve an ambiguous name.")] = None,
) -> None:
    """Look up a place name; an ambiguous or unknown name exits with code 1 and lists the candidates."""
    try:
        place = default_gazetteer().geocode(name, country)
    except AmbiguousPlace as exc:
        console.print(f"[yellow]ambiguous:[/yellow] {name!r} matches {len(exc.candidates)} places:")
        for candidate in exc.candidates:
            console.print(f"  {candidate}")
        raise typer.Exit(1) from None
    except EventError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"{place.geonameid}\t{place.name}\t{place.country}\t{place.lon}\t{place.lat}")


@keys_cli.command("create")
def create_key_cmd(
    role: Annotated[Role, typer.Option(help="editor: create and edit; admin: also retract.")],
    label: Annotated[str, typer.Option(help="Who holds the key (recorded as the author of their writes).")],
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    store = open_store(load_settings())
    try:
        key = create_key(store, role, label)
    except EventError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(key)
    console.print("Store this key now: it cannot be shown again.")


@keys_cli.command("list")
def list_keys_cmd() -> None:
    """List keys (ids, roles, labels; never the keys)."""
    store = open_store(load_settings())
    try:
        records = store.list_keys()
    finally:
        store.close()
    for r in records:
        state = f"revoked {r.revoked_at:%Y-%m-%d}" if r.revoked_at else "active"
        typer.echo(f"{r.key_id}\t{r.role}\t{state}\t{r.label}")


@keys_cli.command("revoke")
def revoke_key_cmd(key_id: Annotated[str, typer.Argument(help="The key id (second part of the key).")]) -> None:
    """Revoke a key; its writes stay attributed to it."""
    from datetime import UTC, datetime

    store = open_store(load_settings())
    try:
        revoked = store.revoke_key(key_id, datetime.now(UTC))
    finally:
        store.close()
    if not revoked:
        console.print(f"[red]error:[/red] no active key {key_id!r}")
        raise typer.Exit(1)
    console.print(f"key {key_id} revoked")
