"""Reading the events collection through create_app (SQLite and PostGIS): seed, items, filters, paging, HTML."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ogc_models import HOSTILE, Collection, Queryables
from shapely.geometry import Point, box
from testsupport import with_events

from app.main import ROUTERS, create_app
from app.routers import events as events_routes
from app.routers import items as items_routes


def _ids(body: dict[str, Any]) -> set[str]:
    return {f["id"] for f in body["features"]}


def _all_items(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    """Every feature of a query, following the next links as a client does."""
    body = client.get("/collections/events/items", params={"limit": 20, **params}).json()
    features = list(body["features"])
    while (nxt := next((link["href"] for link in body["links"] if link["rel"] == "next"), None)) is not None:
        body = client.get(nxt).json()
        features += body["features"]
    return features


def _overlaps(record: dict[str, Any], start: date, end: date) -> bool:
    first = date.fromisoformat(record["date_start"])
    last = date.fromisoformat(record.get("date_end") or record["date_start"])
    return first <= end and last >= start


def test_first_start_seeds_every_curated_event(events_client: TestClient, seed_records: list[dict]) -> None:
    body = events_client.get("/collections/events/items", params={"limit": 1000}).json()
    assert body["numberMatched"] == len(seed_records)
    assert _ids(body) == {r["id"] for r in seed_records}


def test_second_start_adds_nothing(events_settings, seed_records: list[dict]) -> None:
    for _ in range(2):
        with TestClient(create_app(events_settings)) as client:
            assert client.get("/collections/events/items").json()["numberMatched"] == len(seed_records)
            history = client.get(f"/collections/events/items/{seed_records[0]['id']}/history").json()
            assert [e["action"] for e in history["entries"]] == ["import:seed"]


def test_seeding_can_be_switched_off(events_settings) -> None:
    with TestClient(create_app(with_events(events_settings, seed=False))) as client:
        assert client.get("/collections/events/items").json()["numberMatched"] == 0
        meta = client.get("/collections/events").json()
    assert meta["extent"]["spatial"]["bbox"] == [[-180, -90, 180, 90]]


def test_collection_is_listed_with_the_extent_of_its_events(events_client: TestClient, seed_records) -> None:
    meta = Collection.model_validate(events_client.get("/collections/events").json())
    lons, lats = [r["lon"] for r in seed_records], [r["lat"] for r in seed_records]
    assert meta.extent.spatial.bbox[0] == pytest.approx([min(lons), min(lats), max(lons), max(lats)])
    first = min(r["date_start"] for r in seed_records)
    assert meta.extent.temporal is not None and meta.extent.temporal.interval[0][0] == f"{first}T00:00:00Z"
    assert "events" in [c["id"] for c in events_client.get("/collections").json()["collections"]]


def test_bbox_selects_events_inside_the_box(events_client: TestClient, seed_records) -> None:
    area = (46.5, 39.5, 47.2, 40.0)
    expected = {r["id"] for r in seed_records if box(*area).intersects(Point(r["lon"], r["lat"]))}
    served = _all_items(events_client, bbox=",".join(map(str, area)))
    assert {f["id"] for f in served} == expected
    assert 0 < len(expected) < len(seed_records)


@pytest.mark.parametrize(
    ("datetime", "start", "end"),
    [
        ("2020-10-04", date(2020, 10, 4), date(2020, 10, 4)),
        ("2020-10-27/2020-11-10", date(2020, 10, 27), date(2020, 11, 10)),
        ("../2020-09-30", date(1900, 1, 1), date(2020, 9, 30)),
        ("2020-11-09T12:00:00Z/..", date(2020, 11, 9), date(9999, 12, 31)),
    ],
)
def test_datetime_matches_events_whose_dates_overlap(events_client, seed_records, datetime, start, end) -> None:
    expected = {r["id"] for r in seed_records if _overlaps(r, start, end)}
    served = _all_items(events_client, datetime=datetime)
    assert {f["id"] for f in served} == expected
    assert expected


def test_multi_day_event_matches_a_day_inside_its_range(events_client, api_keys, event_feature) -> None:
    feature = event_feature(7, date_start="2020-10-20", date_end="2020-10-25")
    auth = {"Authorization": f"Bearer {api_keys['editor']}"}
    assert events_client.post("/collections/events/items", json=feature, headers=auth).status_code == 201
    inside = events_client.get("/collections/events/items", params={"datetime": "2020-10-22", "limit": 1000})
    after = events_client.get("/collections/events/items", params={"datetime": "2020-10-26", "limit": 1000})
    assert feature["id"] in _ids(inside.json())
    assert feature["id"] not in _ids(after.json())


def test_cql2_filter_on_queryables(events_client: TestClient, seed_records) -> None:
    expected = {r["id"] for r in seed_records if r["event_type"] == "Battles" and r["date_start"] >= "2020-10-15"}
    served = _all_items(events_client, filter="event_type = 'Battles' AND date_start >= DATE('2020-10-15')")
    assert {f["id"] for f in served} == expected and expected


def test_cql2_spatial_filter(events_client: TestClient, seed_records) -> None:
    area = box(45.0, 38.5, 46.6, 40.0)
    expected = {r["id"] for r in seed_records if area.intersects(Point(r["lon"], r["lat"]))}
    served = _all_items(events_client, filter=f"S_INTERSECTS(geometry, {area.wkt})")
    assert {f["id"] for f in served} == expected and expected


def test_equality_parameter_on_a_queryable(events_client: TestClient, seed_records) -> None:
    expected = {r["id"] for r in seed_records if r["verification"] == "verified"}
    assert {f["id"] for f in _all_items(events_client, verification="verified")} == expected


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"filter": "no_such_field = 1"}, "filter"),
        ({"filter": "event_type = "}, "filter"),
        ({"filter": "place_name LIKE 5"}, "filter"),
        ({"date_start": "not-a-date"}, "date_start"),
        ({"unknown": "1"}, "unknown"),
        ({"bbox": "46,39"}, "bbox"),
        ({"limit": "0"}, "limit"),
        ({"f": "gpkg"}, "f"),
        ({"resulttype": "count"}, "resulttype"),
    ],
)
def test_bad_queries_are_400_naming_the_parameter(events_client: TestClient, params, parameter) -> None:
    response = events_client.get("/collections/events/items", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == parameter


def test_paging_links_walk_every_event_once(events_client: TestClient, seed_records) -> None:
    first = events_client.get("/collections/events/items", params={"limit": 25}).json()
    assert first["numberReturned"] == 25 and first["numberMatched"] == len(seed_records)
    served = _all_items(events_client)
    assert len(served) == len(seed_records) == len({f["id"] for f in served})
    starts = [f["properties"]["date_start"] for f in served]
    assert starts == sorted(starts)
    last_offset = (len(seed_records) - 1) // 25 * 25  # the start of the last page, from the seed file's size
    last = events_client.get("/collections/events/items", params={"limit": 25, "offset": last_offset}).json()
    assert [link["rel"] for link in last["links"]].count("prev") == 1
    assert "next" not in [link["rel"] for link in last["links"]]


def test_one_item_has_its_revision_as_etag(events_client: TestClient, seed_records) -> None:
    record = seed_records[3]
    response = events_client.get(f"/collections/events/items/{record['id']}", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    assert response.headers["etag"] == '"1"'
    body = response.json()
    assert body["geometry"]["coordinates"] == [record["lon"], record["lat"]]
    assert body["properties"]["place_name"] == record["place_name"]
    assert "version-history" in [link["rel"] for link in body["links"]]
    again = events_client.get(
        f"/collections/events/items/{record['id']}", headers={"If-None-Match": '"1"', "Accept-Encoding": "identity"}
    )
    assert again.status_code == 304


def test_single_events_are_answered_by_the_events_route(events_client: TestClient, seed_records) -> None:
    """Both routers match /collections/events/items/{featureId}; the first included wins, and that is events'."""
    assert ROUTERS.index(events_routes.router) < ROUTERS.index(items_routes.router)
    url = f"/collections/events/items/{seed_records[0]['id']}"
    response = events_client.get(url, headers={"Accept-Encoding": "br"})
    assert response.headers["etag"] == '"1-br"'  # the revision (the generic route hashes the request instead)
    assert "version-history" in [link["rel"] for link in response.json()["links"]]
    layer = events_client.get("/collections/seven-districts/items?limit=1").json()["features"][0]["id"]
    generic = events_client.get(f"/collections/seven-districts/items/{layer}", headers={"Accept-Encoding": "br"})
    assert generic.status_code == 200 and len(generic.headers["etag"]) == 34  # '"' + 32 hex digits + '"'


