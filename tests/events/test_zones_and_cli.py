"""Zones from the real built layers, and the events/keys command line against a real data folder."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.events.auth import authenticate
from app.events.cli import events_cli, keys_cli
from app.events.store.sqlite import SqliteEventStore
from app.events.zones import ZoneIndex

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def real_zones(built_data_dir: Path) -> ZoneIndex:
    return ZoneIndex.from_layers_dir(built_data_dir / "layers")


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (46.7528, 39.8177, {"nagorno-karabakh:nkao", "ceasefire-1994-area:b38"}),  # Stepanakert
        (46.5498, 39.6374, {"seven-districts:AZ-LAC", "ceasefire-1994-area:b38"}),  # Lachin
        (49.8671, 40.4093, set()),  # Baku
    ],
)
def test_zones_from_the_built_layers(real_zones, lon, lat, expected):
    zones = set(real_zones.zones_of(lon, lat))
    assert {z for z in zones if not z.startswith("control-2020:")} == expected  # control-2020 is checked below


def test_a_point_in_the_5km_band_is_in_every_nested_band_on_its_side(built_data_dir):
    import pyogrio

    bands = pyogrio.read_dataframe(built_data_dir / "layers" / "iran-border-zone.gpkg", layer="iran-border-zone")
    point = bands.set_index("id").geometry["AZ-5km"].representative_point()
    zones = ZoneIndex.from_layers_dir(built_data_dir / "layers").zones_of(point.x, point.y)
    border = {z for z in zones if z.startswith("iran-border-zone:")}
    assert border == {"iran-border-zone:AZ-5km", "iran-border-zone:AZ-10km", "iran-border-zone:AZ-20km"}


def test_control_2020_is_used_once_built(real_zones):
    if "control-2020" not in real_zones.layers:
        pytest.skip("the control-2020 layer is not built yet")
    assert any(z.startswith("control-2020:") for z in real_zones.zones_of(46.5498, 39.6374))


def test_zones_equal_an_independent_point_in_polygon_test(real_zones, built_data_dir):
    import numpy as np
    import pyogrio
    import shapely

    rng = np.random.default_rng(4)
    points = shapely.points(rng.uniform(44.8, 47.8, 1500), rng.uniform(38.6, 40.6, 1500))
    polygons = []
    for layer in real_zones.layers:
        frame = pyogrio.read_dataframe(built_data_dir / "layers" / f"{layer}.gpkg", layer=layer)
        polygons += [(f"{layer}:{fid}", geom) for fid, geom in zip(frame["id"], frame.geometry, strict=True)]
    inside = 0
    for point in points:
        expected = sorted(label for label, geom in polygons if geom.intersects(point))
        assert real_zones.zones_of(point.x, point.y) == expected
        inside += bool(expected)
    assert inside > 300  # the sample reaches into the zones, not only around them


def test_zone_index_names_the_missing_manifest(tmp_path):
    with pytest.raises(Exception, match="manifest.json missing"):
        ZoneIndex.from_layers_dir(tmp_path)


@pytest.fixture
def cli_env(built_data_dir: Path, tmp_path: Path) -> dict[str, str]:
    return {"CZMAP_DATA_DIR": str(built_data_dir), "CZMAP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}


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
    assert tartar[rows[0].index("zones")] == ""  # Tartar lies outside every zone layer


def test_cli_seed_writes_as_seed(cli_env):
    result = CliRunner().invoke(events_cli, ["seed", "--file", str(FIXTURES / "seed_sample.json")], env=cli_env)
    assert "2 created" in result.output and "date_end" in result.output
    with SqliteEventStore(Path(cli_env["CZMAP_DATABASE_URL"].removeprefix("sqlite:///"))) as store:
        event = store.get("czm-2020-9001")
    assert event is not None and event.created_by == "seed" and "nagorno-karabakh:nkao" in event.zones


def test_cli_keys_create_prints_the_key_once(cli_env):
    result = CliRunner().invoke(keys_cli, ["create", "--role", "admin", "--label", "Lead"], env=cli_env)
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[0]
    with SqliteEventStore(Path(cli_env["CZMAP_DATABASE_URL"].removeprefix("sqlite:///"))) as store:
        assert authenticate(store, f"Bearer {key}").role == "admin"
    listed = CliRunner().invoke(keys_cli, ["list"], env=cli_env)
    assert "Lead" in listed.output and key not in listed.output


def test_cli_geocode_lists_candidates_for_an_ambiguous_name(cli_env):
    runner = CliRunner()
    ambiguous = runner.invoke(events_cli, ["geocode", "Martuni"], env=cli_env)
    assert ambiguous.exit_code == 1 and "Khojavend" in ambiguous.output
    found = runner.invoke(events_cli, ["geocode", "Berdzor"], env=cli_env)
    assert found.exit_code == 0 and found.stdout.startswith("147625\t")
