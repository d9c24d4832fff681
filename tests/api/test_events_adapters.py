"""The store seen by the static map and the zone summary (app.state.map_data.events, app.state.event_counter)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pyogrio
import shapely
from shapely.geometry import Point, box

from app.events.adapters import StoreEventCounter, StoreEventSource


def _overlaps(record: dict, start: date | None, end: date | None) -> bool:
    first = date.fromisoformat(record["date_start"])
    last = date.fromisoformat(record.get("date_end") or record["date_start"])
    return (end is None or first <= end) and (start is None or last >= start)


def test_app_state_holds_the_store_adapters(events_client) -> None:
    state = events_client.app.state
    assert isinstance(state.map_data.events, StoreEventSource)
    assert isinstance(state.event_counter, StoreEventCounter)
    assert state.map_data.events.service is state.events


def test_map_events_in_a_box_and_period(events_client, seed_records) -> None:
    area, start, end = (46.4, 39.4, 47.2, 40.1), date(2020, 10, 1), date(2020, 10, 20)
    expected = {
        r["id"] for r in seed_records if box(*area).intersects(Point(r["lon"], r["lat"])) and _overlaps(r, start, end)
    }
    frame = events_client.app.state.map_data.events.events(bbox=area, start=start, end=end)
    assert set(frame["id"]) == expected and expected
    assert frame.crs.to_epsg() == 4326
    assert {"event_type", "verification", "location_precision", "date_start"} <= set(frame.columns)
    one = frame.iloc[0]
    record = next(r for r in seed_records if r["id"] == one["id"])
    assert (one.geometry.x, one.geometry.y) == (record["lon"], record["lat"])


def test_map_events_of_an_empty_period(events_client) -> None:
    frame = events_client.app.state.map_data.events.events(bbox=None, start=date(1990, 1, 1), end=date(1990, 1, 2))
    assert len(frame) == 0 and frame.crs.to_epsg() == 4326 and "event_type" in frame.columns


def test_counts_by_type_in_a_zone(events_client, seed_records, built_data_dir) -> None:
    zone = pyogrio.read_dataframe(built_data_dir / "layers" / "nagorno-karabakh.gpkg", layer="nagorno-karabakh")
    geometry = shapely.union_all(zone.geometry.values)
    start, end = date(2020, 10, 1), None
    expected = Counter(
        r["event_type"]
        for r in seed_records
        if geometry.intersects(Point(r["lon"], r["lat"])) and _overlaps(r, start, end)
    )
    counts = events_client.app.state.event_counter.count_by_type(geometry, start, end)
    assert counts == dict(expected) and counts


def test_retracted_events_are_not_counted(events_client, api_keys, seed_records) -> None:
    square = box(40.0, 30.0, 41.0, 31.0)
    assert events_client.app.state.event_counter.count_by_type(square, None, None) == {}
    inside = next(r for r in seed_records if box(46.5, 39.5, 47.0, 40.0).intersects(Point(r["lon"], r["lat"])))
    zone = Point(inside["lon"], inside["lat"]).buffer(0.001)
    counter = events_client.app.state.event_counter
    expected = Counter(r["event_type"] for r in seed_records if zone.intersects(Point(r["lon"], r["lat"])))
    assert counter.count_by_type(zone, None, None) == dict(expected)
    url = f"/collections/events/items/{inside['id']}"
    assert events_client.delete(url, headers={"Authorization": f"Bearer {api_keys['admin']}"}).status_code == 200
    expected[inside["event_type"]] -= 1
    assert counter.count_by_type(zone, None, None) == {k: v for k, v in expected.items() if v}
