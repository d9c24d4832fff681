"""Fixtures for the events tests: a store per backend (SQLite file, PostGIS database), a service, sample events.

PostGIS databases come from the one factory of tests/conftest.py (``pg_databases``): skipped when PostgreSQL/PostGIS
is unreachable, a failure instead in CI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely import box
from testsupport import make_event

from app.events.auth import Actor, Role
from app.events.service import EventService
from app.events.store.interface import EventStore
from app.events.store.sqlite import SqliteEventStore
from app.layerstore.zones import ZoneIndex

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def pg_session_url(pg_databases: Any) -> str:
    """One database for the session's store tests (tables are emptied between tests)."""
    return pg_databases.create()


StoreFactory = Callable[[], EventStore]


@pytest.fixture(params=["sqlite", "postgis"])
def backend(request: pytest.FixtureRequest) -> str:
    """Both backends."""
    return request.param


@pytest.fixture
def open_backend_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    """A function opening the test's store; call it again to reopen the same database."""
    opened: list[EventStore] = []
    if backend == "sqlite":
        path = tmp_path / "events.sqlite"

        def factory() -> EventStore:
            opened.append(SqliteEventStore(path))
            return opened[-1]
    else:
        from app.events.store.postgis import PostgisEventStore

        url = request.getfixturevalue("pg_session_url")
        first = PostgisEventStore(url)
        with first.transaction() as tx:
            tx.cur.execute("SET LOCAL session_replication_role = replica")  # type: ignore[attr-defined]
            tx.cur.execute("TRUNCATE events, audit, api_keys")  # type: ignore[attr-defined]  # past the audit trigger
        first.close()

        def factory() -> EventStore:
            opened.append(PostgisEventStore(url))
            return opened[-1]

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(open_backend_store: StoreFactory) -> EventStore:
    """An empty, migrated store of the parametrised backend."""
    return open_backend_store()


@pytest.fixture
def zones() -> ZoneIndex:
    """Made-up zones under real layer ids: two squares of seven-districts, one big square of ceasefire-1994-area."""
    return ZoneIndex.from_polygons(
        {
            "seven-districts": [("west", box(46.0, 39.0, 46.5, 40.0)), ("east", box(46.5, 39.0, 47.0, 40.0))],
            "ceasefire-1994-area": [("all", box(45.0, 38.5, 48.0, 40.5))],
        }
    )


class Clock:
    """A controllable UTC clock."""

    def __init__(self) -> None:
        self.now = datetime(2021, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A fixed clock (tests move it)."""
    return Clock()


@pytest.fixture
def service(store: EventStore, zones: ZoneIndex, clock: Clock) -> EventService:
    """The domain service over the parametrised store."""
    return EventService(store, zones, clock=clock)


@pytest.fixture
def admin() -> Actor:
    """An admin actor."""
    return Actor("Ada Admin", Role.ADMIN)


@pytest.fixture
def editor() -> Actor:
    """An editor actor."""
    return Actor("Eddie Editor", Role.EDITOR)


@pytest.fixture
def event_data() -> Callable[..., dict[str, Any]]:
    """The one event factory, :func:`testsupport.make_event`."""
    return make_event
