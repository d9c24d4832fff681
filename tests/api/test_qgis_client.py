"""QGIS's OAPIF provider (Debian's QGIS 3.22, ``python3-qgis``) against a live ``czmap serve``.

QGIS runs in Debian's own Python (``/usr/bin/python3``, not the project's venv) through :mod:`qgis_read`; the
server's access log shows which filters it sent. What QGIS 3.22 pushes to the server: the view's box (with
``restrictToRequestBBOX``) as ``bbox`` and a date range on ``date_start`` as ``datetime``; an equality on a
property it evaluates itself over every page (later QGIS releases send the queryables listed in the API document).
QGIS 3.22 types its fields from the first page alone (it reads no schema), so ``fatalities_low`` is text there
while the first ten events have none; GDAL reads the schema (test_gdal_filters.py).

A date range is answered with the events whose span (date_start to date_end) meets the range, end day included,
and QGIS keeps that answer as it is: ``date_start >= '2020-10-01' AND date_start < '2020-10-10'`` gives the
events of ``datetime=2020-10-01/2020-10-10`` (41 on the seed data), not only those starting in the range (36).
GDAL does the same with its ``2020-10-01T/2020-10-10T``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from livesupport import LoggedServer
from testsupport import require

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).with_name("qgis_read.py")


def qgis_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60, check=False)
    return done.returncode == 0


@pytest.fixture(scope="module")
def qgis(logged_live_server: LoggedServer) -> LoggedServer:
    require(qgis_available(), "QGIS's Python bindings (apt python3-qgis qgis-providers)")
    return logged_live_server


def read(server: LoggedServer, subset: str = "", box: str = "") -> dict[str, Any]:
    server.clear()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)  # Debian's Python with its own packages, not the venv's
    done = subprocess.run(
        [SYSTEM_PYTHON, str(SCRIPT), server.url, subset, box],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["valid"], done.stderr[-3000:]
    return result


def matched(server: LoggedServer, **query: str) -> int:
    body = httpx.get(f"{server.url}/collections/events/items", params={**query, "resulttype": "hits"}).json()
    return int(body["numberMatched"])


def pages(server: LoggedServer) -> list[dict[str, list[str]]]:
    """The items requests after the first (QGIS reads ten features first to learn the fields)."""
    return [q for q in server.queries("events") if q.get("limit") != ["10"]]


def test_qgis_reads_every_event_with_its_sources_as_text(qgis: LoggedServer) -> None:
    result = read(qgis)
    assert result["count"] == matched(qgis) > 0
    assert all(text for text in result["sources_text"])  # every event cites at least one source
    fields = result["fields"]
    assert (fields["fatalities_best"], fields["date_start"], fields["sources_text"]) == ("Integer", "Date", "String")


def test_qgis_sends_the_view_box_as_bbox(qgis: LoggedServer) -> None:
    result = read(qgis, box="46.5,39.5,47,40")
    sent = pages(qgis)
    assert sent and all(q.get("bbox") == ["46.5,39.5,47,40"] for q in sent)
    assert result["count"] == matched(qgis, bbox="46.5,39.5,47,40") > 0


def test_qgis_sends_a_date_range_as_datetime_and_keeps_the_servers_answer(qgis: LoggedServer) -> None:
    """QGIS does not filter again what ``datetime`` returned (neither does GDAL; see the module docstring)."""
    result = read(qgis, subset="date_start >= '2020-10-01' AND date_start < '2020-10-10'")
    assert [q.get("datetime") for q in pages(qgis)] == [["2020-10-01/2020-10-10"]]
    assert result["count"] == matched(qgis, datetime="2020-10-01/2020-10-10") > 0


def test_qgis_322_filters_a_property_itself(qgis: LoggedServer) -> None:
    result = read(qgis, subset="event_type = 'Battles'")
    sent = pages(qgis)
    assert sent and not [q for q in sent if "event_type" in q]
    assert result["count"] == matched(qgis, event_type="Battles") > 0
