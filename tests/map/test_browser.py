"""The map in headless Chromium: loads cleanly, draws zones and events, filters by date, embeds, resists injection."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from mapsupport import JS_URL, LOADED, PAYLOADS, UNMAPPED, LiveServer, PageWatch, drawable, open_map

MAP_VAR = "/^map_[0-9a-f]+$/"


def shown(page: Any) -> int:
    return int(page.get_attribute(".folium-map", "data-events-shown"))


def open_popup(page: Any, event_id: str) -> Any:
    """Open the popup of the marker of ``event_id`` (zooming into its cluster) and return the popup locator."""
    page.evaluate(
        """(id) => new Promise((done, fail) => {
            const ctx = window[Object.keys(window).find((k) => k.endsWith('_ctx'))];
            const marker = ctx.events.getLayers().find((m) => m.feature && m.feature.id === id);
            if (!marker) { fail(new Error('no marker for ' + id)); return; }
            ctx.events.zoomToShowLayer(marker, () => { marker.openPopup(); done(); });
        })""",
        event_id,
    )
    popup = page.locator(".czmap-popup")
    popup.wait_for()
    return popup


def popup_rows(popup: Any) -> dict[str, str]:
    terms = popup.locator("dt").all_inner_texts()
    return dict(zip(terms, popup.locator("dd").all_inner_texts(), strict=True))


def overlaps(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def in_week(events: list[dict], start: str, end: str) -> int:
    return sum(1 for r in drawable(events) if r["date_start"] <= end and r["date_end"] >= start)


def test_map_loads_without_errors_with_zones_and_markers(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict], artifacts: Path
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=8&lat=39.6&lon=46.6")
    page.wait_for_function("() => document.querySelector('.folium-map').hasAttribute('data-zone-seven-districts')")
    assert watched.errors == []
    assert page.get_attribute(".folium-map", "data-zone-seven-districts") == "7"
    assert page.locator(".leaflet-map-pane canvas").count() >= 1
    assert page.locator(".marker-cluster, .czmap-event-icon").count() >= 1
    assert shown(page) == len(drawable(events_fixture)) == len(events_fixture) - len(UNMAPPED)
    for control in (".leaflet-control-scale", ".leaflet-control-layers", ".leaflet-control-minimap", ".czmap-legend"):
        assert page.locator(control).count() == 1, control
    assert page.get_by_role("button", name="Toggle full screen").count() == 1
    assert page.get_by_role("button", name="Measure distance: start or stop").count() == 1
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "Natural Earth" in attribution and "geoBoundaries" in attribution and "GeoNames" in attribution
    assert "Test tiles" not in attribution  # the offline basemap is the default: tiles are credited when shown
    page.screenshot(path=artifacts / "map.png")


def test_no_request_leaves_localhost(live_server: LiveServer, watched: PageWatch) -> None:
    open_map(watched, f"{live_server.url}/map?basemap=osm")
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
    assert expected == 14
    page.wait_for_function(f"() => document.querySelector('.folium-map').dataset.eventsShown === '{expected}'")
    page.wait_for_function("() => location.search.includes('datetime=2020-10-01%2F2020-10-07')")
    assert expected < len(drawable(events_fixture))
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


def test_embed_fits_a_small_iframe(
    live_server: LiveServer, helper_server: LiveServer, watched: PageWatch, artifacts: Path
) -> None:
    page = watched.page
    # the journalist's page is another origin (another port) framing the embed
    page.goto(f"{helper_server.url}/test-host?src={quote(live_server.url + '/embed?title=Small&dark=true')}")
    frame = page.frame_locator("#f")
    frame.locator(".folium-map[data-events-shown]").wait_for(timeout=20_000)
    inner = next(f for f in page.frames if f.url.startswith(live_server.url))
    size = inner.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight, innerWidth, innerHeight]"
    )
    assert size[0] <= size[2] and size[1] <= size[3]
    box = inner.locator(".leaflet-control-attribution").bounding_box()
    assert box and box["y"] + box["height"] <= 240 and box["width"] > 0
    assert "Natural Earth" in inner.locator(".leaflet-control-attribution").inner_text()  # the offline basemap
    assert inner.locator("body").get_attribute("class") == "czmap-embed czmap-dark"
    toggle = inner.get_by_role("button", name="Data sources")
    credits = toggle.bounding_box()
    assert credits and credits["y"] + credits["height"] <= 240
    controls = inner.locator(".leaflet-control:visible:not(.leaflet-control-attribution):not(.czmap-credits)")
    for i in range(controls.count()):
        other = controls.nth(i).bounding_box()
        assert other and not overlaps(box, other) and not overlaps(credits, other), controls.nth(i).get_attribute(
            "class"
        )
    page.screenshot(path=artifacts / "embed-320x240-dark.png")
    toggle.click()
    assert "Natural Earth" in inner.locator(".czmap-credits-panel").inner_text()
    page.screenshot(path=artifacts / "embed-320x240-dark-sources.png")


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
        assert popup.locator("a").count() == 0  # the payload sources have no URL: nothing becomes a link
        page.screenshot(path=artifacts / f"popup-payload-{i}.png")
        page.evaluate(f"() => {{ window[Object.keys(window).find((k) => {MAP_VAR}.test(k))].closePopup(); }}")
        popup.wait_for(state="detached")
    assert page.locator(".czmap-title-text").inner_text() == PAYLOADS[1]
    # the store refuses javascript: URLs; the page would not make a link of one either
    assert page.evaluate("(url) => czmap.safeUrl(url)", JS_URL) is None
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
    assert "drawn as counts per area: zoom in to see each one" in status  # more than map.event_tiles_above
    assert page.get_attribute(".folium-map", "data-events-mode") == "tiles"
    page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-container path').length > 0")
    assert any("/collections/events/tiles/WebMercatorQuad/8/" in url for url in watched.requests)
    assert shown(page) == 0  # no marker: the tiles draw the counts
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


def test_unmapped_events_are_listed_not_drawn(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict]
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=7&lat=39.7&lon=46.8")
    assert page.get_attribute(".folium-map", "data-events-unmapped") == str(len(UNMAPPED))
    drawn_ids = page.evaluate(
        "() => window[Object.keys(window).find((k) => k.endsWith('_ctx'))].events.getLayers().map((m) => m.feature.id)"
    )
    assert not set(UNMAPPED) & set(drawn_ids)
    listing = page.locator(".czmap-unmapped")
    listing.locator("summary").first.click()
    items = listing.locator(":scope > ul > li")
    assert items.count() == len(UNMAPPED)
    text = " ".join(items.all_inner_texts())
    assert "Azerbaijan" in text and "Airspace over the Araks" in text
    assert "not drawn" in page.locator(".czmap-legend").inner_text()
    assert watched.errors == []


def test_event_type_filter_is_labelled_and_works_by_keyboard(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict]
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=7&lat=39.7&lon=46.8")
    box = page.get_by_role("checkbox", name="Explosions/Remote violence")
    box.focus()
    page.keyboard.press("Space")
    expected = sum(1 for r in drawable(events_fixture) if r["event_type"] != "Explosions/Remote violence")
    assert expected < len(drawable(events_fixture))
    page.wait_for_function(f"() => document.querySelector('.folium-map').dataset.eventsShown === '{expected}'")
    assert page.get_attribute(".folium-map", "data-events-unmapped") == "0"  # both unmapped ones are explosions
    page.wait_for_function("() => new URLSearchParams(location.search).has('event_type')")
    chosen = parse_qs(urlsplit(page.url).query)["event_type"][0].split(",")
    assert "Explosions/Remote violence" not in chosen and "Battles" in chosen
    page.keyboard.press("Space")
    page.wait_for_function(f"() => document.querySelector('.folium-map').dataset.eventsShown === '{expected + 4}'")
    assert watched.errors == []


def test_popup_shows_the_api_fields_and_the_uncertainty(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict]
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=8&lat=39.5&lon=46.8")
    record = next(r for r in events_fixture if r["location_precision"] == 2)
    popup = open_popup(page, record["id"])
    rows = popup_rows(popup)
    assert rows["Date"] == record["date_start"]
    assert rows["Place"] == record["place_name"]
    assert rows["Type"] == f"{record['event_type']}: {record['sub_event_type']}"
    assert rows["Reported by"] == record["claimed_by"]
    assert rows["Status"] == record["verification"]
    assert rows["Fatalities"] == "2 (range 1 to 4)"
    assert popup.locator("a").get_attribute("href") == record["sources"][0]["url"]
    page.wait_for_function("() => document.querySelector('.folium-map').dataset.uncertainty === 'circle'")
    assert page.get_attribute(".folium-map", "data-uncertainty-radius") == "25000"


def test_district_precision_draws_the_district_even_when_its_layer_is_off(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict]
) -> None:
    record = next(r for r in events_fixture if r["location_precision"] == 3 and "AZ-CAB" in r["place_name"])
    page = open_map(watched, f"{live_server.url}/map?zoom=8&lat=39.4&lon=46.9&layers=events")
    open_popup(page, record["id"])
    page.wait_for_function("() => (document.querySelector('.folium-map').dataset.uncertainty || '').startsWith('zone')")
    assert page.get_attribute(".folium-map", "data-uncertainty") == "zone:seven-districts:AZ-CAB"
    assert watched.errors == []


def test_seeded_map_shows_the_curated_events_with_source_links(
    seeded_server: LiveServer, watched: PageWatch, seed_records: list[dict], artifacts: Path
) -> None:
    page = open_map(watched, f"{seeded_server.url}/map?zoom=6")
    in_war = [
        r
        for r in seed_records
        if r["date_start"] <= "2020-11-10" and r.get("date_end", r["date_start"]) >= "2020-09-27"
    ]
    assert shown(page) == sum(1 for r in in_war if r["location_precision"] < 6) > 0
    record = next(
        r for r in in_war if sum(1 for s in r["sources"] if s.get("url")) >= 1 and r["location_precision"] == 1
    )
    popup = open_popup(page, record["id"])
    rows = popup_rows(popup)
    assert rows["Reported by"] == record["claimed_by"]
    assert rows["Status"] == record["verification"]
    links = popup.locator(".czmap-sources a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        s["url"] for s in record["sources"] if s.get("url")
    ]
    assert all(links.nth(i).get_attribute("rel") == "noopener noreferrer nofollow" for i in range(links.count()))
    page.screenshot(path=artifacts / "map-seeded-popup.png")
    assert watched.errors == []


def test_screenshots_of_october_and_of_control_on_15_november(
    seeded_server: LiveServer, watched: PageWatch, artifacts: Path
) -> None:
    page = open_map(watched, f"{seeded_server.url}/map?datetime=2020-10-01/2020-10-31")
    page.wait_for_function("() => document.querySelector('.folium-map').hasAttribute('data-zone-control-2020')")
    october = page.locator(".czmap-legend").inner_text()
    page.screenshot(path=artifacts / "map-2020-10.png", full_page=True)
    page = open_map(watched, f"{seeded_server.url}/map?datetime=2020-11-15")
    page.wait_for_function("() => document.querySelector('.folium-map').hasAttribute('data-zone-control-2020')")
    page.wait_for_timeout(300)
    november = page.locator(".czmap-legend").inner_text()
    page.screenshot(path=artifacts / "map-2020-11-15.png", full_page=True)
    # the Lachin corridor (from 10 November) is in the legend of 15 November, not of October
    assert "Russian peacekeeping contingent (as of 2020-11-15)" in november
    assert "Russian peacekeeping" not in october
    assert "Armenian forces (Nagorno-Karabakh authorities) (as of 2020-11-15)" in november  # Agdam until 20 Nov
    for legend in (october, november):
        assert legend.count("as of") >= 2
    assert watched.errors == []
