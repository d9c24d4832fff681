"""`czmap render` and the map builder's output without a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mapsupport import PAYLOADS, copy_data_dir, open_store_service, store_settings, write_events
from PIL import Image
from typer.testing import CliRunner

from app.webmap.builder import PageOptions, build_map, render_page
from app.webmap.cli import render_cli
from app.webmap.view import BASEMAP_LAYER, parse_view
from geodata.manifest import read_manifest


def render_args(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["--data-dir", str(data_dir), "--out", str(out), *extra]


def test_render_command_draws_the_events_of_the_store(
    map_data_dir: Path, events_fixture: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = copy_data_dir(map_data_dir, tmp_path / "data")
    service = open_store_service(data_dir)
    try:
        write_events(service, events_fixture)
    finally:
        service.store.close()
    for name in ("CZMAP_DATABASE_URL", "CZMAP_EVENTS__DATABASE_URL"):  # the default store: <data dir>/events.sqlite
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "view.png"
    view = ["--datetime", "2020-10-01/2020-10-07", "--lat", "39.6", "--lon", "46.9", "--zoom", "8"]
    result = CliRunner().invoke(render_cli, render_args(data_dir, out, *view, "--width", "500", "--height", "400"))
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (500, 400)
    assert "14 reported events between 1 and 7 October 2020" in result.output


def test_render_command_on_a_fresh_folder_draws_the_seed(
    map_data_dir: Path, seed_records: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = copy_data_dir(map_data_dir, tmp_path / "data")
    for name in ("CZMAP_DATABASE_URL", "CZMAP_EVENTS__DATABASE_URL", "CZMAP_SEED_EVENTS", "CZMAP_EVENTS__SEED"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "seed.png"
    result = CliRunner().invoke(render_cli, render_args(data_dir, out, "--zoom", "6"))
    assert result.exit_code == 0, result.output
    in_war = [r for r in seed_records if r["date_start"] <= "2020-11-10" and r["date_end"] >= "2020-09-27"]
    assert result.output.startswith(f"{len(in_war)} reported events between 27 September and 10 November 2020")
    assert (data_dir / "events.sqlite").exists()


def test_render_command_reads_a_geojson_file_too(
    map_data_dir: Path, events_fixture: list[dict], tmp_path: Path
) -> None:
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]}, "properties": r}
        for r in events_fixture
    ]
    events = tmp_path / "events.geojson"
    events.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    view = ["--datetime", "2020-10-20", "--zoom", "7", "--events", str(events)]
    result = CliRunner().invoke(render_cli, render_args(map_data_dir, tmp_path / "x.png", *view))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{len(PAYLOADS)} reported events on 20 October 2020")


def test_render_command_rejects_a_bad_view(map_data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        render_cli, ["--data-dir", str(map_data_dir), "--zoom", "40", "--out", str(tmp_path / "x.png")]
    )
    assert result.exit_code == 1
    assert "zoom" in result.output
    assert not (tmp_path / "x.png").exists()


def page_for(map_data_dir: Path, **params: Any) -> str:
    manifest = read_manifest(map_data_dir)
    view = parse_view(params, manifest.layers)
    html, _ = render_page(build_map(view, manifest, store_settings(map_data_dir), PageOptions(embed=True)))
    return html


def test_every_manifest_layer_is_loaded_by_url_with_its_style(map_data_dir: Path) -> None:
    html = page_for(map_data_dir)
    manifest = read_manifest(map_data_dir)
    for layer_id, meta in manifest.layers.items():
        assert f'"/collections/{layer_id}/items"' in html
        if layer_id != BASEMAP_LAYER:  # the basemap is drawn in the page's own colours (light and dark)
            assert json.dumps(meta.style["color"]) in html
    assert '"/collections/events/items"' in html
    assert '"type": "Feature"' not in html


def test_dated_layers_are_marked_for_the_time_control(map_data_dir: Path) -> None:
    html = page_for(map_data_dir)
    calls = [line for line in html.splitlines() if "czmap.zoneLayer(" in line]
    dated = {
        json.loads(line.split("_ctx, ", 1)[1].rsplit(");", 1)[0])["id"] for line in calls if '"dated": true' in line
    }
    # dated on the layer (1994 ceasefire line and area) or per feature (control-2020's valid_from/valid_to)
    assert {"line-of-contact-1994", "ceasefire-1994-area", "control-2020"} <= dated
    assert not dated & {"seven-districts", "nagorno-karabakh", "iran-border", "iran-border-zone", "places"}