def test_item_in_epsg_4326_has_latitude_first(events_client: TestClient, seed_records) -> None:
    record = seed_records[0]
    response = events_client.get(f"/collections/events/items/{record['id']}", params={"crs": "EPSG:4326"})
    assert response.json()["geometry"]["coordinates"] == pytest.approx([record["lat"], record["lon"]])
    assert response.headers["etag"].startswith('"1-')


def test_unknown_item_is_404(events_client: TestClient) -> None:
    response = events_client.get("/collections/events/items/no-such-event")
    assert response.status_code == 404
    assert "no-such-event" in response.json()["description"]


def test_queryables_list_the_event_fields(events_client: TestClient) -> None:
    schema = Queryables.model_validate(events_client.get("/collections/events/queryables").json())
    assert schema.properties["date_start"]["format"] == "date"
    assert schema.properties["fatalities_best"]["type"] == "integer"
    assert schema.properties["geometry"]["format"] == "geometry-any"


def test_csv_page(events_client: TestClient, seed_records) -> None:
    response = events_client.get("/collections/events/items", params={"f": "csv", "limit": 5})
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.strip().splitlines()
    assert len(lines) == 6 and lines[0].startswith("id,") and "POINT (" in lines[1]


def test_etag_of_a_page_changes_after_a_write(events_client, api_keys, event_feature) -> None:
    before = events_client.get("/collections/events/items").headers["etag"]
    auth = {"Authorization": f"Bearer {api_keys['editor']}"}
    assert events_client.post("/collections/events/items", json=event_feature(3), headers=auth).status_code == 201
    after = events_client.get("/collections/events/items").headers["etag"]
    assert before != after
    stale = events_client.get("/collections/events/items", headers={"If-None-Match": before})
    assert stale.status_code == 200


