"""Fixtures of the API tests: apps over the real built layers and over a tiny layer made here, a live server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from livesupport import LoggedServer, logged_server, start_server, stop_server
from ogc_models import HOSTILE
from shapely.geometry import LineString, Point, Polygon
from testsupport import make_settings

from app.collections.base import CollectionMeta, Licence, TimeInterval
from app.collections.layers import LayerCollection
from app.layerstore import LayerTable, StoredLayer
from app.main import create_app
from app.settings import Settings
from app.startup import Startup
from geodata.manifest import LayerEntry


@pytest.fixture(scope="session")
def built_settings(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(built_data_dir, database_url=f"sqlite:///{tmp_path_factory.mktemp('api') / 'events.sqlite'}")


@pytest.fixture(scope="module")
def client(built_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(built_settings)) as test_client:
        yield test_client


def tiny_frame() -> gpd.GeoDataFrame:
    """Five features with known attributes, validity and geometry (a hostile name among them)."""
    return gpd.GeoDataFrame(
        {
            "id": ["a", "b", "c", "d", "e"],
            "name": ["Shusha", "Hadrut", "Lachin", HOSTILE, "Aghdam"],
            "population": [4064, 2900, 0, 15, 28031],
            "kind": ["town", "town", "town", "village", None],
            "valid_from": ["1994-05-12", "2020-10-01", None, None, "1994-05-12"],
            "valid_to": ["2020-11-08", None, "2020-11-10", None, "2020-11-20"],
        },
        geometry=[
            Point(46.75, 39.76),
            Point(46.94, 39.52),
            LineString([(46.5, 39.5), (46.6, 39.6)]),
            Polygon([(47.0, 40.0), (47.2, 40.0), (47.2, 40.2), (47.0, 40.2)]),
            Point(46.93, 39.99),
        ],
        crs="EPSG:4326",
    )


def tiny_collection(collection_id: str = "tiny", title: str = "Tiny layer") -> LayerCollection:
    frame = tiny_frame()
    meta = CollectionMeta(
        id=collection_id,
        title=title,
        description=f"Made in a fixture. {HOSTILE}",
        version="0123456789abcdef",
        bbox=tuple(float(v) for v in frame.total_bounds),  # type: ignore[arg-type]
        geometry_type="Geometry",
        licence=Licence("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/"),
        attribution=f"Fixture authors {HOSTILE}",
        temporal=TimeInterval(None, None),
    )
    simplified = frame.copy()
    simplified["geometry"] = frame.geometry.simplify(0.05)
    entry = LayerEntry(
        id=collection_id,
        title=title,
        version=meta.version,
        geometry_type=meta.geometry_type,
        bbox=meta.bbox,
        licence={"name": meta.licence.name, "url": meta.licence.url},
        files={},
    )
    return LayerCollection(meta, StoredLayer(entry, LayerTable.of(frame), {8: LayerTable.of(simplified)}))


@pytest.fixture()
def tiny_app(tmp_path: Path) -> Callable[..., AbstractContextManager[TestClient]]:
    """``tiny_app(**service)``: a client of an app over the tiny layer with those ``service`` settings."""

    @contextmanager
    def make(**service: object) -> Iterator[TestClient]:
        @contextmanager
        def provider(startup: Startup) -> Iterator[list[LayerCollection]]:
            yield [tiny_collection()]

        settings = make_settings(tmp_path, service=service)
        with TestClient(create_app(settings, providers=[provider])) as test_client:
            yield test_client

    return make


@pytest.fixture(scope="session")
def make_tiny_collection() -> Callable[..., LayerCollection]:
    """:func:`tiny_collection` for tests that build apps of their own (``from conftest import`` is ambiguous)."""
    return tiny_collection


@pytest.fixture()
def tiny_client(tmp_path: Path) -> Iterator[TestClient]:
    @contextmanager
    def provider(startup: Startup) -> Iterator[list[LayerCollection]]:
        yield [tiny_collection()]

    settings = make_settings(tmp_path, service={"cache_max_age": 60})
    with TestClient(create_app(settings, providers=[provider])) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def live_server(built_settings: Settings) -> Iterator[str]:
    """``czmap serve`` as a real process on a free port (GDAL holds the GIL, so not a thread); yields its URL."""
    env = {**os.environ, "CZMAP_DATA_DIR": str(built_settings.data_dir), "CZMAP_BASEMAP__URL": ""}
    env["CZMAP_EVENTS__DATABASE_URL"] = built_settings.events.database_url
    url, process = start_server(env)
    try:
        yield url
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def logged_live_server(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedServer]:
    """``czmap serve --access-log`` over the built layers: the tests read which filters a GIS client sent."""
    env = {"CZMAP_DATA_DIR": str(built_settings.data_dir), "CZMAP_BASEMAP__URL": ""}
    env["CZMAP_EVENTS__DATABASE_URL"] = built_settings.events.database_url or ""
    with logged_server(env, tmp_path_factory.mktemp("clients") / "access.log") as server:
        yield server
