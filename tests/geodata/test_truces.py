"""The truces layer: served as a collection, times with offsets checked against the cited texts, linked events."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient
from testsupport import make_settings

from app.main import create_app

#: id -> (start as the cited text gives it, the UTC instant an independent report gives, citations)
PUBLISHED_TIMES = {
    "truce-2020-10-10": (
        "2020-10-10T12:00:00+04:00",
        "2020-10-10T08:00:00Z",
        "JAMnews 2020-10-10: 12:00 local time (10:00 CET, i.e. CEST, UTC+2); TASS reads 12:00 Moscow time",
    ),
    "truce-2020-10-18": (
        "2020-10-18T00:00:00+04:00",
        "2020-10-17T20:00:00Z",
        "AFP 2020-10-17: 'as of October 18, 00h00 local time'; YJC 2020-10-18: 'midnight local time (8pm GMT)'",
    ),
    "truce-2020-10-26": (
        "2020-10-26T08:00:00+04:00",
        "2020-10-26T04:00:00Z",
        "US-Armenia-Azerbaijan statement (USC, Tehelka): '08:00 a.m. local time (12:00 a.m. EDT)', EDT = UTC-4",
    ),
    "statement-2020-11-10": (
        "2020-11-10T00:00:00+03:00",
        "2020-11-09T21:00:00Z",
        "Statement point 1: '00:00 Moscow time on 10 November 2020'; Putin: ceasefire from 2100 GMT",
    ),
}


@pytest.fixture(scope="module")
def truces(built_data_dir: Path) -> dict[str, dict]:
    settings = make_settings(built_data_dir, seed=False)
    with TestClient(create_app(settings)) as client:
        response = client.get("/collections/truces/items", params={"limit": 100})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    return {f["id"]: f for f in response.json()["features"]}


def test_the_collection_is_served_with_every_truce(truces):
    assert set(truces) == set(PUBLISHED_TIMES)
    for feature in truces.values():
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        props = feature["properties"]
        assert props["parties"] and props["statements"] and props["outcome"] and props["text_source_title"]
        assert json.loads(props["text_sources"]) and json.loads(props["party_sources"])


@pytest.mark.parametrize("truce_id", sorted(PUBLISHED_TIMES))
def test_start_times_carry_offsets_and_match_the_cited_texts(truces, truce_id):
    text_time, published_utc, citation = PUBLISHED_TIMES[truce_id]
    props = truces[truce_id]["properties"]
    start = datetime.fromisoformat(props["start_time"])
    assert start.utcoffset() is not None, truce_id
    assert props["start_time"] == text_time, citation
    expected = datetime.fromisoformat(published_utc.replace("Z", "+00:00"))
    assert start.astimezone(UTC) == expected == datetime.fromisoformat(props["start_time_utc"].replace("Z", "+00:00"))


def test_only_the_moscow_truce_has_a_disputed_time_zone(truces):
    disputed = {tid for tid, f in truces.items() if f["properties"]["time_zone_disputed"]}
    assert disputed == {"truce-2020-10-10"}
    assert "Moscow time" in truces["truce-2020-10-10"]["properties"]["time_zone_note"]


def test_datetime_filter_finds_the_truce_in_force(built_data_dir: Path):
    settings = make_settings(built_data_dir, seed=False)
    with TestClient(create_app(settings)) as client:
        for instant, expected in [
            ("2020-10-20T12:00:00Z", {"truce-2020-10-18"}),
            ("2020-10-26T03:00:00Z", {"truce-2020-10-18"}),  # one hour before 08:00 local time
            ("2020-10-26T05:00:00Z", {"truce-2020-10-26"}),
            ("2021-01-01T00:00:00Z", {"statement-2020-11-10"}),
        ]:
            body = client.get("/collections/truces/items", params={"datetime": instant}).json()
            assert {f["id"] for f in body["features"]} == expected, instant


def test_linked_violations_are_seed_events_in_the_truce_period(truces, seed_records):
    events = {e["id"]: e for e in seed_records}
    linked = 0
    for truce in truces.values():
        props = truce["properties"]
        start = props["start_time"][:10]
        for event_id in filter(None, (props["violation_event_ids"] or "").split("; ")):
            assert event_id in events, event_id
            event = events[event_id]
            assert start <= event["date_end"] and (props["valid_to"] is None or event["date_start"] < props["valid_to"])
            linked += 1
    assert linked >= 4


def test_gdal_reads_the_layer(built_data_dir: Path):
    info = pyogrio.read_info(built_data_dir / "layers" / "truces.gpkg", layer="truces")
    assert info["features"] == 4 and info["crs"] == "EPSG:4326"
    assert {"start_time", "start_time_utc", "violation_event_ids"} <= set(info["fields"])


def test_an_edited_data_file_must_be_pinned_again(tmp_path: Path):
    from geodata.errors import BuildCheckFailed
    from geodata.truces import DATA_DIR, load_truces

    edited = tmp_path / "truces.toml"
    edited.write_text(
        (DATA_DIR / "truces.toml").read_text(encoding="utf-8").replace("12:00:00+04:00", "12:00:00+03:00")
    )
    pinned = tomllib.loads((Path(__file__).parents[2] / "layers" / "truces.toml").read_text())["params"]["data_sha256"]
    assert len(load_truces(DATA_DIR / "truces.toml", pinned)) == 4
    with pytest.raises(BuildCheckFailed, match="update data_sha256"):
        load_truces(edited, pinned)
