"""Real clients against a real uvicorn server: GDAL's OGC API - Features driver and OWSLib."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import shapely
from owslib.ogcapi.features import Features


def layer_ids(data_dir: Path) -> list[str]:
    return list(json.loads((data_dir / "layers" / "manifest.json").read_text())["layers"])


def built(data_dir: Path, layer_id: str):  # noqa: ANN201
    return pyogrio.read_dataframe(data_dir / "layers" / f"{layer_id}.gpkg", layer=layer_id)


def test_gdal_oapif_reads_every_collection(live_server: str, built_data_dir: Path) -> None:
    assert "OAPIF" in pyogrio.list_drivers()
    for layer_id in layer_ids(built_data_dir):
        served = pyogrio.read_dataframe(f"OAPIF:{live_server}/collections/{layer_id}")
        expected = built(built_data_dir, layer_id)
        assert len(served) == len(expected), layer_id
        by_id = dict(zip(expected["id"].astype(str), expected.geometry, strict=True))
        for feature_id, geometry in zip(served["id"].astype(str), served.geometry, strict=True):
            assert shapely.equals_exact(geometry, by_id[feature_id], tolerance=1e-9), (layer_id, feature_id)


def test_gdal_lists_the_collections_from_the_landing_page(live_server: str, built_data_dir: Path) -> None:
    names = {name for name, _ in pyogrio.list_layers(f"OAPIF:{live_server}")}
    assert names == set(layer_ids(built_data_dir)) | {"events"}


def test_owslib_collections_items_and_item(live_server: str, built_data_dir: Path) -> None:
    api = Features(live_server)
    assert set(api.feature_collections()) == set(layer_ids(built_data_dir)) | {"events"}
    box = [46.5, 39.5, 47.0, 40.0]
    frame = built(built_data_dir, "places")
    expected = set(frame.loc[frame.intersects(shapely.box(*box)), "id"].astype(str))
    page = api.collection_items("places", bbox=box, limit=1000)
    assert {str(f["id"]) for f in page["features"]} == expected
    one = sorted(expected)[0]
    item = api.collection_item("places", one)
    assert item["properties"]["name"] == frame.set_index("id").loc[one, "name"]
    queryables = api.collection_queryables("places")
    assert "population" in json.dumps(queryables)
