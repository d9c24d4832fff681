"""The event model: every validation message names its field."""

from __future__ import annotations

import pytest

from app.events.errors import ValidationError
from app.events.model import EventIn, parse_event_in
from app.events.vocab import ACLED_EVENT_TYPES


def problems(data):
    with pytest.raises(ValidationError) as info:
        parse_event_in(data)
    return {p.field: p.message for p in info.value.problems}


def test_a_valid_event_gets_date_end_from_date_start(event_data):
    data = event_data(1)
    del data["date_end"]
    event = parse_event_in(data)
    assert event.date_end == event.date_start


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"event_type": "Fighting"}, "event_type", "not an ACLED event type"),
        ({"event_type": "Battles", "sub_event_type": "Grenade"}, "sub_event_type", "not a sub-event type of 'Battles'"),
        ({"date_end": "2020-10-01"}, "date_end", "before date_start"),
        ({"date_start": "1850-01-01", "date_end": "1850-01-01"}, "date_start", "outside"),
        ({"date_precision": 6}, "date_precision", "less than or equal to 5"),
        ({"location_precision": 0}, "location_precision", "greater than or equal to 1"),
        ({"lon": 181}, "lon", "less than or equal to 180"),
        ({"lat": float("nan")}, "lat", "finite"),
        ({"fatalities_low": 5, "fatalities_best": 3, "fatalities_high": 9}, "fatalities_high", "low <= best <= high"),
        ({"fatalities_best": -1}, "fatalities_best", "greater than or equal to 0"),
        ({"sources": []}, "sources", "at least 1"),
        ({"sources": [{"publisher": "P", "title": "T", "url": "javascript:alert(1)"}]}, "sources.0.url", "http"),
        ({"verification": "rumour"}, "verification", "reported"),
        ({"notes": "x" * 20_001}, "notes", "at most 20000"),
        ({"actors": ["a"] * 51}, "actors", "at most 50"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"id": "bad id with spaces"}, "id", "pattern"),
        ({"claimed_by": ""}, "claimed_by", "at least 1"),
    ],
)
def test_invalid_fields_are_named(event_data, changes, field, words):
    found = problems(event_data(1, **changes))
    assert field in found, found
    assert words in found[field]


def test_non_object_is_rejected():
    with pytest.raises(ValidationError, match="must be a JSON object"):
        parse_event_in(["not", "an", "object"])


def test_every_acled_pair_is_accepted(event_data):
    for event_type, subs in ACLED_EVENT_TYPES.items():
        for sub in subs:
            assert EventIn(**event_data(1, event_type=event_type, sub_event_type=sub)).sub_event_type == sub
