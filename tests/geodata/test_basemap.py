"""The offline basemap layer built from the mirror: what it holds, and labels that keep apart at every zoom."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from geodata.basemap import M_PER_PX_Z0, WEB_MERCATOR

SPACING_PX = (110, 30)  # as layers/basemap.toml


@pytest.fixture(scope="module")
def basemap(built_data_dir: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(built_data_dir / "layers" / "basemap.gpkg", layer="basemap")


def test_basemap_holds_land_borders_rivers_and_labels_but_no_lakes(basemap: gpd.GeoDataFrame) -> None:
    kinds = set(basemap["kind"])
    assert kinds == {"land", "border", "river", "country-label", "place-label"}  # the mirror has no lake polygons
    rivers = set(basemap.loc[basemap["kind"] == "river", "name"])
    assert {"Aras", "Kura"} <= rivers
    countries = set(basemap.loc[basemap["kind"] == "country-label", "name"])
    assert {"Azerbaijan", "Armenia", "Iran", "Georgia"} <= countries
    west, south, east, north = basemap.total_bounds
    assert west >= 41.0 - 1e-9 and east <= 51.5 + 1e-9 and south >= 36.5 - 1e-9 and north <= 43.5 + 1e-9


def test_place_labels_keep_apart_at_every_zoom(basemap: gpd.GeoDataFrame) -> None:
    labels = basemap[basemap["kind"] == "place-label"].to_crs(WEB_MERCATOR)
    xy = np.column_stack([labels.geometry.x, labels.geometry.y])
    for zoom in range(6, 13):
        shown = xy[labels["min_zoom"].to_numpy() <= zoom]
        metres = M_PER_PX_Z0 / 2**zoom
        dx = np.abs(shown[:, None, 0] - shown[None, :, 0]) < SPACING_PX[0] * metres
        dy = np.abs(shown[:, None, 1] - shown[None, :, 1]) < SPACING_PX[1] * metres
        clashes = (dx & dy).sum() - len(shown)  # the diagonal: each label with itself
        assert clashes == 0, f"{clashes // 2} pairs of labels overlap at zoom {zoom}"
    counts = [int((labels["min_zoom"] <= z).sum()) for z in range(6, 13)]
    assert counts == sorted(counts) and counts[0] < counts[-1]  # more labels as one zooms in


def test_the_towns_of_the_reporting_are_labelled_first(basemap: gpd.GeoDataFrame) -> None:
    labels = basemap[basemap["kind"] == "place-label"].set_index("name")
    assert labels.loc["Khankendi / Stepanakert", "min_zoom"] == 6  # GeoNames gives it 2,100 people
    assert labels.loc["Aghdam", "min_zoom"] <= 8  # next to it: kept apart from Khankendi at zoom 6 and 7


def test_basemap_manifest_entry_credits_its_sources(built_data_dir: Path) -> None:
    meta = json.loads((built_data_dir / "layers" / "manifest.json").read_text())["layers"]["basemap"]
    assert meta["licence"]["name"] == "CC BY 4.0"
    assert "Natural Earth" in meta["attribution"] and "GeoNames" in meta["attribution"]
    assert {s["id"] for s in meta["sources"]} >= {"ne-rivers", "ne-countries-50m", "geonames-cities500"}
