"""The short version of bench/faults.py, run in CI on both stores: kill -9 during writes and during an import.

What must hold whatever the machine's speed: every write acknowledged before or after a SIGKILL of the server is
found after its restart, and an import killed part-way then run again stores each row once. The figures of the
long runs are bench/LOAD.md's to report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def faults() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        import faults
    finally:
        sys.path.remove(str(BENCH))
    return faults


def test_no_acknowledged_write_is_lost_to_a_kill(
    faults: ModuleType, own_store_data_dir: Path, events_database_url: str
) -> None:
    figures = faults.kill_during_writes(own_store_data_dir, events_database_url, writers=8, duration=4, kill_after=2)
    assert figures["acknowledged"] > 0
    assert figures["found"] == figures["acknowledged"]


def test_an_import_killed_part_way_resumes_without_a_duplicate(
    faults: ModuleType, own_store_data_dir: Path, events_database_url: str
) -> None:
    figures = faults.kill_during_import(own_store_data_dir, events_database_url, rows=1200, timeout=300)
    assert figures["killed"], figures
    assert 0 < figures["stored_after_kill"] < figures["rows"]
    assert figures["stored_after_resume"] == figures["rows"]
    assert figures["import_audit_records"] == figures["rows"] and figures["duplicates"] == 0
