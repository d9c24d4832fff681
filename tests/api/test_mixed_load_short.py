"""The short version of bench/mixed_load.py, run in CI: a real server under 8 connections for a few seconds.

It checks what must hold whatever the machine's speed: no errors (no 5xx but a shed 503, no transport error),
every acknowledged write found again, memory measured. The latency and memory figures are the benchmark's to
report (bench/mixed_load.py, long version), not this test's to assert.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_short_mixed_load_has_no_errors_and_loses_no_write(own_store_data_dir: Path, tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import mixed_load
    finally:
        sys.path.remove(str(BENCH))
    figures = mixed_load.main(
        ["--data-dir", str(own_store_data_dir), "--duration", "6", "--warmup", "2", "--connections", "8"]
        + ["--server-log", str(tmp_path / "server.log")]
    )
    classes = figures["classes"]
    assert {name: c["errors"] for name, c in classes.items()} == dict.fromkeys(classes, 0)
    assert classes["read"]["requests"] > 0 and classes["write"]["requests"] > 0
    assert figures["writes"]["acknowledged"] > 0
    assert figures["writes"]["found"] == figures["writes"]["acknowledged"]
    assert figures["memory_mib"]["after_warmup"] > 0
    # the server's own durations, read back from its access log: the window's requests, give or take the 8 under
    # way when it opened
    server = figures["server_side"]["read"]
    assert 0 < server["requests"] <= classes["read"]["requests"] + 8 and server["p99_ms"] is not None
