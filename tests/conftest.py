"""Shared fixtures: the geodata mirror and a freshly built data folder.

In CI (``CZMAP_REQUIRE_ALL=1`` or ``CI=true``) a missing component fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from testsupport import (
    create_database,
    drop_database,
    event_as_feature,
    make_event,
    make_settings,
    postgis_problem,
    require,
)

from geodata.build import build_all
from geodata.fetch import fetch_sources
from geodata.layerdefs import load_registry
from geodata.manifest import LAYERS_FOLDER
from geodata.sources import load_catalogue

PROJECT_ROOT = Path(__file__).resolve().parent.parent


#: Markers put on each test by the components it needs (see pytest_collection_modifyitems): the fast subset
#: ``pytest -m "not layers and not postgis and not browser"`` needs none of them.
COMPONENT_FIXTURES = {
    "layers": {"built_data_dir", "source_paths", "geodata_mirror", "map_data_dir"},
    "postgis": {"pg_databases", "module_postgis_url", "pg_session_url", "pg_cluster"},
    "browser": {"browser"},
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the components its fixtures need: ``layers``, ``postgis``, ``browser``."""
    for item in items:
        needed = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgis" in callspec.params.values():
            needed.add("module_postgis_url")
        for marker, fixtures in COMPONENT_FIXTURES.items():
            if needed & fixtures:
                item.add_marker(getattr(pytest.mark, marker))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect only test modules under tests/: ``--doctest-modules`` is for the packages, and importing a
    conftest or helper module a second time as a doctest module clashes with its import by the tests."""
    if collection_path.suffix == ".py" and not collection_path.name.startswith("test_"):
        return True
    return None


@pytest.fixture(scope="session")
def geodata_mirror() -> Path:
    """The folder of unedited source files (``CZMAP_GEODATA_MIRROR`` or ../shared/geodata)."""
    mirror = Path(os.environ.get("CZMAP_GEODATA_MIRROR", PROJECT_ROOT.parent / "shared" / "geodata")).resolve()
    require((mirror / "natural-earth-4.0.0").is_dir(), f"geodata mirror at {mirror}")
    return mirror


@pytest.fixture(scope="session")
def source_paths(geodata_mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every source fetched from the mirror into a session cache and verified."""
    catalogue = load_catalogue()
    return fetch_sources(catalogue.sources.values(), tmp_path_factory.mktemp("sources"), geodata_mirror)


@pytest.fixture(scope="session")
def built_data_dir(source_paths: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with every layer built from the real mirror (built once per test session/worker)."""
    catalogue = load_catalogue()
    data_dir = tmp_path_factory.mktemp("data")
    build_all(load_registry(catalogue), catalogue, source_paths, data_dir)
    return data_dir


@pytest.fixture
def own_store_data_dir(built_data_dir: Path, tmp_path: Path) -> Path:
    """A data folder sharing the built layers (a symlink) with an event store of its own, for scripts in bench/."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / LAYERS_FOLDER).symlink_to(built_data_dir / LAYERS_FOLDER, target_is_directory=True)
    return data_dir


# -- events API: a store per backend behind create_app (SQLite file per test, PostGIS database per module) -------


class PgDatabases:
    """Creates throw-away databases ``czmap_test_<random>`` and drops them all at the end of the session."""

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
    """The one source of PostGIS databases in the tests: skips where PostGIS is missing, fails in CI."""
    problem = postgis_problem()
    require(problem is None, problem or "")
    databases = PgDatabases()
    yield databases
    databases.drop_all()


@pytest.fixture(scope="module")
def module_postgis_url(pg_databases: PgDatabases) -> str:
    """A fresh PostGIS database for one test module."""
    return pg_databases.create()


@pytest.fixture(params=["sqlite", "postgis"])
def events_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL of an empty event store: a SQLite file in tmp_path, or the module's PostGIS database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'events.sqlite'}"
    from app.events.store.postgis import PostgisEventStore

    url: str = request.getfixturevalue("module_postgis_url")
    with PostgisEventStore(url) as store, store.transaction() as tx:
        tx.cur.execute("SET LOCAL session_replication_role = replica")  # type: ignore[attr-defined]  # audit trigger
        tx.cur.execute("TRUNCATE events, audit, api_keys")  # type: ignore[attr-defined]
    return url


@pytest.fixture
def events_settings(events_database_url: str, built_data_dir: Path) -> Any:
    """Service settings over the built layers, with the event store of ``events_database_url`` (seeded on start)."""
    return make_settings(built_data_dir, database_url=events_database_url)


@pytest.fixture
def events_client(events_settings: Any) -> Iterator[Any]:
    """A TestClient of ``create_app`` (lifespan run) serving the events of ``events_settings``."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(events_settings)) as client:
        yield client


@pytest.fixture
def api_keys(events_client: Any) -> dict[str, str]:
    """An API key per role (``editor``, ``admin``) in the store of ``events_client``."""
    from app.events.auth import create_key

    store = events_client.app.state.events.store
    return {role: create_key(store, role, f"{role} of the tests") for role in ("editor", "admin")}


SEED_FILE = PROJECT_ROOT / "app" / "events" / "seed" / "events_2020.json"


@pytest.fixture(scope="session")
def seed_records() -> list[dict[str, Any]]:
    """The curated seed events as written in the seed file (the expected contents of a freshly started store)."""
    return list(json.loads(SEED_FILE.read_text(encoding="utf-8")))


@pytest.fixture
def event_feature() -> Callable[..., dict[str, Any]]:
    """Valid event Features for write bodies (from the one factory): ``event_feature(n, lon=..., lat=..., **props)``."""

    def make(n: int = 1, lon: float = 46.75, lat: float = 39.82, **changes: Any) -> dict[str, Any]:
        record = make_event(n, id=f"api-test-{n:04d}", lon=lon, lat=lat, date_end="2020-10-05", notes=f"test event {n}")
        return event_as_feature(record | changes)

    return make