def test_hostile_place_name_is_escaped_in_html(events_client, api_keys, event_feature) -> None:
    feature = event_feature(9, place_name=HOSTILE, notes=HOSTILE)
    auth = {"Authorization": f"Bearer {api_keys['editor']}"}
    assert events_client.post("/collections/events/items", json=feature, headers=auth).status_code == 201
    pages = [
        events_client.get("/collections/events/items", params={"f": "html", "datetime": "2020-10-04/2020-10-05"}),
        events_client.get(f"/collections/events/items/{feature['id']}", params={"f": "html"}),
        events_client.get(f"/collections/events/items/{feature['id']}/history", params={"f": "html"}),
    ]
    for page in pages:
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert HOSTILE not in page.text
        assert "&lt;script&gt;" in page.text


def test_event_pages_are_revalidated_but_layer_pages_cached(events_client: TestClient) -> None:
    events = events_client.get("/collections/events/items")
    layer = events_client.get("/collections/seven-districts/items")
    assert events.headers["cache-control"] == "no-cache" and events.headers["etag"]
    assert "max-age" in layer.headers["cache-control"]
    assert events_client.get("/collections/events").headers["cache-control"] == "no-cache"


def test_csv_list_cells_are_json(events_client: TestClient, seed_records) -> None:
    response = events_client.get("/collections/events/items", params={"f": "csv", "limit": 5})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    for row in rows:
        sources = json.loads(row["sources"])
        assert sources and all("publisher" in s for s in sources)


def test_numberMatched_is_left_out_above_the_count_cap(events_settings, seed_records) -> None:
    with TestClient(create_app(with_events(events_settings, count_cap=30))) as client:
        first = client.get("/collections/events/items", params={"limit": 10}).json()
        assert "numberMatched" not in first and first["numberReturned"] == 10
        assert "next" in [link["rel"] for link in first["links"]]
        assert len({f["id"] for f in _all_items(client)}) == len(seed_records)  # next links still reach every one
        whole_page = client.get("/collections/events/items", params={"limit": len(seed_records) + 10}).json()
        assert whole_page["numberMatched"] == len(seed_records)  # counted to the end of the page asked for
        one_day = client.get("/collections/events/items", params={"datetime": "2020-10-04"}).json()
        expected = sum(_overlaps(r, date(2020, 10, 4), date(2020, 10, 4)) for r in seed_records)
        assert 0 < expected <= 30 and one_day["numberMatched"] == expected
        html = client.get("/collections/events/items", params={"limit": 10, "f": "html"}).text
        assert "10 features shown; more match than are counted" in html
        assert "numberMatched is given up to 30 matches" in client.get("/collections/events").json()["description"]
        hits = client.get("/collections/events/items", params={"resulttype": "hits", "limit": 10}).json()
        assert (hits["numberMatched"], hits["numberReturned"], hits["features"]) == (len(seed_records), 0, [])
        assert "next" not in [link["rel"] for link in hits["links"]]
        battles = client.get(
            "/collections/events/items", params={"resulttype": "hits", "filter": "event_type = 'Battles'"}
        ).json()["numberMatched"]
        assert battles == sum(r["event_type"] == "Battles" for r in seed_records)
