"""Analysis limits as settings: huge inputs refused early with a 413 naming the limit and its setting.

Through ``create_app`` with its lifespan, on the real built layers, with the default limits (sized for a 2-core
machine) and with limits set lower in the settings.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from testsupport import make_settings

from app.analysis.limits import Limits
from app.main import built_layers, create_app
from app.settings import AnalysisSection

CSV = {"content-type": "text/csv"}
MILLION = 1_000_000


def _client(data_dir: Path, tmp_path: Path, **analysis: int) -> TestClient:
    settings = make_settings(data_dir, analysis={"population_raster": tmp_path / "none.tif", **analysis})
    return TestClient(create_app(settings, providers=[built_layers]))


@pytest.fixture
def default_client(built_data_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    with _client(built_data_dir, tmp_path) as client:
        yield client


def _rows(count: int) -> bytes:
    return b"lat,lon\n" + b"39.5,46.5\n" * count


def _polygon(vertices: int) -> bytes:
    ring = [[46.5 + 0.1 * math.cos(2 * math.pi * i / vertices), 39.5 + 0.1 * math.sin(2 * math.pi * i / vertices)]
            for i in range(vertices - 1)]  # fmt: skip
    return orjson.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})


def test_defaults_fit_a_small_machine() -> None:
    section = AnalysisSection()
    assert section.limits == Limits()
    assert section.max_rows == 100_000 and section.max_upload_bytes == 16 * 1024 * 1024


def test_a_million_row_csv_is_refused_naming_the_limit(default_client: TestClient) -> None:
    response = default_client.post("/analysis/classify", content=_rows(MILLION), headers=CSV)
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert body["code"] == "PayloadTooLarge"
    assert "points (rows)" in body["description"] and "100,000" in body["description"]
    assert "analysis.max_rows" in body["description"] and "CZMAP_ANALYSIS__MAX_ROWS" in body["description"]


def test_a_million_vertex_polygon_is_refused_before_parsing(default_client: TestClient) -> None:
    body = b'{"type":"Polygon","coordinates":[[' + b"[46,39]," * MILLION + b"[46,39]]]}"
    response = default_client.post("/analysis/overlap", content=body)
    assert response.status_code == 413, response.text[:300]
    assert "vertices" in response.json()["description"]
    assert "analysis.max_vertices" in response.json()["description"]


def test_a_million_geojson_points_are_refused(default_client: TestClient) -> None:
    body = b'{"type":"MultiPoint","coordinates":[' + b"[46.5,39.5]," * MILLION + b"[46.5,39.5]]}"
    response = default_client.post("/analysis/classify", content=body)
    assert response.status_code == 413, response.text[:300]
    assert "points (rows)" in response.json()["description"]


def test_lower_row_limit_from_settings_is_honoured(built_data_dir: Path, tmp_path: Path) -> None:
    with _client(built_data_dir, tmp_path, max_rows=50, max_features=10) as client:
        assert client.post("/analysis/classify?format=json", content=_rows(50), headers=CSV).status_code == 200
        refused = client.post("/analysis/classify", content=_rows(51), headers=CSV)
    assert refused.status_code == 413
    assert "> limit 50 " in refused.json()["description"]


def test_lower_vertex_limit_from_settings_is_honoured(built_data_dir: Path, tmp_path: Path) -> None:
    with _client(built_data_dir, tmp_path, max_vertices=100) as client:
        assert client.post("/analysis/overlap", content=_polygon(100)).status_code == 200
        refused = client.post("/analysis/overlap", content=_polygon(101))
    assert refused.status_code == 413
    assert "vertices in the input geometries: 101 > limit 100" in refused.json()["description"]


def test_the_body_limit_names_its_setting(built_data_dir: Path, tmp_path: Path) -> None:
    with _client(built_data_dir, tmp_path, max_upload_bytes=1000) as client:
        refused = client.post("/analysis/classify", content=_rows(200), headers=CSV)
    assert refused.status_code == 413
    assert "analysis.max_upload_bytes" in refused.json()["description"]
