"""What a newsroom needs before publishing the map, checked in headless Chromium at desktop and phone sizes.

Popups that stay open, collapsed panels on a phone, popups above controls, the offline basemap with its labels,
reference layers in the default view, a legend listing what is drawn, the timeline, and the embed page.
Screenshots go to test-artifacts/map/ (looked at by the engineer, and checked here for the stated properties).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from mapsupport import LOADED, PAYLOADS, LiveServer, PageWatch, drawable, open_map, watch_page

PHONE = {"width": 390, "height": 844}
#: The stated limit: on a phone, the controls' boxes cover at most this share of the map.
PHONE_COVER_LIMIT = 0.18
CTX = "window[Object.keys(window).find((k) => k.endsWith('_ctx'))]"
MAP = "window[Object.keys(window).find((k) => /^map_[0-9a-f]+$/.test(k))]"
#: Share of the map under visible control boxes, sampled every 4 px (the union of the boxes, not their sum).
COVERED_SHARE = """() => {
  const map = document.querySelector('.folium-map').getBoundingClientRect();
  const boxes = [...document.querySelectorAll('.leaflet-control')]
    .filter((n) => n.offsetParent !== null && getComputedStyle(n).visibility !== 'hidden')
    .map((n) => n.getBoundingClientRect());
  let inside = 0, total = 0;
  for (let x = map.left + 2; x < map.right; x += 4) {
    for (let y = map.top + 2; y < map.bottom; y += 4) {
      total += 1;
      if (boxes.some((b) => x >= b.left && x < b.right && y >= b.top && y < b.bottom)) { inside += 1; }
    }
  }
  return inside / total;
}"""


@pytest.fixture
def phone(browser: Any) -> Iterator[PageWatch]:
    """A watched page in a 390x844 phone window (touch, device scale 1 so screenshots stay small)."""
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    yield watch_page(context)
    context.close()


def attr(page: Any, name: str) -> str | None:
    value: str | None = page.get_attribute(".folium-map", name)
    return value


def open_popup(page: Any, event_id: str) -> Any:
    page.evaluate(
        f"""(id) => new Promise((done, fail) => {{
            const ctx = {CTX};
            const marker = ctx.events.getLayers().find((m) => m.feature && m.feature.id === id);
            if (!marker) {{ fail(new Error('no marker for ' + id)); return; }}
            ctx.events.zoomToShowLayer(marker, () => {{ marker.openPopup(); done(); }});
        }})""",
        event_id,
    )
    popup = page.locator(".leaflet-popup")
    popup.wait_for()
    return popup


def overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def visible_controls(page: Any) -> list[tuple[str, dict]]:
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.leaflet-control:not(.leaflet-control-attribution)')]
            .filter((n) => n.offsetParent !== null && getComputedStyle(n).visibility !== 'hidden')
            .map((n) => { const r = n.getBoundingClientRect();
                          return [n.className, {x: r.x, y: r.y, width: r.width, height: r.height}]; })"""
    )
    return [(name, box) for name, box in boxes]


# -- popups -----------------------------------------------------------------------------------------------------
def test_popup_stays_open_when_the_map_reloads_events(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict], artifacts: Path
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=10&lat=39.4&lon=46.9")
    record = next(r for r in drawable(events_fixture) if r["id"].startswith("ev-"))
    open_popup(page, record["id"])
    loads = int(attr(page, "data-events-loads") or 0)
    # a pan far enough to leave the loaded box reloads the events (as a tall popup's auto-pan does)
    page.evaluate(f"() => {MAP}.panBy([420, 0], {{animate: false}})")  # past the 25% margin loaded around the view
    page.wait_for_function(
        f"() => Number(document.querySelector('.folium-map').dataset.eventsLoads) > {loads}", timeout=10_000
    )
    page.wait_for_timeout(400)
    assert page.locator(".leaflet-popup").count() == 1
    assert page.locator(".leaflet-popup h3").inner_text() == record["place_name"]
    box = page.locator(".leaflet-popup").bounding_box()
    assert box and 0 <= box["x"] and box["x"] + box["width"] <= 1280  # still in view, for the screenshot
    page.screenshot(path=artifacts / "popup-after-reload.png")
    # the reloaded events are drawn once the reader closes the popup
    page.evaluate(f"() => {MAP}.closePopup()")
    page.wait_for_function("() => !document.querySelector('.czmap-status').textContent.includes('popup closes')")
    assert watched.errors == []


