"""Above ``map.image_markers`` a static image is drawn from counts the event store makes, on both backends.

The threshold is set low (50) so that a few hundred events take the counted path. What must hold: the image is
made, its hexagons add up to the events the items API matches for the view, the alt text (of the image and of the
embed code) states the items API's counts per zone, and the counted path says exactly what the path that reads
every event says for the same view.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from mapsupport import district_points, write_events
from testsupport import make_event, make_settings

from app.events.adapters import StoreEventSource
from app.main import create_app
from app.webmap.render import render_png, view_filter
from app.webmap.sources import MapData
from app.webmap.view import MapView, parse_view

pytestmark = pytest.mark.layers
MARKERS = 50
SIZE = (800, 600)
VIEW = {"zoom": "7", "lat": "39.75", "lon": "46.8", "datetime": "2020-10-01/2020-10-10"}
#: Events per district; those of AZ-AGM are written outside the view's dates, so the view must not count them.
DISTRICTS = {"AZ-FUZ": 90, "AZ-CAB": 40, "AZ-AGM": 15}
STATES = ["reported", "reported", "corroborated", "disputed"]
UNMAPPED = 6


def _records(data_dir: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for seed, (district, count) in enumerate(DISTRICTS.items()):
        day = "2020-11-20" if district == "AZ-AGM" else "2020-10-04"
        for lon, lat in district_points(data_dir, district, count, seed):
            n = len(records)
            records.append(
                make_event(n, lon=lon, lat=lat, date_start=day, date_end=day, verification=STATES[n % len(STATES)])
            )
    for _ in range(UNMAPPED):  # located only to the country: counted apart, never drawn
        records.append(make_event(len(records), lon=47.2, lat=40.1, location_precision=6, verification="verified"))
    records.append(make_event(len(records), lon=46.9, lat=39.9))  # in no district
    return records


@pytest.fixture
def client(events_database_url: str, built_data_dir: Path) -> Iterator[TestClient]:
    settings = make_settings(
        built_data_dir, database_url=events_database_url, seed=False, map={"image_markers": MARKERS}
    )
    with TestClient(create_app(settings)) as test_client:
        records = _records(built_data_dir)
        view = parse_view(VIEW, test_client.app.state.layers.manifest.layers)  # type: ignore[attr-defined]
        north = view_filter(view, *SIZE).bbox[3]
        for lat in (north, north + 1e-6):  # on the view's edge (in it), and just outside (float32 index boxes)
            records.append(make_event(len(records), lon=46.8, lat=lat))
        write_events(test_client.app.state.events, records)  # type: ignore[attr-defined]
        yield test_client


def _items(client: TestClient, view: MapView, **params: str) -> list[dict[str, Any]]:
    """The features the items API matches for the view's box, dates and filters, located better than the country."""
    west, south, east, north = view_filter(view, *SIZE).bbox
    query = {
        "bbox": f"{west},{south},{east},{north}",
        "datetime": "2020-10-01/2020-10-10",
        "filter": "location_precision < 6",
        "limit": "1000",
        **params,
    }
    response = client.get("/collections/events/items", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["numberMatched"] == len(body["features"])
    return list(body["features"])


def _in_zone(features: list[dict[str, Any]], label: str) -> int:
    return sum(label in (f["properties"].get("zones") or ()) for f in features)


def _zone_counts(alt: str) -> dict[str, int]:
    """'... : most (90) in Fuzuli district, 40 in Jabrayil district and 1 elsewhere.' -> {"Fuzuli": 90, ...}."""
    return {name: int(n.replace(",", "")) for n, name in re.findall(r"([\d,]+)\)? in (.+?) district", alt)}


@pytest.mark.parametrize("filters", [{}, {"verification": "reported"}])
def test_the_counted_image_states_what_the_items_api_matches(client: TestClient, filters: dict[str, str]) -> None:
    manifest = client.app.state.layers.manifest  # type: ignore[attr-defined]
    view = parse_view({**VIEW, **filters}, manifest.layers)
    response = client.get("/map.png", params={**view.query(), "width": str(SIZE[0]), "height": str(SIZE[1])})
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    alt = unquote(response.headers["x-alt-text"])
    features = _items(client, view, **filters)
    total = len(features)
    assert total > MARKERS and alt.startswith(f"{total:,} reported events")
    names = {z.name: z.id for z in client.app.state.map_data.zones.index.layers["seven-districts"].zones}  # type: ignore[attr-defined]
    counts = _zone_counts(alt)
    assert set(counts) == {"Fuzuli", "Jabrayil"}
    for name, count in counts.items():
        assert count == _in_zone(features, f"seven-districts:{names[name]}"), name
    unmapped = 0 if filters else UNMAPPED  # all of them are verified
    assert f"{unmapped:,} more reported events, located only" in alt if unmapped else "located only" not in alt
    code = client.get(
        "/embed/code", params={**view.query(), "variant": "image", "width": "800", "height": "600", "f": "json"}
    )
    assert code.status_code == 200 and code.json()["alt"] == alt


def test_the_counted_path_says_what_reading_every_event_says(client: TestClient) -> None:
    manifest = client.app.state.layers.manifest  # type: ignore[attr-defined]
    data: MapData = client.app.state.map_data  # type: ignore[attr-defined]
    service = client.app.state.events  # type: ignore[attr-defined]
    view = parse_view(VIEW, manifest.layers)
    counted = render_png(view, manifest, data, width=SIZE[0], height=SIZE[1])
    read = render_png(
        view, manifest, MapData(data.zones, StoreEventSource(service, 10_000)), width=SIZE[0], height=SIZE[1]
    )
    assert counted.aggregated and not read.aggregated
    assert counted.cell_total == counted.event_count == read.event_count == len(_items(client, view))
    assert (counted.alt, counted.unmapped_count) == (read.alt, read.unmapped_count) and read.unmapped_count == UNMAPPED
