"""Two ``czmap serve`` processes on one PostGIS: stateless replicas (docs/scaling.md).

A write through one is read through the other at once, with a new ETag; layer responses carry the same ETag from
either, so a CDN or browser cache in front of a load balancer revalidates correctly whichever replica answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from livesupport import start_server, stop_server
from testsupport import make_settings

from app.events.auth import create_key
from app.events.service import open_service
from app.layerstore import LayerStore
from app.settings import Settings

EVENTS = "/collections/events/items"


@pytest.fixture(scope="module")
def replicas(built_settings: Settings, module_postgis_url: str) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "CZMAP_DATA_DIR": str(built_settings.data_dir), "CZMAP_BASEMAP__URL": ""}
    env["CZMAP_EVENTS__DATABASE_URL"] = module_postgis_url
    first, first_process = start_server(env)
    try:
        second, second_process = start_server(env)
        try:
            yield first, second
        finally:
            stop_server(second_process)
    finally:
        stop_server(first_process)


def _editor_key(built_settings: Settings, database_url: str) -> str:
    settings = make_settings(built_settings.data_dir, database_url=database_url, seed=False)
    service = open_service(settings, LayerStore.open(settings.data_dir).zones)
    try:
        return create_key(service.store, "editor", "replica test")
    finally:
        service.store.close()


def test_a_write_through_one_replica_is_seen_through_the_other(
    replicas: tuple[str, str],
    built_settings: Settings,
    module_postgis_url: str,
    event_feature: Callable[..., dict[str, Any]],
) -> None:
    writer, reader = replicas
    before = httpx.get(f"{reader}{EVENTS}", params={"limit": 5}, timeout=30)
    assert before.status_code == 200 and before.headers["cache-control"] == "no-cache"
    feature = event_feature(4242)
    auth = {"Authorization": f"Bearer {_editor_key(built_settings, module_postgis_url)}"}
    assert httpx.post(f"{writer}{EVENTS}", json=feature, headers=auth, timeout=30).status_code == 201
    revalidated = httpx.get(
        f"{reader}{EVENTS}", params={"limit": 5}, headers={"if-none-match": before.headers["etag"]}, timeout=30
    )
    assert revalidated.status_code == 200
    assert revalidated.headers["etag"] != before.headers["etag"]
    assert revalidated.json()["numberMatched"] == before.json()["numberMatched"] + 1
    assert httpx.get(f"{reader}{EVENTS}/{feature['id']}", timeout=30).status_code == 200


def test_layer_responses_have_one_etag_across_replicas(replicas: tuple[str, str]) -> None:
    url = "/collections/seven-districts/items?limit=3"
    answers = [httpx.get(f"{base}{url}", headers={"accept-encoding": "gzip"}, timeout=30) for base in replicas]
    assert answers[0].headers["etag"] == answers[1].headers["etag"]
    again = httpx.get(
        f"{replicas[1]}{url}",
        headers={"if-none-match": answers[0].headers["etag"], "accept-encoding": "gzip"},
        timeout=30,
    )
    assert again.status_code == 304
