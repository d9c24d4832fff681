"""Shared fixtures: the geodata mirror and a freshly built data folder.

In CI (``CZMAP_REQUIRE_ALL=1`` or ``CI=true``) a missing component fails the test instead of skipping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from geodata.build import build_all
from geodata.fetch import fetch_sources
from geodata.layerdefs import load_registry
from geodata.sources import load_catalogue

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUIRE_ALL = os.environ.get("CZMAP_REQUIRE_ALL") == "1" or os.environ.get("CI") == "true"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect only test modules under tests/: ``--doctest-modules`` is for the packages, and importing a
    conftest or helper module a second time as a doctest module clashes with its import by the tests."""
    if collection_path.suffix == ".py" and not collection_path.name.startswith("test_"):
        return True
    return None


def require(available: bool, what: str) -> None:
    """Skip when ``what`` is unavailable, or fail when CI requires every component."""
    if available:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required component missing: {what}")
    pytest.skip(f"{what} not available")


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
