"""Versioned schema migrations, fresh and from an older version, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from app.events.errors import SchemaError
from app.events.service import EventService
from app.events.store.base import EventQuery
from app.events.store.interface import EventStore
from app.events.store.migrate import load_migrations, pending_migrations

V1_INSERT = (
    "INSERT INTO events (id, date_start, date_end, date_precision, lon, lat, location_precision, event_type, "
    "sub_event_type, actors, claimed_by, verification, sources, zones, created_at, updated_at, created_by, "
    "updated_by, revision) VALUES ({marks})"
)
V1_ROW = [
    "old-1", "2020-10-04", "2020-10-04", 1, 46.75, 39.82, 1, "Battles", "Armed clash",
    '["A"]', "MoD", "reported", '[{"publisher": "P", "title": "T"}]', "[]",
    "2020-10-05T00:00:00Z", "2020-10-05T00:00:00Z", "legacy", "legacy", 1,
]  # fmt: skip


@pytest.fixture
def open_fresh(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., EventStore]:
    """Open a store on a brand-new database (reopenable), optionally migrated only up to ``target_version``."""
    if backend == "sqlite":
        from app.events.store.sqlite import SqliteEventStore

        return lambda target_version=None: SqliteEventStore(tmp_path / "m.sqlite", target_version=target_version)
    from app.events.store.postgis import PostgisEventStore

    url = request.getfixturevalue("pg_databases").create()
    return lambda target_version=None: PostgisEventStore(url, target_version=target_version)


def test_both_backends_have_the_same_numbered_migrations():
    for backend in ("sqlite", "postgis"):
        migrations = load_migrations(backend)
        assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))  # numbered without gaps
    assert [m.name for m in load_migrations("sqlite")] == [m.name for m in load_migrations("postgis")]


def test_fresh_database_is_migrated_to_the_latest(open_fresh):
    with open_fresh() as store:
        assert store.schema_version() == len(load_migrations(store.backend))
        assert store.count() == 0 and store.audit("x") == []


def test_reopening_applies_nothing_twice(open_fresh):
    open_fresh().close()
    with open_fresh() as store:
        assert store.schema_version() == len(load_migrations(store.backend))


def test_upgrade_from_version_1_keeps_the_data(open_fresh, zones, admin):
    with open_fresh(target_version=1) as old:
        assert old.schema_version() == 1
        with old._cursor(write=True) as cur:  # type: ignore[attr-defined]
            cur.execute(V1_INSERT.format(marks=", ".join([old.dialect.placeholder] * len(V1_ROW))), _row(old))  # type: ignore[attr-defined]
    with open_fresh() as store:
        assert store.schema_version() == len(load_migrations(store.backend))
        service = EventService(store, zones)
        event = service.get("old-1")
        assert (event.created_by, event.source_record, event.actors) == ("legacy", None, ["A"])
        found = service.query(EventQuery(bbox=(46.7, 39.8, 46.8, 39.9), datetime=(date(2020, 10, 4), None)))
        assert [f["id"] for f in found.features] == ["old-1"]  # the rebuilt spatial-temporal index holds the old row
        service.update(admin, "old-1", {"notes": "after upgrade"})
        assert [e.action for e in service.audit("old-1")] == ["update"]


def _row(store: EventStore) -> list[object]:
    if store.backend == "sqlite":
        return V1_ROW
    from psycopg.types.json import Jsonb

    return [Jsonb(__import__("json").loads(v)) if isinstance(v, str) and v[:1] in "[{" else v for v in V1_ROW]


def test_a_newer_database_is_refused(open_fresh):
    with open_fresh() as store, store._cursor(write=True) as cur:  # type: ignore[attr-defined]
        cur.execute(f"INSERT INTO schema_version (version) VALUES ({store.dialect.placeholder})", [99])  # type: ignore[attr-defined]
    with pytest.raises(SchemaError, match="newer than this code"):
        open_fresh()


def test_pending_migrations_from_each_version():
    every = [m.version for m in load_migrations("sqlite")]
    assert [m.version for m in pending_migrations("sqlite", 0, None)] == every
    assert [m.version for m in pending_migrations("sqlite", 1, None)] == every[1:]
    assert pending_migrations("sqlite", len(every), None) == []
