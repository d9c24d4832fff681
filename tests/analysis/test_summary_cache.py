"""Zone summaries are kept by layer, period and data version: repeated at no cost, computed again after a write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from testsupport import make_event, make_settings

from app.events.auth import SEED_ACTOR
from app.http.response_cache import ResponseStore
from app.main import create_app

SUMMARY = "/analysis/zones/nagorno-karabakh/summary?start=2020-09-27&end=2020-11-10"


@pytest.fixture
def client(built_data_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    analysis = {"population_raster": tmp_path / "missing.tif"}
    settings = make_settings(
        built_data_dir, database_url=f"sqlite:///{tmp_path / 'ev.sqlite'}", seed=False, analysis=analysis
    )
    with TestClient(create_app(settings)) as test_client:
        test_client.app.state.events.create(SEED_ACTOR, make_event(1))  # type: ignore[attr-defined]
        yield test_client


def _events(body: dict) -> int:
    (zone,) = body["zones"]
    return int(zone["event_count"])


def test_a_repeated_summary_comes_from_the_cache(client: TestClient) -> None:
    store: ResponseStore = client.app.state.summary_cache  # type: ignore[attr-defined]
    first = client.get(SUMMARY)
    again = client.get(SUMMARY)
    assert first.status_code == again.status_code == 200
    assert (store.misses, store.hits) == (1, 1)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-type"] == "application/json"
    assert _events(again.json()) == 1
    assert client.get(SUMMARY, headers={"if-none-match": first.headers["etag"]}).status_code == 304
    other_period = client.get("/analysis/zones/nagorno-karabakh/summary?start=2020-11-01&end=2020-11-10")
    assert _events(other_period.json()) == 0 and store.hits == 1


def test_a_write_computes_the_summary_again(client: TestClient) -> None:
    store: ResponseStore = client.app.state.summary_cache  # type: ignore[attr-defined]
    before = client.get(SUMMARY)
    client.app.state.events.create(SEED_ACTOR, make_event(2))  # type: ignore[attr-defined]
    after = client.get(SUMMARY, headers={"if-none-match": before.headers["etag"]})
    assert after.status_code == 200 and store.hits == 0
    assert after.headers["etag"] != before.headers["etag"]
    assert _events(after.json()) == _events(before.json()) + 1


def test_errors_are_not_kept(client: TestClient) -> None:
    bad = "/analysis/zones/nagorno-karabakh/summary?start=2020-11-10&end=2020-09-27"
    assert client.get(bad).status_code == client.get(bad).status_code == 400
    assert len(client.app.state.summary_cache) == 0  # type: ignore[attr-defined]
