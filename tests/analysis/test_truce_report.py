"""``GET /analysis/truces`` and ``czmap analyse truces`` through ``create_app`` on the seeded event store.

The first reported violations are checked against published reports (:data:`PUBLISHED_FIRST_VIOLATIONS`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from testsupport import make_settings
from typer.testing import CliRunner

from app.analysis.cli import analyse_cli
from app.main import create_app

#: truce id -> (day of the first violation reported after the day it took effect, place, published report)
PUBLISHED_FIRST_VIOLATIONS = {
    "truce-2020-10-10": (
        "2020-10-11",
        "Ganja",
        "Trend 2020-10-12 (Azerbaijani Prosecutor General's Office): missiles hit Ganja on 11 October 2020 at "
        "about 02:00 (GMT+4); TASS 2020-10-11: Aliyev said Armenia violated the ceasefire with a missile attack "
        "on Ganja; the Armenian defence ministry denied it (Pledge Times, citing RIA Novosti, 2020-10-11)",
    ),
}
#: Reported on the day the humanitarian ceasefire took effect (10 October): Armenpress 2020-10-10 reports an
#: Azerbaijani infiltration attempt towards Hadrut after the ceasefire announcement (an Artsakh claim).
SAME_DAY_REPORT = ("truce-2020-10-10", "2020-10-10", "Hadrut")


@pytest.fixture(scope="module")
def report(built_data_dir: Path) -> Iterator[dict[str, Any]]:
    with TestClient(create_app(make_settings(built_data_dir))) as client:
        response = client.get("/analysis/truces")
        assert response.status_code == 200, response.text
        png = client.get("/analysis/truces", params={"format": "png"})
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        yield {t["id"]: t for t in response.json()["truces"]}


def test_every_truce_is_reported(report) -> None:
    assert set(report) == {"truce-2020-10-10", "truce-2020-10-18", "truce-2020-10-26", "statement-2020-11-10"}


@pytest.mark.parametrize("truce_id", sorted(PUBLISHED_FIRST_VIOLATIONS))
def test_first_violation_after_the_start_day_matches_the_published_record(report, truce_id) -> None:
    day, place, citation = PUBLISHED_FIRST_VIOLATIONS[truce_id]
    first = report[truce_id]["first_reported_violation_after_start_day"]
    assert (first["date"], first["place_name"]) == (day, place), citation
    assert first["sources"] and first["event_type"] in ("Explosions/Remote violence", "Violence against civilians")


def test_a_same_day_report_is_flagged_as_possibly_before_the_start(report) -> None:
    truce_id, day, place = SAME_DAY_REPORT
    first = report[truce_id]["first_reported_violation"]
    assert (first["date"], first["place_name"], first["same_day_as_start"]) == (day, place, True)


def test_windows_add_up_and_name_claimants_types_and_zones(report) -> None:
    for truce in report.values():
        windows = truce["windows"]
        assert sum(w["count"] for w in windows) == truce["event_count"], truce["id"]
        for window in windows:
            for key in ("by_type", "by_claimant", "by_zone"):
                assert sum(window[key].values()) == window["count"], (truce["id"], key)
        assert sum(n for _, n in truce["violations_per_day"]) <= truce["event_count"]


def test_linked_violations_are_found_in_the_store(report) -> None:
    linked = [v for truce in report.values() for v in truce["linked_violations"]]
    assert linked and all(v["in_event_store"] for v in linked)


def test_no_violation_in_the_store_after_the_10_november_statement(report) -> None:
    """The curated store has no violent event in the 30 days after the statement's first day (a fact about the
    seed, not a claim that no shot was fired)."""
    assert report["statement-2020-11-10"]["first_reported_violation_after_start_day"] is None


def test_cli_truces(built_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "truces.json"
    result = CliRunner().invoke(analyse_cli, ["truces", "--data-dir", str(built_data_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text())["truces"]) == 4
