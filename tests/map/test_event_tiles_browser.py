"""The map in headless Chromium over the curated events with a low tile threshold: a dense view is drawn from the
event vector tiles, and zooming in where few events are switches back to one marker per event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mapsupport import LiveServer, PageWatch, copy_data_dir, serve, store_settings

from app.main import create_app

LOADED = "() => document.querySelector('.folium-map').hasAttribute('data-events-shown')"
MODE = "() => document.querySelector('.folium-map').getAttribute('data-events-mode')"
MAP = "window[Object.keys(window).find((k) => /^map_[0-9a-f]+$/.test(k))]"


@pytest.fixture(scope="module")
def tiled_server(map_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the curated seed events, drawing views of more than 10 events from tiles."""
    data_dir = copy_data_dir(map_data_dir, tmp_path_factory.mktemp("map-tiled"))
    settings = store_settings(data_dir, seed=True, basemap={"url": None}, map={"event_tiles_above": 10})
    with serve(create_app(settings)) as live:
        yield live


def test_a_dense_view_draws_event_tiles_then_markers_when_zoomed_in(
    tiled_server: LiveServer, watched: PageWatch
) -> None:
    page = watched.page
    page.goto(f"{tiled_server.url}/map?zoom=8&lat=39.6&lon=46.7&basemap=none")
    page.wait_for_function(LOADED, timeout=30_000)
    assert page.evaluate(MODE) == "tiles"
    assert "drawn as counts per area" in page.locator(".czmap-status").inner_text()
    page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-container path').length > 0")
    assert any("/collections/events/tiles/WebMercatorQuad/8/" in url for url in watched.requests)
    page.evaluate(f"() => {MAP}.setView([39.8, 47.3], 13)")  # east of Aghdam: one event or none in view
    page.wait_for_function(f"() => ({MODE})() === 'features'", timeout=30_000)
    assert page.locator(".leaflet-tile-container path").count() == 0
    assert watched.errors == []


def test_the_event_tiles_follow_the_type_filter(tiled_server: LiveServer, watched: PageWatch) -> None:
    page = watched.page
    page.goto(f"{tiled_server.url}/map?zoom=8&lat=39.6&lon=46.7&basemap=none&event_type=Battles")
    page.wait_for_function(LOADED, timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-container path').length > 0")
    tiles = [url for url in watched.requests if "/tiles/WebMercatorQuad/" in url]
    assert tiles and all("filter=event_type+IN+%28%27Battles%27%29" in url for url in tiles)
    assert watched.errors == []