def test_popup_is_above_every_control_in_a_phone_embed(
    live_server: LiveServer, phone: PageWatch, events_fixture: list[dict], artifacts: Path
) -> None:
    page = open_map(phone, f"{live_server.url}/embed?zoom=9&lat=39.5&lon=46.9&title=Test")
    record = next(r for r in drawable(events_fixture) if r["id"].startswith("ev-"))
    popup = open_popup(page, record["id"])
    page.evaluate(f"() => {MAP}.panBy([0, 120], {{animate: false}})")  # under the date panel, if nothing moved
    page.wait_for_timeout(300)
    box = popup.bounding_box()
    assert box
    for name, control in visible_controls(page):
        assert not overlap(box, control), f"{name} sits on the popup"
    page.screenshot(path=artifacts / "phone-embed-popup.png")
    assert phone.errors == []


# -- phone layout ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/map", "/embed", "/embed?title=Fighting%20around%20Shusha%2C%20October%202020"])
def test_phone_panels_are_collapsed_and_cover_little_of_the_map(
    live_server: LiveServer, phone: PageWatch, artifacts: Path, path: str
) -> None:
    page = open_map(phone, f"{live_server.url}{path}")
    page.wait_for_timeout(300)
    share = page.evaluate(COVERED_SHARE)
    name = "phone-" + path.strip("/").split("?")[0] + ("-titled" if "title" in path else "")
    page.screenshot(path=artifacts / f"{name}.png")
    assert share <= PHONE_COVER_LIMIT, f"controls cover {share:.0%} of the map on a phone"
    for panel in (".czmap-time > details:not(.czmap-unmapped)", ".czmap-legend > details"):
        assert page.locator(panel).get_attribute("open") is None, panel
    if page.locator(".czmap-filters").count():
        assert page.locator(".czmap-filters > details").get_attribute("open") is None
    # one tap opens a panel
    page.locator(".czmap-legend summary").click()
    assert page.locator(".czmap-legend > details").get_attribute("open") is not None
    assert phone.errors == []


# -- offline basemap ---------------------------------------------------------------------------------------------
def test_offline_basemap_is_the_default_with_labels_and_its_own_credits(
    live_server: LiveServer, watched: PageWatch, artifacts: Path
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=8&lat=39.75&lon=46.75")
    page.wait_for_function("() => Number(document.querySelector('.folium-map').dataset.basemapLabels) > 0")
    assert attr(page, "data-basemap") == "offline"
    labels = page.locator(".czmap-label-text").all_inner_texts()
    assert {"Khankendi / Stepanakert", "Fuzuli", "Ganja"} <= set(labels)
    assert "Azerbaijan" in page.locator(".czmap-label-country").all_text_contents()
    at_8 = int(attr(page, "data-basemap-labels") or 0)
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "GeoNames" in attribution and "Test tiles" not in attribution
    assert not any("/tiles/" in url for url in watched.requests)
    page.screenshot(path=artifacts / "map-offline-basemap.png")
    # labels are thinned by zoom: fewer at 7 than at 8
    page.evaluate(f"() => {MAP}.setZoom(7, {{animate: false}})")
    page.wait_for_function(f"() => Number(document.querySelector('.folium-map').dataset.basemapLabels) < {at_8}")
    # tiles stay an option, credited only while shown
    page.locator(".leaflet-control-layers").hover()
    page.get_by_label("Map tiles").check()
    page.wait_for_function("() => document.querySelector('.folium-map').dataset.basemap === 'osm'")
    page.wait_for_function("() => new URLSearchParams(location.search).get('basemap') === 'osm'")
    assert "Test tiles" in page.locator(".leaflet-control-attribution").inner_text()
    assert any("/tiles/" in url for url in watched.requests)
    page.get_by_label("No basemap").check()
    page.wait_for_function("() => document.querySelector('.folium-map').dataset.basemap === 'none'")
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "Test tiles" not in attribution
    assert watched.errors == []


def test_basemap_none_page_offers_no_tiles(live_server: LiveServer, watched: PageWatch) -> None:
    page = open_map(watched, f"{live_server.url}/map?basemap=none")
    page.locator(".leaflet-control-layers").hover()
    assert page.get_by_label("Map tiles").count() == 0
    assert attr(page, "data-basemap") == "none"
    assert not any("/tiles/" in url for url in watched.requests)


# -- reference layers and the legend -----------------------------------------------------------------------------
def drawn_layers(page: Any) -> list[str]:
    """Zone layers on the map with features, in drawing order, then events when shown (from the map itself)."""
    ids: list[str] = page.evaluate(
        f"""() => {{
            const ctx = {CTX};
            const zones = Object.keys(ctx.zoneLayers).filter((id) => ctx.map.hasLayer(ctx.zoneLayers[id]) &&
                ctx.zoneLayers[id].getLayers().length > 0);
            zones.sort((a, b) => ctx.zoneLayers[a].options.pane.localeCompare(ctx.zoneLayers[b].options.pane,
                undefined, {{numeric: true}}));
            return zones.concat(ctx.map.hasLayer(ctx.events) ? ['events'] : []);
        }}"""
    )
    return ids


def legend_layers(page: Any) -> list[str]:
    ids: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('.czmap-legend li[data-layer]')].map((li) => li.dataset.layer)"
    )
    has_events = page.locator(".czmap-legend .czmap-legend-heading", has_text="Reported events").count() > 0
    return ids + (["events"] if has_events else [])


