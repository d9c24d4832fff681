"""Helpers shared by every test folder: skip-or-fail for missing components, throw-away PostGIS databases.

In CI (``CZMAP_REQUIRE_ALL=1`` or ``CI=true``) a missing component fails the test instead of skipping it.
tests/ is on ``sys.path`` (pytest puts a conftest's folder there), so any test module can ``import testsupport``.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import pytest

REQUIRE_ALL = os.environ.get("CZMAP_REQUIRE_ALL") == "1" or os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get("CZMAP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def require(available: bool, what: str) -> None:
    """Skip when ``what`` is unavailable, or fail when CI requires every component."""
    if available:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required component missing: {what}")
    pytest.skip(f"{what} not available")


def postgis_problem() -> str | None:
    """Why PostGIS cannot be used here, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg not installed"
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            row = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_ADMIN_URL}: {exc}"
    return None if row and row[0] else "the postgis extension (apt package postgresql-<major>-postgis-3)"


def create_database() -> str:
    """A new empty database ``czmap_test_<random>``; returns its URL."""
    name = f"czmap_test_{secrets.token_hex(6)}"
    _admin(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    """Drop a database made by :func:`create_database`, even with connections left open."""
    _admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def make_settings(data_dir: Any, *, database_url: str | None = None, seed: bool = True, **sections: Any) -> Any:
    """Settings for a test app, built from the arguments alone: no ``CZMAP_*`` variable of the shell leaks in.

    The event store is ``database_url`` (default: ``<data_dir>/events.sqlite``), seeded on start when ``seed``;
    no tile basemap unless ``basemap={...}`` says otherwise; other sections as keyword dicts.
    """
    from app.settings import Settings

    values: dict[str, Any] = {"data_dir": data_dir, "basemap": {"url": None}, **sections}
    values["events"] = {"database_url": database_url, "seed": seed, **sections.get("events", {})}
    return Settings.model_validate(values)


def with_events(settings: Any, **changes: Any) -> Any:
    """``settings`` with fields of its events section changed (``seed=False``, ``count_cap=30`` ...)."""
    return settings.model_copy(update={"events": settings.events.model_copy(update=changes)})


def make_event(n: int = 1, **changes: Any) -> dict[str, Any]:
    """The one event factory of the tests: a valid event record (``changes`` override fields).

    :func:`event_as_feature` turns it into the GeoJSON Feature that API writes send.
    """
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


def event_as_feature(record: dict[str, Any]) -> dict[str, Any]:
    """A record of :func:`make_event` as a GeoJSON Feature (id and Point geometry out of the properties)."""
    properties = {k: v for k, v in record.items() if k not in ("id", "lon", "lat")}
    geometry = {"type": "Point", "coordinates": [record["lon"], record["lat"]]}
    return {"type": "Feature", "id": record["id"], "geometry": geometry, "properties": properties}
