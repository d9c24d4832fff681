"""GDAL's OAPIF driver (the GDAL in the pyogrio wheel) against a live ``czmap serve``: which filters reach the server.

GDAL sends an attribute filter as ``name=value`` only for properties the API document lists as query parameters
of the collection's items path, and a date range as ``datetime``; the server's access log shows what it sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote

import pyogrio
import pytest
from livesupport import free_port, stop_server, wait_until_up

from app.settings import Settings


class LoggedServer:
    """A ``czmap serve --access-log`` process whose log is read back by the test."""

    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log

    def queries(self, collection: str) -> list[dict[str, list[str]]]:
        """The query of every GET of ``collection``'s items since the log was last cleared."""
        path = f"/collections/{collection}/items"
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)  # the service's JSON access records
            except ValueError:
                continue
            if record.get("method") == "GET" and record.get("path") == path:
                found.append(parse_qs(unquote(record.get("query", ""))))
        return found

    def clear(self) -> None:
        self.log.write_text("")


@pytest.fixture(scope="module")
def logged_server(built_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedServer]:
    log = tmp_path_factory.mktemp("gdal") / "access.log"
    env = {**os.environ, "CZMAP_DATA_DIR": str(built_settings.data_dir), "CZMAP_BASEMAP__URL": ""}
    env["CZMAP_EVENTS__DATABASE_URL"] = built_settings.events.database_url or ""
    port = free_port()
    with log.open("w") as out:
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--access-log"]
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield LoggedServer(url, log)
    finally:
        stop_server(process)


def read(server: LoggedServer, where: str) -> int:
    server.clear()
    return len(pyogrio.read_dataframe(f"OAPIF:{server.url}", layer="events", where=where))


def test_equality_on_a_queryable_is_sent_to_the_server(logged_server: LoggedServer) -> None:
    count = read(logged_server, "event_type = 'Battles'")
    pages = [q for q in logged_server.queries("events") if "limit" in q and q["limit"] != ["20"]]
    assert pages and all(q.get("event_type") == ["Battles"] for q in pages)
    assert count > 0


def test_two_equalities_are_both_sent(logged_server: LoggedServer) -> None:
    read(logged_server, "event_type = 'Battles' AND verification = 'reported'")
    pages = [q for q in logged_server.queries("events") if "event_type" in q]
    assert pages and all(q.get("verification") == ["reported"] for q in pages)


def test_a_date_range_is_sent_as_datetime_and_answered(logged_server: LoggedServer) -> None:
    count = read(logged_server, "date_start >= '2020-10-01' AND date_start < '2020-10-10'")
    sent = [q["datetime"][0] for q in logged_server.queries("events") if "datetime" in q]
    assert sent == ["2020-10-01T/2020-10-10T"]  # GDAL's form: a date with a bare T
    assert count > 0


def test_an_integer_comparison_is_filtered_by_gdal_itself(logged_server: LoggedServer) -> None:
    """GDAL pushes no range on a plain property: it pages through everything (documented in the README)."""
    count = read(logged_server, "fatalities_best >= 5")
    assert not [q for q in logged_server.queries("events") if "fatalities_best" in q]
    assert count > 0