def test_line_of_contact_is_drawn_in_the_default_view_as_on_its_last_day(
    live_server: LiveServer, watched: PageWatch, artifacts: Path
) -> None:
    page = open_map(watched, f"{live_server.url}/map")
    page.wait_for_function("() => document.querySelector('.folium-map').hasAttribute('data-zone-line-of-contact-1994')")
    assert attr(page, "data-zone-line-of-contact-1994") == "1"
    legend = page.locator(".czmap-legend").inner_text()
    assert "Line of contact 1994-2020 (as on 2020-11-09, its last day)" in legend
    page.wait_for_timeout(200)
    assert legend_layers(page) == drawn_layers(page)
    assert "line-of-contact-1994" in legend_layers(page)
    page.screenshot(path=artifacts / "map-default-line-of-contact.png")


def test_legend_lists_exactly_the_drawn_layers(live_server: LiveServer, watched: PageWatch) -> None:
    page = open_map(watched, f"{live_server.url}/map?datetime=2020-11-15")
    page.wait_for_function("() => document.querySelector('.folium-map').hasAttribute('data-zone-control-2020')")
    page.wait_for_function("() => document.querySelector('.folium-map').hasAttribute('data-zone-line-of-contact-1994')")
    page.wait_for_timeout(200)
    assert attr(page, "data-zone-line-of-contact-1994") == "0"  # ended on 10 November: nothing to draw
    assert "line-of-contact-1994" not in legend_layers(page)
    assert legend_layers(page) == drawn_layers(page)
    # switching a layer off takes it out of the legend
    page.locator(".leaflet-control-layers").hover()
    page.get_by_label("The seven districts around Nagorno-Karabakh").uncheck()
    page.wait_for_timeout(200)
    assert "seven-districts" not in legend_layers(page)
    assert legend_layers(page) == drawn_layers(page)
    page.get_by_label("Reported events").uncheck()
    page.wait_for_timeout(200)
    assert "events" not in legend_layers(page) and legend_layers(page) == drawn_layers(page)
    assert watched.errors == []


def test_drawing_order_is_the_declared_order_whatever_answers_first(
    live_server: LiveServer, watched: PageWatch
) -> None:
    page = open_map(watched, f"{live_server.url}/map?layers=iran-border-zone,iran-border,events")
    order = page.evaluate(
        f"""() => {{
            const ctx = {CTX};
            return ['iran-border-zone', 'iran-border'].map((id) =>
                Number(ctx.map.getPane(ctx.zoneLayers[id].options.pane).style.zIndex));
        }}"""
    )
    assert order[0] < order[1]  # the border is always drawn over its bands


