"""``czmap analyse`` commands (the typer sub-app) on the real built layers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import geopandas as gpd
from analysis_helpers import ea_square, place
from shapely.geometry import mapping
from typer.testing import CliRunner

from app.analysis.cli import analyse_cli

EVENTS = Path(__file__).parent / "fixtures" / "events.geojson"
runner = CliRunner()


def test_classify_csv(built_data_dir: Path, places: gpd.GeoDataFrame, tmp_path: Path) -> None:
    lon, lat = place(places, 148003)
    points = tmp_path / "points.csv"
    points.write_text(f"id,lat,lon\nhoradiz,{lat},{lon}\nsea,40.0,30.0\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(
        analyse_cli, ["classify", str(points), "--format", "csv", "--data-dir", str(built_data_dir), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["horadiz"]["zones_seven-districts"] == "AZ-FUZ"
    assert float(rows["sea"]["iran_border_km"]) > 1000


def test_overlap_geojson(built_data_dir: Path, population_tif: Path, tmp_path: Path) -> None:
    area = tmp_path / "area.geojson"
    area.write_text(json.dumps(mapping(ea_square(46.75, 39.8, 6))))
    out = tmp_path / "overlap.json"
    args = ["overlap", str(area), "--layers", "nagorno-karabakh", "--data-dir", str(built_data_dir)]
    result = runner.invoke(analyse_cli, [*args, "--population-raster", str(population_tif), "-o", str(out)])
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert [r["zone_id"] for r in body["overlaps"]] == ["nkao"]
    assert body["overlaps"][0]["share_of_input"] > 0.99


def test_summary_with_events(built_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    args = ["summary", "nagorno-karabakh", "--events", str(EVENTS), "--start", "2020-09-27", "--end", "2020-11-10"]
    result = runner.invoke(analyse_cli, [*args, "--data-dir", str(built_data_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["zones"][0]["event_count"] == 3


def test_errors_exit_1_with_the_message(built_data_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(analyse_cli, ["summary", "atlantis", "--data-dir", str(built_data_dir)])
    assert result.exit_code == 1 and "unknown layer 'atlantis'" in result.output
    missing = runner.invoke(analyse_cli, ["summary", "seven-districts", "--data-dir", str(tmp_path)])
    assert missing.exit_code == 1 and "no built layers" in missing.output


def test_summary_reads_the_event_store_as_serve_does(built_data_dir: Path, tmp_path: Path) -> None:
    """Without --events the store in the data folder is read (issue 13: it said no event store was configured)."""
    out = tmp_path / "summary.json"
    args = ["summary", "control-2020", "--datetime", "2020-11-21", "--start", "2020-09-27", "--end", "2020-11-10"]
    result = runner.invoke(analyse_cli, [*args, "--data-dir", str(built_data_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert not any("no event store" in note for note in body["notes"])
    assert sum(zone["event_count"] for zone in body["zones"]) > 0
    assert body["datetime"] == "2020-11-21" and body["default"] is False


def test_classify_a_planner_csv_with_blank_cells(built_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sites.json"
    sites = Path(__file__).parent / "fixtures" / "planner_sites.csv"
    args = ["classify", str(sites), "--format", "json", "--layers", "control-2020", "--datetime", "2020-10-01"]
    result = runner.invoke(analyse_cli, [*args, "--data-dir", str(built_data_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert len(body["points"]) == 27 and body["datetime"] == "2020-10-01"
