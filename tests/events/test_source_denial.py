"""A source may report a denial (``Source.denial_by``): both stores keep it, and nothing else, round trip."""

from __future__ import annotations

import json

import pytest

from app.events.errors import ValidationError
from app.events.model import to_feature
from app.events.seed import DEFAULT_SEED, seed


def _sources() -> list[dict[str, object]]:
    return [
        {"publisher": "Claimant agency", "title": "Side A says it hit X", "published": "2020-10-01"},
        {
            "publisher": "Other outlet",
            "title": "Side B denies hitting X",
            "published": "2020-10-02",
            "url": "https://example.org/denial",
            "denial_by": "Side B",
        },
    ]


def test_denial_by_round_trips_in_both_stores(service, admin, event_data) -> None:
    created = service.create(admin, event_data(1, sources=_sources(), verification="disputed"))
    stored = service.get(created.id)
    assert [s.denial_by for s in stored.sources] == [None, "Side B"]
    assert stored.fields()["sources"][1] == {**_sources()[1], "title_is_descriptive": False}
    assert to_feature(stored)["properties"]["sources"][1]["denial_by"] == "Side B"


def test_denial_by_survives_a_partial_update(service, admin, event_data) -> None:
    service.create(admin, event_data(1))
    updated = service.update(admin, "test-0001", {"sources": _sources()})
    assert service.get("test-0001").sources == updated.sources
    assert updated.sources[1].denial_by == "Side B"


@pytest.mark.parametrize("bad", [{"denied_by": "Side B"}, {"denial_by": ""}])
def test_unknown_or_empty_source_keys_are_rejected(service, admin, event_data, bad) -> None:
    source = {"publisher": "p", "title": "t", **bad}
    with pytest.raises(ValidationError, match="sources"):
        service.create(admin, event_data(1, sources=[source]))


def test_the_curated_seed_keeps_its_denials_in_both_stores(service) -> None:
    expected = {r["id"]: r for r in json.loads(DEFAULT_SEED.read_text(encoding="utf-8"))}
    report = seed(service)
    assert (report.rejected, report.created) == ([], len(expected))
    # Denials are kept on disputed records and on corroborated ones (a denied claim an investigation confirmed).
    denied = [i for i, r in expected.items() if any(s.get("denial_by") for s in r["sources"])]
    assert len(denied) >= 20
    assert {expected[i]["verification"] for i in denied} == {"disputed", "corroborated"}
    for event_id in denied:
        stored = service.get(event_id)
        assert [s.denial_by for s in stored.sources] == [s.get("denial_by") for s in expected[event_id]["sources"]]
