"""Days, dated zones and layer accuracies on synthetic zones, and the accuracies the build declares."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from analysis_helpers import ea_square
from pyproj import Transformer

from app.analysis.classify import Membership, classify
from app.analysis.dated import parse_period
from app.analysis.errors import InvalidParameter
from app.layerstore.zones import ZoneIndex, ZoneLayer
from geodata.build import LAYERS_FOLDER, MANIFEST_NAME

_TO_EA = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
_FROM_EA = Transformer.from_crs("EPSG:6933", "EPSG:4326", always_xy=True)


def _inside_west_by(km: float) -> tuple[np.ndarray, np.ndarray]:
    """A point ``km`` west of the edge shared by the 'west' and 'east' squares of ``square_zones``."""
    x, y = _TO_EA.transform(46.5, 39.5)
    lon, lat = _FROM_EA.transform(x - km * 1000, y)
    return np.array([lon]), np.array([lat])


@pytest.mark.parametrize(
    ("radius_m", "accuracy_m", "expected"),
    [
        (0.0, 0.0, Membership.INSIDE),
        (0.0, 1000.0, Membership.POSSIBLY_INSIDE),  # 0.7 km from a 1 km-accurate edge
        (0.0, 500.0, Membership.INSIDE),
        (400.0, 400.0, Membership.POSSIBLY_INSIDE),  # the two radii add up: 0.8 km > 0.7 km
        (300.0, 300.0, Membership.INSIDE),
    ],
)
def test_layer_accuracy_and_point_precision_combine(square_zones, radius_m, accuracy_m, expected) -> None:
    lon, lat = _inside_west_by(0.7)
    result = classify(
        square_zones, lon, lat, np.array([radius_m]), ["grid"], distances=False, accuracy_m={"grid": accuracy_m}
    )
    assert Membership(int(result.membership["grid"][0, 0])) is expected
    assert bool(result.contains["grid"][0, 0]), "the point itself stays in the west square"


@pytest.fixture
def dated_zones() -> ZoneIndex:
    """One square, held by A until 2020-10-17 (exclusive) and by B from then: the same ground, two dated states."""
    square = ea_square(46.5, 39.5, 10)
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "valid_from": ["1994-05-12", "2020-10-17"], "valid_to": ["2020-10-17", None]},
        geometry=[square, square],
        crs="EPSG:4326",
    )
    return ZoneIndex({"control": ZoneLayer.from_frame("control", "Control", frame)})


@pytest.mark.parametrize(("day", "state"), [(date(2020, 10, 16), [1, 0]), (date(2020, 10, 17), [0, 1])])
def test_one_state_per_place_per_day(dated_zones, day, state) -> None:
    result = classify(dated_zones, np.array([46.5]), np.array([39.5]), day=day, distances=False)
    assert result.contains["control"][:, 0].astype(int).tolist() == state


def test_without_a_day_both_states_match(dated_zones) -> None:
    """The behaviour issue 13 reported, still what day=None means: 'inside' both the pre- and post-capture state."""
    result = classify(dated_zones, np.array([46.5]), np.array([39.5]), distances=False)
    assert result.contains["control"][:, 0].tolist() == [True, True]


@pytest.mark.parametrize("value", ["2020-13-01", "yesterday", "2020-10-01/..", "a/b/c", "2020-11-10/2020-10-01"])
def test_bad_datetimes_are_refused_by_name(value) -> None:
    with pytest.raises(InvalidParameter, match="'datetime'"):
        parse_period(value)


#: Measured positional errors (geodata PROVENANCE files) the declared accuracies must cover, in metres.
MEASURED_ERROR_M = {
    "seven-districts": 2800,  # geoBoundaries southern edge: median 2.8 km from the Aras (p95 6.9 km)
    "nagorno-karabakh": 220,  # Natural Earth oblast line pieces miss each other by up to about 0.22 km
    "iran-border": 50,  # Natural Earth 10m AZE-IRN line follows the Aras to within about 50 m
}


def test_every_layer_declares_its_accuracy(built_data_dir: Path) -> None:
    layers = json.loads((built_data_dir / LAYERS_FOLDER / MANIFEST_NAME).read_text())["layers"]
    for layer_id, meta in layers.items():
        assert meta["accuracy_m"] is not None and meta["accuracy_note"], layer_id
    for layer_id, measured in MEASURED_ERROR_M.items():
        assert layers[layer_id]["accuracy_m"] >= measured, layer_id
    assert layers["control-2020"]["accuracy_m"] >= layers["seven-districts"]["accuracy_m"]
