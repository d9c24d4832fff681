"""Zones from the real built layers, and the events/keys command line against a real data folder."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.events.auth import authenticate
from app.events.cli import events_cli, keys_cli
from app.events.store.sqlite import SqliteEventStore
from app.events.zones import ZONE_LAYERS, event_zones
from app.layerstore import LayerStore

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def layer_store(built_data_dir: Path) -> LayerStore:
    return LayerStore.open(built_data_dir)


def zones_of(store: LayerStore, lon: float, lat: float, day: date | None = None) -> list[str]:
    return event_zones(store.zones, lon, lat, day)


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (46.7528, 39.8177, {"nagorno-karabakh:nkao", "ceasefire-1994-area:b38", "admin-units:nkao"}),  # Stepanakert
        (46.5498, 39.6374, {"seven-districts:AZ-LAC", "ceasefire-1994-area:b38", "admin-units:AZ-LAC"}),  # Lachin
        (44.5126, 40.1811, {"admin-units:ARM"}),  # Yerevan: Armenia, in none of the war's zones
    ],
)
def test_zones_from_the_built_layers(layer_store, lon, lat, expected):
    zones = set(zones_of(layer_store, lon, lat))
    assert {z for z in zones if not z.startswith("control-2020:")} == expected  # control-2020 is checked below


def test_a_point_in_the_5km_band_is_in_every_nested_band_on_its_side(layer_store):
    bands = layer_store.frame("iran-border-zone")
    point = bands.set_index("id").geometry["AZ-5km"].representative_point()
    zones = zones_of(layer_store, point.x, point.y)
    border = {z for z in zones if z.startswith("iran-border-zone:")}
    assert border == {"iran-border-zone:AZ-5km", "iran-border-zone:AZ-10km", "iran-border-zone:AZ-20km"}


@pytest.mark.parametrize("day", [date(2020, 9, 27), date(2020, 11, 9), date(2020, 11, 30), date(2021, 6, 1)])
def test_an_event_gets_one_control_state_for_its_day(layer_store, day):
    lachin = [z for z in zones_of(layer_store, 46.5498, 39.6374, day) if z.startswith("control-2020:")]
    assert len(lachin) == 1, lachin
    frame = layer_store.frame("control-2020", as_of=day).set_index("id")
    assert frame.loc[lachin[0].split(":", 1)[1], "controlled_by"]  # the feature of that day names its controller


def test_zones_equal_an_independent_point_in_polygon_test(layer_store):
    import numpy as np
    import shapely

    rng = np.random.default_rng(4)
    points = shapely.points(rng.uniform(44.8, 47.8, 1500), rng.uniform(38.6, 40.6, 1500))
    polygons = []
    for layer in (lid for lid in ZONE_LAYERS if lid in layer_store):
        frame = layer_store.frame(layer)
        polygons += [(f"{layer}:{fid}", geom) for fid, geom in zip(frame["id"], frame.geometry, strict=True)]
    inside = 0
    for point in points:
        expected = sorted(label for label, geom in polygons if geom.intersects(point))
        assert zones_of(layer_store, point.x, point.y) == expected
        inside += bool(expected)
    assert inside > 300  # the sample reaches into the zones, not only around them


def test_the_layer_store_names_the_missing_manifest(tmp_path):
    with pytest.raises(Exception, match="no built layers"):
        LayerStore.open(tmp_path)


@pytest.fixture
def cli_env(built_data_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "CZMAP_DATA_DIR": str(built_data_dir),
        "CZMAP_EVENTS__DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
    }


def test_cli_import_reports_rejections_and_is_idempotent(cli_env):
    runner = CliRunner()
    first = runner.invoke(events_cli, ["import", str(FIXTURES / "ucdp_ged_sample.csv")], env=cli_env)
    assert first.exit_code == 2, first.output
    assert "3 created" in first.output and "2 rejected" in first.output and "latitude" in first.output
    second = runner.invoke(
        events_cli, ["import", str(FIXTURES / "ucdp_ged_sample.csv"), "--format", "ucdp"], env=cli_env
    )
    assert "0 created" in second.output and "3 already present" in second.output


def test_cli_export_csv_to_file(cli_env, tmp_path):
    runner = CliRunner()
    runner.invoke(events_cli, ["import", str(FIXTURES / "acled_sample.csv")], env=cli_env)
    out = tmp_path / "events.csv"
    result = runner.invoke(events_cli, ["export", "--format", "csv", "-o", str(out)], env=cli_env)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[1][rows[0].index("lat")] == "#geo+lat" and len(rows) == 2 + 3
    tartar = next(r for r in rows if r[0] == "acled-AZE1001")
    assert tartar[rows[0].index("zones")] == "admin-units:AZE-tartar-district"  # outside every war zone


def test_cli_seed_writes_as_seed(cli_env):
    result = CliRunner().invoke(events_cli, ["seed", "--file", str(FIXTURES / "seed_sample.json")], env=cli_env)
    assert "2 created" in result.output and "date_end" in result.output
    with SqliteEventStore(Path(cli_env["CZMAP_EVENTS__DATABASE_URL"].removeprefix("sqlite:///"))) as store:
        event = store.get("czm-2020-9001")
    assert event is not None and event.created_by == "seed" and "nagorno-karabakh:nkao" in event.zones


def test_cli_keys_create_prints_the_key_once(cli_env):
    result = CliRunner().invoke(keys_cli, ["create", "--role", "admin", "--label", "Lead"], env=cli_env)
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[0]
    with SqliteEventStore(Path(cli_env["CZMAP_EVENTS__DATABASE_URL"].removeprefix("sqlite:///"))) as store:
        assert authenticate(store, f"Bearer {key}").role == "admin"
    listed = CliRunner().invoke(keys_cli, ["list"], env=cli_env)
    assert "Lead" in listed.output and key not in listed.output


def test_cli_geocode_lists_candidates_for_an_ambiguous_name(cli_env):
    runner = CliRunner()
    ambiguous = runner.invoke(events_cli, ["geocode", "Martuni"], env=cli_env)
    assert ambiguous.exit_code == 1 and "Khojavend" in ambiguous.output
    found = runner.invoke(events_cli, ["geocode", "Berdzor"], env=cli_env)
    assert found.exit_code == 0 and found.stdout.startswith("147625\t")
