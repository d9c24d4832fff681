"""Helpers shared by every test folder: skip-or-fail for missing components, throw-away PostGIS databases.

In CI (``CZMAP_REQUIRE_ALL=1`` or ``CI=true``) a missing component fails the test instead of skipping it.
tests/ is on ``sys.path`` (pytest puts a conftest's folder there), so any test module can ``import testsupport``.
"""

from __future__ import annotations

import os
import secrets

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
