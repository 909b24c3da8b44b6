"""`northstar build --select` with a name that matches nothing is a one-line error with exit 2, from the real dbt
(issue 12, problem 9): dbt only warns (`NoNodesForSelectionCriteria`) and exits 0 unless told to raise it. About
a minute: dbt parses the project and stops before building anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_selection_that_matches_nothing_stops_the_build(tmp_path: Path) -> None:
    env = {**os.environ, "NORTHSTAR_WAREHOUSE_DIR": str(tmp_path / "wh"), "NORTHSTAR_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", "from northstar.cli import main; main()", "build", "--select", "nonexistent_model"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: --select nonexistent_model matches no dbt model, seed or test (check the name; `.venv/bin/dbt ls`"
        " lists them)"
    ]
    assert "succeeded" not in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
