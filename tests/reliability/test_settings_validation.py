"""Bad settings stop a command before it starts: exit 2, one line "error: ..." naming the variable, no traceback.

Each case runs the CLI as a user does (a subprocess, settings from NORTHSTAR_* variables). Read-only commands
(`kpis`, `query`) are the probe for settings every command reads; `load` for the warehouse dir a writing command
needs. About 1 s per case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from northstar.serve.publish import publish


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **env},
        timeout=120,
    )


def _one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _unwritable_dir(tmp_path: Path) -> Path:
    """An existing directory this process cannot create files in (root writes anywhere chmod allows)."""
    if os.geteuid() != 0:
        path = tmp_path / "readonly"
        path.mkdir()
        path.chmod(0o555)
        return path
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("running as root without /sys/kernel: no directory root cannot write")
    return Path("/sys/kernel")


BAD_SETTINGS = [
    # (variable, value, words the message must carry besides the variable)
    ("NORTHSTAR_MEMORY_LIMIT", "lots", "4GB"),
    ("NORTHSTAR_MEMORY_LIMIT", "0GB", "64MB"),  # DuckDB parses it, then every query is out of memory
    ("NORTHSTAR_MEMORY_LIMIT", "150%", "80%"),
    ("NORTHSTAR_MEMORY_LIMIT", "4GB'; drop table x; --", "4GB"),
    ("NORTHSTAR_THREADS", "0", "1 or more"),
    ("NORTHSTAR_THREADS", "-2", "1 or more"),
    ("NORTHSTAR_REPORTING_CURRENCY", "dollars", "ISO-4217"),
    ("NORTHSTAR_ATTRIBUTION_MODEL", "magic", "last_non_direct"),
    ("NORTHSTAR_REPORTING_TIMEZONE", "Mars/Olympus", "Europe/Berlin"),
    ("NORTHSTAR_REPORTING_TIMEZONE", "localtime", "Europe/Berlin"),  # zoneinfo knows it, DuckDB does not
    ("NORTHSTAR_SESSION_TIMEOUT_MINUTES", "-30", "above 0"),
    ("NORTHSTAR_ATTRIBUTION_LOOKBACK_DAYS", "-1", "0 or more"),
    ("NORTHSTAR_INCREMENTAL_LOOKBACK_DAYS", "-3", "0 or more"),
    ("NORTHSTAR_ALERT_MIN_CHANGE", "-0.2", "0 or more"),
    ("NORTHSTAR_ALERT_MAX_P_VALUE", "1.5", "below 1"),
    ("NORTHSTAR_ALERT_MAX_P_VALUE", "nan", "not a number"),
    ("NORTHSTAR_MIN_CONVERSIONS_FOR_VERDICT", "0", "1 or more"),
    ("NORTHSTAR_RECOMMENDATION_CUT_RATIO", "0", "above 0"),
    ("NORTHSTAR_RECOMMENDATION_SCALE_RATIO", "-1", "above 0"),
    ("NORTHSTAR_EXPECTED_LIFETIME_YEARS", "0", "above 0"),
    ("NORTHSTAR_MAX_QUARANTINE_SHARE", "1.5", "at most 1"),
    ("NORTHSTAR_PARTITIONS_START", "January", "2026-01-01"),
]


@pytest.mark.parametrize(("name", "value", "hint"), BAD_SETTINGS, ids=[f"{n[10:]}={v}" for n, v, _ in BAD_SETTINGS])
def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path, name: str, value: str, hint: str) -> None:
    proc = _cli({"NORTHSTAR_WAREHOUSE_DIR": str(tmp_path), name: value}, "kpis")
    _one_line_error(proc, name, hint)


def test_a_warehouse_dir_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "warehouse"
    file.write_text("not a directory")
    for command in (["kpis"], ["load", str(tmp_path)], ["publish"]):
        _one_line_error(_cli({"NORTHSTAR_WAREHOUSE_DIR": str(file)}, *command), "NORTHSTAR_WAREHOUSE_DIR", "is a file")


def test_a_landing_dir_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "landing.csv"
    file.write_text("a,b\n")
    env = {"NORTHSTAR_WAREHOUSE_DIR": str(tmp_path / "wh"), "NORTHSTAR_LANDING_DIR": str(file)}
    _one_line_error(_cli(env, "run"), "NORTHSTAR_LANDING_DIR", "is a file")


def test_a_warehouse_dir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    warehouse = tmp_path / "file" / "warehouse"  # its parent is a file
    line = _one_line_error(
        _cli({"NORTHSTAR_WAREHOUSE_DIR": str(warehouse)}, "load", str(tmp_path)), "NORTHSTAR_WAREHOUSE_DIR"
    )
    assert "cannot be created" in line, line


def test_a_warehouse_dir_that_is_not_writable_stops_writers_not_readers(tmp_path: Path) -> None:
    warehouse = _unwritable_dir(tmp_path)
    env = {"NORTHSTAR_WAREHOUSE_DIR": str(warehouse)}
    for command in (["load", str(tmp_path)], ["publish"], ["build"]):
        _one_line_error(_cli(env, *command), "NORTHSTAR_WAREHOUSE_DIR", "is not writable")
    # readers of the serving file need no write access: their error (no serving file here) is not about it
    reader = _cli(env, "kpis")
    assert "writable" not in reader.stderr, reader.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_query_works_on_a_read_only_warehouse_dir(sample_marts_settings, tmp_path: Path) -> None:
    settings = sample_marts_settings("readonly_serving")
    publish(settings)
    warehouse = tmp_path / "wh"
    warehouse.mkdir()
    shutil.copy(settings.serving_path, warehouse / "serving.duckdb")
    warehouse.chmod(0o555)
    try:
        proc = _cli({"NORTHSTAR_WAREHOUSE_DIR": str(warehouse)}, "query", "select 41 + 1 as answer")
    finally:
        warehouse.chmod(0o755)
    assert proc.returncode == 0 and "42" in proc.stdout, proc.stderr
