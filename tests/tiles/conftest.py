"""Fixtures of the tile tests: one app per event backend (SQLite, PostGIS) over the real built layers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from testsupport import make_settings

from app.main import create_app


@pytest.fixture(scope="module", params=["sqlite", "postgis"])
def tiles_client(request: pytest.FixtureRequest, built_data_dir: Path, tmp_path_factory: Any) -> Iterator[TestClient]:
    """The service over the built layers and a seeded event store of each backend (one per module)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('tiles') / 'events.sqlite'}"
    else:
        url = request.getfixturevalue("module_postgis_url")
    with TestClient(create_app(make_settings(built_data_dir, database_url=url))) as client:
        yield client


@pytest.fixture(scope="module")
def client(built_data_dir: Path, tmp_path_factory: Any) -> Iterator[TestClient]:
    """The service over the built layers (SQLite events): for what does not depend on the event backend."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tiles') / 'events.sqlite'}"
    with TestClient(create_app(make_settings(built_data_dir, database_url=url))) as test_client:
        yield test_client
