"""Zone grids built once and handed to another process's index (app.layerstore.zones.WarmGrids, app.offload).

The worker processes that classify points take the grids the server built (pickled into a file) instead of
building their own on their first classification; what they answer with them must not change.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest
from testsupport import make_settings

from app.analysis.classify import classify
from app.layerstore import LayerStore
from app.layerstore.zones import WarmGrids
from app.offload import WorkerPool
from app.webmap.sources import GeoJSONEvents, MapData, StoreZones


def _points(n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    # around Nagorno-Karabakh, the districts and the Aras: near boundaries, lines and places
    return rng.uniform(45.0, 47.8, n), rng.uniform(38.6, 40.6, n), rng.uniform(0, 5_000, n)


@pytest.fixture(scope="module")
def grids(built_data_dir: Path) -> WarmGrids:
    """Grids built (~8 s) in an index of their own, as the server builds them."""
    return LayerStore.open(built_data_dir).zones.warm_grids()


def test_adopted_grids_answer_as_grids_built_in_place(built_data_dir: Path, grids: WarmGrids) -> None:
    built_here = LayerStore.open(built_data_dir).zones
    handed = pickle.loads(pickle.dumps(grids))  # as a worker process reads them
    adopting = LayerStore.open(built_data_dir).zones
    assert adopting.adopt(handed) is True
    assert all(layer._distance is not None for layer in adopting.layers.values())  # nothing left to build

    lon, lat, radius = _points()
    fresh, adopted = (classify(index, lon, lat, radius) for index in (built_here, adopting))
    assert set(fresh.contains) == set(adopted.contains) and fresh.contains  # every layer answered
    for layer_id in fresh.contains:
        assert np.array_equal(fresh.contains[layer_id], adopted.contains[layer_id]), layer_id
        assert np.array_equal(fresh.membership[layer_id], adopted.membership[layer_id]), layer_id
    for name in ("iran_border_km", "line_of_contact_km", "nearest_place_km"):
        assert np.allclose(getattr(fresh, name), getattr(adopted, name), equal_nan=True), name


def test_grids_of_another_build_are_refused(built_data_dir: Path, grids: WarmGrids) -> None:
    other = dataclasses.replace(grids, versions={**grids.versions, "seven-districts": "0000000000000000"})
    index = LayerStore.open(built_data_dir).zones
    assert index.adopt(other) is False
    assert all(layer._distance is None for layer in index.layers.values())  # nothing taken


def test_the_pool_keeps_its_grids_file_until_it_closes(built_data_dir: Path, tmp_path: Path) -> None:
    layers = LayerStore.open(built_data_dir)
    settings = make_settings(built_data_dir, database_url=f"sqlite:///{tmp_path / 'events.sqlite'}")
    pool = WorkerPool(settings, layers, MapData(zones=StoreZones(layers), events=GeoJSONEvents([])), False)
    try:
        pool.prestart()
        kept = pool._grids
        assert kept is not None and kept.is_file()
        assert kept.parent.stat().st_mode & 0o077 == 0  # only this user may write what the workers unpickle
        assert pool.processes()  # a worker started with them
    finally:
        pool.close()
    assert not kept.parent.exists()
