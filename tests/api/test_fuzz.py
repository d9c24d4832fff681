"""schemathesis over every operation of a live ``czmap serve`` (scripts/fuzz_api.py), with an admin key.

Bounded (a few cases per operation, a time budget for the run); any finding of the script's checks (a 5xx, or a
status, content type or body the API document does not declare) fails the test, and so does an operation the
server's log shows never exercised (DELETE and PATCH of events reach seed events through the document's examples).
CI installs schemathesis with the dev extras.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from testsupport import require

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_api.py"


def schemathesis_program() -> str | None:
    beside = Path(sys.executable).with_name("schemathesis")
    return os.environ.get("CZMAP_SCHEMATHESIS") or (str(beside) if beside.exists() else shutil.which("schemathesis"))


def test_schemathesis_finds_nothing(built_data_dir: Path) -> None:
    program = schemathesis_program()
    require(program is not None, "schemathesis (pip install -e '.[dev]')")
    assert program is not None
    command = [sys.executable, str(SCRIPT), "--data-dir", str(built_data_dir), "--examples", "5", "--max-time", "120"]
    done = subprocess.run(
        [*command, "--schemathesis", program], capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stdout[-6000:]
