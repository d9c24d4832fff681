"""The migrations runner's plan: the numbered SQL files of a backend and which of them a database still needs.

Files are ``migrations/<backend>/NNNN_name.sql``; each backend applies the pending ones in order, in one
transaction with its ``schema_version`` row (``_migrate`` in :mod:`~app.events.store.sqlite` and
:mod:`~app.events.store.postgis`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.events.errors import SchemaError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str


def load_migrations(backend: str) -> list[Migration]:
    """The numbered migration files of ``backend`` (``NNNN_name.sql``), in order."""
    found = []
    for path in sorted((MIGRATIONS_DIR / backend).glob("*.sql")):
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", path.name)
        if match is None:
            raise SchemaError(f"migration file {path.name!r} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise SchemaError(f"{backend} migrations must be numbered 1..n without gaps, found {versions}")
    return found


def pending_migrations(backend: str, current: int, target: int | None) -> list[Migration]:
    """Migrations to apply to go from ``current`` to ``target`` (default: latest); refuse a newer database."""
    migrations = load_migrations(backend)
    latest = len(migrations)
    if current > latest:
        raise SchemaError(f"the database schema is version {current}, newer than this code ({latest}); upgrade czmap")
    target = latest if target is None else target
    return [m for m in migrations if current < m.version <= target]
