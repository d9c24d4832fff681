"""Keyset paging of the events collection: the next link carries a cursor, not an offset (SQLite and PostGIS)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

ITEMS = "/collections/events/items"


def _next(body: dict[str, Any]) -> str | None:
    return next((link["href"] for link in body["links"] if link["rel"] == "next"), None)


def _walk(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    body = client.get(ITEMS, params=params).json()
    pages = [body]
    while (href := _next(body)) is not None:
        body = client.get(href).json()
        pages.append(body)
    return pages


def test_next_links_carry_a_cursor_instead_of_an_offset(events_client: TestClient) -> None:
    first = events_client.get(ITEMS, params={"limit": 10, "offset": 5}).json()
    query = parse_qs(urlsplit(_next(first) or "").query)
    assert "cursor" in query and "offset" not in query
    assert query["limit"] == ["10"]
    second = events_client.get(_next(first) or "").json()
    assert "numberMatched" not in second  # what follows a cursor is not every match
    assert "prev" not in [link["rel"] for link in second["links"]]
    offset_page = events_client.get(ITEMS, params={"limit": 10, "offset": 15}).json()
    assert [f["id"] for f in second["features"]] == [f["id"] for f in offset_page["features"]]


def test_cursor_pages_reach_every_match_once_in_order(events_client: TestClient, seed_records: list[dict]) -> None:
    params = {"limit": 7, "bbox": "46.0,39.0,48.0,40.5", "datetime": "2020-09-27/2020-11-10"}
    whole = events_client.get(ITEMS, params={**params, "limit": 1000}).json()
    pages = _walk(events_client, **params)
    served = [f for page in pages for f in page["features"]]
    assert len(pages) > 3
    assert [f["id"] for f in served] == [f["id"] for f in whole["features"]]
    keys = [(f["properties"]["date_start"], f["id"]) for f in served]
    assert keys == sorted(keys)


def test_a_write_before_the_cursor_does_not_repeat_or_skip(events_client, api_keys, event_feature) -> None:
    first = events_client.get(ITEMS, params={"limit": 10}).json()
    expected = events_client.get(ITEMS, params={"limit": 10, "offset": 10}).json()
    earliest = event_feature(1, date_start="2020-09-27", date_end="2020-09-27")
    auth = {"Authorization": f"Bearer {api_keys['editor']}"}
    assert events_client.post(ITEMS, json=earliest, headers=auth).status_code == 201
    by_cursor = events_client.get(_next(first) or "").json()
    by_offset = events_client.get(ITEMS, params={"limit": 10, "offset": 10}).json()
    assert [f["id"] for f in by_cursor["features"]] == [f["id"] for f in expected["features"]]
    assert by_offset["features"][0]["id"] == first["features"][-1]["id"]  # what an offset would have repeated


def test_a_cursor_and_an_offset_skip_from_the_cursor(events_client: TestClient) -> None:
    first = events_client.get(ITEMS, params={"limit": 10}).json()
    cursor = parse_qs(urlsplit(_next(first) or "").query)["cursor"][0]
    skipped = events_client.get(ITEMS, params={"limit": 5, "cursor": cursor, "offset": 5}).json()
    by_offset = events_client.get(ITEMS, params={"limit": 5, "offset": 15}).json()
    assert [f["id"] for f in skipped["features"]] == [f["id"] for f in by_offset["features"]]


def test_a_forged_cursor_is_400_naming_it(events_client: TestClient) -> None:
    for cursor in ("not-base64!", "bm9waXBl", "MjAyMC0xMy0wNHx4"):  # junk, no separator, month 13
        response = events_client.get(ITEMS, params={"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["parameter"] == "cursor"


def test_layers_page_by_offset_and_refuse_a_cursor(events_client: TestClient) -> None:
    page = events_client.get("/collections/places/items", params={"limit": 5}).json()
    assert "offset=5" in (_next(page) or "")
    refused = events_client.get("/collections/places/items", params={"cursor": "MjAyMC0xMC0wNHx4"})
    assert refused.status_code == 400 and refused.json()["parameter"] == "cursor"
