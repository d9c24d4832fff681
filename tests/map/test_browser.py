"""The map in headless Chromium: loads cleanly, draws zones and events, filters by date, embeds, resists injection."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mapsupport import PAYLOADS, LiveServer, PageWatch

MAP_VAR = "/^map_[0-9a-f]+$/"
LOADED = "() => document.querySelector('.folium-map').hasAttribute('data-events-shown')"


def open_map(watch: PageWatch, url: str) -> Any:
    page = watch.page
    page.goto(url)
    try:
        page.wait_for_function(LOADED, timeout=20_000)
    except Exception as exc:  # report what the page said, not only the timeout
        raise AssertionError(f"map did not load: {watch.errors}") from exc
    return page


def shown(page: Any) -> int:
    return int(page.get_attribute(".folium-map", "data-events-shown"))


def in_week(events: list[dict], start: str, end: str) -> int:
    return sum(1 for f in events if f["properties"]["date_start"] <= end and f["properties"]["date_end"] >= start)


def test_map_loads_without_errors_with_zones_and_markers(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict], artifacts: Path
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=8&lat=39.6&lon=46.6")
    page.wait_for_function("() => document.querySelector('.folium-map').hasAttribute('data-zone-seven-districts')")
    assert watched.errors == []
    assert page.get_attribute(".folium-map", "data-zone-seven-districts") == "7"
    assert page.locator(".leaflet-overlay-pane canvas").count() >= 1
    assert page.locator(".marker-cluster, .czmap-event-icon").count() >= 1
    assert shown(page) == len(events_fixture)
    for control in (".leaflet-control-scale", ".leaflet-control-layers", ".leaflet-control-minimap", ".czmap-legend"):
        assert page.locator(control).count() == 1, control
    assert page.get_by_role("button", name="Toggle full screen").count() == 1
    assert page.get_by_role("button", name="Measure distance: start or stop").count() == 1
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "Natural Earth" in attribution and "geoBoundaries" in attribution and "Test tiles" in attribution
    page.screenshot(path=artifacts / "map.png")


def test_no_request_leaves_localhost(live_server: LiveServer, watched: PageWatch) -> None:
    open_map(watched, f"{live_server.url}/map")
    watched.page.wait_for_timeout(500)
    hosts = {urlsplit(url).hostname for url in watched.requests if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}
    assert any("/tiles/" in url for url in watched.requests)


def test_basemap_none_requests_no_tiles(live_server: LiveServer, watched: PageWatch) -> None:
    open_map(watched, f"{live_server.url}/map?basemap=none")
    assert not any("/tiles/" in url for url in watched.requests)
    assert watched.errors == []


def test_time_control_filters_events_and_updates_the_url(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict]
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=8&lat=39.6&lon=46.6")
    page.get_by_label("From", exact=True).fill("2020-10-01")
    page.get_by_label("To", exact=True).fill("2020-10-07")
    page.get_by_label("To", exact=True).dispatch_event("change")
    expected = in_week(events_fixture, "2020-10-01", "2020-10-07")
    page.wait_for_function(f"() => document.querySelector('.folium-map').dataset.eventsShown === '{expected}'")
    page.wait_for_function("() => location.search.includes('datetime=2020-10-01%2F2020-10-07')")
    assert expected < len(events_fixture)
    assert watched.errors == []


def test_permalink_reproduces_the_view(live_server: LiveServer, watched: PageWatch, browser: Any) -> None:
    page = open_map(watched, f"{live_server.url}/map?lat=39.5&lon=46.9&zoom=9&layers=seven-districts,events")
    page.locator(".folium-map").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(600)
    query = parse_qs(urlsplit(page.url).query)
    assert query["zoom"] == ["9"] and query["layers"] == ["seven-districts,events"]
    moved_lon = float(query["lon"][0])
    assert moved_lon != 46.9
    again = browser.new_page()
    again.goto(page.url)
    again.wait_for_function(LOADED, timeout=20_000)
    again_query = parse_qs(urlsplit(again.url).query)
    assert again_query["lon"] == query["lon"] and again_query["lat"] == query["lat"]
    checked = again.locator(".leaflet-control-layers-overlays label:has(input:checked)").all_inner_texts()
    assert [text.strip() for text in checked] == [
        "The seven districts around Nagorno-Karabakh",
        "Reported events",
        "Location uncertainty of the selected event",
    ]
    again.close()


def test_embed_fits_a_small_iframe(live_server: LiveServer, watched: PageWatch, artifacts: Path) -> None:
    page = watched.page
    page.goto(live_server.url.replace("127.0.0.1", "localhost") + "/test-host")
    frame = page.frame_locator("#f")
    frame.locator(".folium-map[data-events-shown]").wait_for(timeout=20_000)
    inner = next(f for f in page.frames if f.url.startswith(live_server.url))
    size = inner.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight, innerWidth, innerHeight]"
    )
    assert size[0] <= size[2] and size[1] <= size[3]
    box = inner.locator(".leaflet-control-attribution").bounding_box()
    assert box and box["y"] + box["height"] <= 240 and box["width"] > 0
    assert inner.locator("body").get_attribute("class") == "czmap-embed czmap-dark"
    page.screenshot(path=artifacts / "embed-320x240-dark.png")


def test_injection_payloads_are_shown_as_text(live_server: LiveServer, watched: PageWatch, artifacts: Path) -> None:
    page = open_map(watched, f"{live_server.url}/map?title={PAYLOADS[1].replace('#', '%23').replace('&', '%26')}")
    for i, payload in enumerate(PAYLOADS):
        page.evaluate(
            """(id) => new Promise((done) => {
                const ctx = document.querySelector('.folium-map') && window[Object.keys(window).find(
                    (k) => k.endsWith('_ctx'))];
                const marker = ctx.events.getLayers().find((m) => m.getPopup() && m.options.title.startsWith(id));
                ctx.events.zoomToShowLayer(marker, () => { marker.openPopup(); done(); });
            })""",
            payload,
        )
        popup = page.locator(".czmap-popup")
        popup.wait_for()
        assert popup.locator("h3").inner_text() == payload
        assert popup.locator("a").count() == 0  # the javascript: source URL is not a link
        page.screenshot(path=artifacts / f"popup-payload-{i}.png")
        page.evaluate(f"() => {{ window[Object.keys(window).find((k) => {MAP_VAR}.test(k))].closePopup(); }}")
        popup.wait_for(state="detached")
    assert page.locator(".czmap-title-text").inner_text() == PAYLOADS[1]
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("pwned, img[src='x']").count() == 0
    assert watched.errors == []


def test_hundred_thousand_events_stay_usable(big_server: LiveServer, watched: PageWatch, artifacts: Path) -> None:
    started = time.monotonic()
    page = watched.page
    page.goto(f"{big_server.url}/map?zoom=8&lat=39.6&lon=46.7&basemap=none")
    page.wait_for_function(LOADED, timeout=60_000)
    loaded = time.monotonic() - started
    status = page.locator(".czmap-status").inner_text()
    assert "zoom in" in status
    assert shown(page) == 10_000
    html_size = len(page.content())
    started = time.monotonic()
    page.evaluate(f"() => {{ window[Object.keys(window).find((k) => {MAP_VAR}.test(k))].setZoom(11); }}")
    page.wait_for_function("() => document.querySelector('.czmap-status').textContent.startsWith('Loading')")
    page.wait_for_function(
        "() => !document.querySelector('.czmap-status').textContent.startsWith('Loading')", timeout=60_000
    )
    zoomed = time.monotonic() - started
    print(f"100k events: first view {loaded:.1f} s, zoom to 11 and reload {zoomed:.1f} s, DOM {html_size} chars")
    assert watched.errors == []
    page.screenshot(path=artifacts / "map-100k.png")
