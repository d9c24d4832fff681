"""One version: the package metadata, ``app.__version__`` and the API document say the same."""

from __future__ import annotations

import tomllib
from pathlib import Path

from testsupport import make_settings

from app import __version__
from app.main import create_app

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_api_document_and_the_package_report_the_released_version(tmp_path: Path) -> None:
    declared = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    assert __version__ == declared
    assert create_app(make_settings(tmp_path)).openapi()["info"]["version"] == declared
