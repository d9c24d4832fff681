"""Every notebook in notebooks/ runs from top to bottom without error, so the worked examples never rot.

The notebooks for users of the service (API client, planner, journalist) read its address from ``CZMAP_URL``:
they run against a real ``czmap serve`` over the session's built layers, with the curated events, and their own
assertions fail when the service answers wrongly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from livesupport import start_server, stop_server
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def needs_server(path: Path) -> bool:
    """Whether the notebook talks to a running service (it reads CZMAP_URL)."""
    return "CZMAP_URL" in path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def notebook_server(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``czmap serve`` over a copy of the built layers, its SQLite store seeded with the curated events."""
    data_dir = tmp_path_factory.mktemp("notebook-data")
    shutil.copytree(built_data_dir / "layers", data_dir / "layers")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CZMAP_")}
    env |= {"CZMAP_DATA_DIR": str(data_dir), "CZMAP_BASEMAP__URL": ""}
    url, process = start_server(env)
    try:
        yield url
    finally:
        stop_server(process)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(
    path: Path, geodata_mirror: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("CZMAP_GEODATA_MIRROR", str(geodata_mirror))
    if needs_server(path):
        monkeypatch.setenv("CZMAP_URL", request.getfixturevalue("notebook_server"))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert any(
        o.output_type == "display_data" and "image/png" in o.get("data", {})
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
