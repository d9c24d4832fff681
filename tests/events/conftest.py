"""Fixtures for the events tests: a store per backend (SQLite file, PostGIS database), a service, sample events.

PostGIS tests skip when PostgreSQL/PostGIS is unreachable, and fail instead when ``CZMAP_REQUIRE_ALL=1``.
Each test session creates its own database ``czmap_test_<random>`` and drops it at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely import box
from testsupport import create_database, drop_database, postgis_problem, require

from app.events.auth import Actor, Role
from app.events.service import EventService
from app.events.store.interface import EventStore
from app.events.store.sqlite import SqliteEventStore
from app.events.zones import ZoneIndex

FIXTURES = Path(__file__).parent / "fixtures"


class PgDatabases:
    """Creates throw-away databases ``czmap_test_<random>`` and drops them all at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self) -> str:
        url = create_database()
        self.created.append(url)
        return url

    def drop_all(self) -> None:
        for url in self.created:
            drop_database(url)


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    """A factory of fresh PostGIS databases (skips or fails if PostGIS is missing)."""
    problem = postgis_problem()
    require(problem is None, problem or "")
    databases = PgDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def pg_session_url(pg_databases: PgDatabases) -> str:
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
            tx.cur.execute("TRUNCATE events, audit, api_keys")  # type: ignore[attr-defined]
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
    """Two made-up zone layers: 'inner' (two squares) and 'outer' (one big square)."""
    return ZoneIndex(
        {
            "inner": [("west", box(46.0, 39.0, 46.5, 40.0)), ("east", box(46.5, 39.0, 47.0, 40.0))],
            "outer": [("all", box(45.0, 38.5, 48.0, 40.5))],
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


def make_event(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A valid event payload; ``changes`` override fields."""
    data: dict[str, Any] = {
        "id": f"test-{n:04d}",
        "date_start": "2020-10-04",
        "date_end": "2020-10-04",
        "date_precision": 1,
        "lon": 46.75,
        "lat": 39.82,
        "location_precision": 1,
        "place_name": "Stepanakert",
        "geonameid": 146970,
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Shelling/artillery/missile attack",
        "actors": ["Military Forces of Azerbaijan (2003-)"],
        "claimed_by": "Local authorities",
        "verification": "reported",
        "fatalities_best": None,
        "fatalities_low": None,
        "fatalities_high": None,
        "sources": [{"publisher": "Example Outlet", "title": "Shelling reported", "published": "2020-10-04"}],
        "notes": "test event",
    }
    data.update(changes)
    return data


@pytest.fixture
def event_data() -> Callable[..., dict[str, Any]]:
    """The :func:`make_event` factory."""
    return make_event
