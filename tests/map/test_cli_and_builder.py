"""`czmap render` and the map builder's output without a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from typer.testing import CliRunner

from app.webmap.builder import PageOptions, build_map, render_page
from app.webmap.cli import render_cli
from app.webmap.settings import MapSettings
from app.webmap.view import parse_view
from geodata.build import read_manifest


def test_render_command_writes_png_and_prints_alt(
    map_data_dir: Path, events_fixture: list[dict], tmp_path: Path
) -> None:
    events = tmp_path / "events.geojson"
    events.write_text(json.dumps({"type": "FeatureCollection", "features": events_fixture}), encoding="utf-8")
    out = tmp_path / "view.png"
    args = [
        "--data-dir",
        str(map_data_dir),
        "--events",
        str(events),
        "--out",
        str(out),
        "--datetime",
        "2020-10-01/2020-10-07",
        "--lat",
        "39.6",
        "--lon",
        "46.9",
        "--zoom",
        "8",
        "--width",
        "500",
        "--height",
        "400",
    ]
    result = CliRunner().invoke(render_cli, args)
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (500, 400)
    assert "14 reported events between 1 and 7 October 2020" in result.output


def test_render_command_rejects_a_bad_view(map_data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        render_cli, ["--data-dir", str(map_data_dir), "--zoom", "40", "--out", str(tmp_path / "x.png")]
    )
    assert result.exit_code == 1
    assert "zoom" in result.output
    assert not (tmp_path / "x.png").exists()


def page_for(map_data_dir: Path, **params: Any) -> str:
    manifest = read_manifest(map_data_dir)
    view = parse_view(params, manifest["layers"])
    return render_page(build_map(view, manifest, MapSettings(), PageOptions(embed=True)), "n0nce")


def test_every_manifest_layer_is_loaded_by_url_with_its_style(map_data_dir: Path) -> None:
    html = page_for(map_data_dir)
    manifest = read_manifest(map_data_dir)
    for layer_id, meta in manifest["layers"].items():
        assert f'"/collections/{layer_id}/items"' in html
        assert json.dumps(meta["style"]["color"]) in html
    assert '"/collections/events/items"' in html
    assert '"type": "Feature"' not in html


def test_dated_layers_are_marked_for_the_time_control(map_data_dir: Path) -> None:
    html = page_for(map_data_dir)
    calls = [line for line in html.splitlines() if "czmap.zoneLayer(" in line]
    dated = {
        json.loads(line.split("_ctx, ", 1)[1].rsplit(");", 1)[0])["id"] for line in calls if '"dated": true' in line
    }
    manifest = read_manifest(map_data_dir)
    assert dated == {layer for layer, meta in manifest["layers"].items() if meta["valid_from"] or meta["valid_to"]}
