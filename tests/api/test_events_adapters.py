"""The store seen by the static map and the zone summary (app.state.map_data.events, app.state.event_counter)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pyogrio
import shapely
from shapely.geometry import Point, box

from app.events.adapters import StoreEventCounter, StoreEventSource
from app.layerstore.zones import ZoneIndex


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
    geometry = shapely.union_all(zone.geometry.values)  # read here, independently of the layer store
    start, end = date(2020, 10, 1), None
    expected = Counter(
        r["event_type"]
        for r in seed_records
        if geometry.intersects(Point(r["lon"], r["lat"])) and _overlaps(r, start, end)
    )
    layer = events_client.app.state.layers.zones.layer("nagorno-karabakh")
    counts = events_client.app.state.event_counter.count_by_type(layer, 0, start, end)
    assert counts == dict(expected) and counts


def test_zones_outside_the_event_labels_are_counted_by_the_same_rule(events_client, seed_records) -> None:
    square = box(46.5, 39.5, 47.0, 40.0)
    index = ZoneIndex.from_polygons({"square": [("s", square)]})
    expected = Counter(r["event_type"] for r in seed_records if square.intersects(Point(r["lon"], r["lat"])))
    assert events_client.app.state.event_counter.count_by_type(index.layer("square"), 0, None, None) == dict(expected)


def test_retracted_events_are_not_counted(events_client, api_keys, seed_records) -> None:
    counter = events_client.app.state.event_counter
    far = ZoneIndex.from_polygons({"seven-districts": [("far", box(40.0, 30.0, 41.0, 31.0))]})
    assert counter.count_by_type(far.layer("seven-districts"), 0, None, None) == {}
    stored = events_client.app.state.events.store
    inside = next(r for r in seed_records if box(46.5, 39.5, 47.0, 40.0).intersects(Point(r["lon"], r["lat"])))
    label = next(z for z in stored.get(inside["id"]).zones if z.startswith("nagorno-karabakh:"))
    layer = events_client.app.state.layers.zones.layer(label.split(":")[0])
    before = counter.count_by_type(layer, 0, None, None)
    url = f"/collections/events/items/{inside['id']}"
    assert events_client.delete(url, headers={"Authorization": f"Bearer {api_keys['admin']}"}).status_code == 200
    after = counter.count_by_type(layer, 0, None, None)
    assert after.get(inside["event_type"], 0) == before[inside["event_type"]] - 1
