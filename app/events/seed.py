"""Load the curated 2020 dataset (``app/events/seed/events_2020.json``) idempotently, as author ``seed``."""

from __future__ import annotations

from pathlib import Path

from app.events.auth import SEED_ACTOR
from app.events.errors import EventError
from app.events.importers import ImportReport, ProgressCallback, import_file
from app.events.service import EventService

DEFAULT_SEED = Path(__file__).resolve().parent / "seed" / "events_2020.json"


def seed(service: EventService, path: Path = DEFAULT_SEED, on_progress: ProgressCallback | None = None) -> ImportReport:
    """Write every seed event not yet stored; rows that fail validation are reported, not written."""
    if not path.is_file():
        raise EventError(f"no seed file at {path}")
    return import_file(service, path, fmt="seed", actor=SEED_ACTOR, on_progress=on_progress)