# -- events: clusters, filters, status ---------------------------------------------------------------------------
def test_clusters_show_verification_and_filters_show_counts(
    live_server: LiveServer, watched: PageWatch, events_fixture: list[dict]
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=7&lat=39.7&lon=46.8")
    rings = page.locator(".czmap-cluster-ring")
    assert rings.count() >= 1
    backgrounds = [rings.nth(i).evaluate("(n) => n.style.background") for i in range(rings.count())]
    assert all("conic-gradient" in b for b in backgrounds)
    assert any(b.count("deg") >= 4 for b in backgrounds)  # a cluster with two or more statuses has two segments
    battles = sum(1 for r in events_fixture if r["event_type"] == "Battles")
    label = page.locator(".czmap-filter-event_type label[data-value='Battles']")
    assert label.inner_text().strip().endswith(f"({battles})")
    empty = page.locator(".czmap-filter-event_type label[data-value='Violence against civilians']")
    assert empty.is_hidden()  # no such events: not offered


def test_status_speaks_of_one_event_in_the_singular(live_server: LiveServer, watched: PageWatch) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=7&lat=39.7&lon=46.8")
    assert page.evaluate("() => czmap.plural(1, 'reported event', 'reported events')") == "1 reported event"
    page.wait_for_function("() => document.querySelector('.czmap-status').textContent.includes('shown')")
    status = page.locator(".czmap-status").inner_text()
    assert "1 reported events" not in status


# -- timeline ----------------------------------------------------------------------------------------------------
def test_timeline_steps_day_by_day_and_the_url_keeps_the_day(
    live_server: LiveServer, watched: PageWatch, browser: Any, events_fixture: list[dict], artifacts: Path
) -> None:
    page = open_map(watched, f"{live_server.url}/map?zoom=8&lat=39.6&lon=46.8&datetime=2020-10-01")
    page.get_by_role("button", name="Next day").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('datetime') === '2020-10-02'")
    expected = sum(1 for r in drawable(events_fixture) if r["date_start"] <= "2020-10-02" <= r["date_end"])
    page.wait_for_function(f"() => document.querySelector('.folium-map').dataset.eventsShown === '{expected}'")
    assert "2020-10-02" in page.locator(".czmap-day").inner_text()
    page.get_by_role("button", name="Play the war day by day").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('datetime') === '2020-10-04'", timeout=8000)
    page.get_by_role("button", name="Play the war day by day").click()  # pause
    day = parse_qs(urlsplit(page.url).query)["datetime"][0]
    page.screenshot(path=artifacts / "map-timeline.png")
    again = browser.new_page()
    again.goto(page.url)
    again.wait_for_function(LOADED, timeout=20_000)
    assert day in again.locator(".czmap-day").inner_text()
    again.close()
    assert watched.errors == []


# -- the embed page ----------------------------------------------------------------------------------------------
def test_embed_page_previews_escapes_and_copies(live_server: LiveServer, watched: PageWatch, artifacts: Path) -> None:
    page = watched.page
    page.goto(f"{live_server.url}/embed/code")
    page.get_by_label("Title shown on the map").fill(PAYLOADS[1])
    page.get_by_label("Responsive: fills the article's column").check()
    page.wait_for_function("() => document.getElementById('snippet').value.includes('padding-top')")
    snippet = page.locator("#snippet").input_value()
    assert "<img" not in snippet and "&lt;img" in snippet.replace("&amp;", "&") or "%3Cimg" in snippet
    assert 'onerror="' not in snippet
    page.wait_for_function("() => document.getElementById('preview').getAttribute('src').includes('title=')")
    frame = next(f for f in page.frames if "/embed?" in f.url)
    frame.wait_for_selector(".czmap-title-text")
    assert frame.locator(".czmap-title-text").inner_text() == PAYLOADS[1]
    page.get_by_role("button", name="Copy the HTML").click()
    # The clipboard's promise settles after the click returns: wait for the status, then read it.
    page.wait_for_function("() => document.getElementById('copy-status').textContent !== ''")
    assert page.locator("#copy-status").inner_text() in ("Copied.", "Selected: press Ctrl+C to copy.")
    assert page.evaluate("() => window.__pwned") is None
    oembed = page.locator('link[rel="alternate"][type="application/json+oembed"]').get_attribute("href")
    assert oembed and "/oembed?url=" in oembed
    page.screenshot(path=artifacts / "embed-page.png", full_page=True)
    assert watched.errors == []


def test_map_pages_offer_oembed_discovery(live_server: LiveServer, watched: PageWatch) -> None:
    page = open_map(watched, f"{live_server.url}/map?title={quote('War & peace')}")
    href = page.locator('link[rel="alternate"][type="application/json+oembed"]').get_attribute("href")
    body = page.request.get(href).json()
    assert body["type"] == "rich" and body["title"] == "War & peace"
    assert "/embed?" in body["html"] and "<iframe" in body["html"]
