"""northstar.build counts node results from dbt's streamed JSON log events (issue 9).

When dbt aborts mid-run it writes no run_results.json; the summary must still show what ran and the real error.
The events below have the shape dbt 1.11 logs with `--log-format json` (fields trimmed to those read).
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from rich.console import Console

from northstar import build
from northstar.build import BuildResult, DbtEvents
from northstar.config import Settings

DUCKDB_ERROR = "Not implemented Error: Cannot switch temporary directory after the current one has been used"


def _event(name: str, text: str, level: str = "info", node: tuple[str, str] | None = None, /, **data: object) -> str:
    """One dbt log line; node is (unique_id, node_status)."""
    if node is not None:
        uid, status = node
        data["node_info"] = {
            "unique_id": uid,
            "resource_type": uid.split(".")[0],
            "node_name": uid.split(".")[2] if uid.startswith("test.") else uid.split(".")[-1],
            "node_status": status,
        }
    return json.dumps({"info": {"name": name, "level": level, "msg": text}, "data": data})


def _aborted_run() -> list[str]:
    """Seeds, models and tests pass, then a DuckDB error outside the model's SQL aborts dbt."""
    lines = [
        _event("MainReportVersion", "Running with dbt=1.11.16"),
        _event("FoundStats", "Found 31 models, 188 data tests, 5 seeds, 28 unit tests"),
    ]
    for i in range(3):
        lines.append(_event("LogSeedResult", f"OK seed s{i}", "info", (f"seed.northstar.s{i}", "success"), total=20))
    for i in range(5):
        lines.append(_event("LogStartLine", "START", "info", (f"model.northstar.m{i}", "started"), total=20))
        lines.append(
            _event("LogModelResult", "OK", "info", (f"model.northstar.m{i}", "success"), status="OK", total=20)
        )
    for i in range(4):
        lines.append(_event("LogTestResult", "PASS", "info", (f"test.northstar.t{i}.ab12", "pass"), status="pass"))
    # Unit tests leave node_status "None"; their outcome is data.status.
    lines.append(_event("LogTestResult", "PASS", "info", ("unit_test.northstar.m1.u1", "None"), status="pass"))
    lines += [
        "not a json line: a library warning",
        _event(
            "GenericExceptionOnRun",
            "Unhandled error while executing target/run/m5.sql\n" + DUCKDB_ERROR,
            "error",
            ("model.northstar.m5", "executing"),
            exc=DUCKDB_ERROR,
            unique_id="model.northstar.m5",
        ),
        _event(
            "LogModelResult", "ERROR creating sql table model m5", "error", ("model.northstar.m5", "error"), total=20
        ),
        _event("MainEncounteredError", f"Encountered an error:\n{DUCKDB_ERROR}", "error", exc=DUCKDB_ERROR),
        _event("MainStackTrace", 'Traceback (most recent call last):\n  File "x.py"', "error"),
    ]
    return lines


def _rows(result: BuildResult) -> tuple[dict[str, list[str]], str]:
    console = Console(record=True, width=200)
    console.print(result.summary())
    text = console.export_text()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if len(cells) == 5:
            rows[cells[0]] = cells[1:]  # passed, warned, failed, skipped
    return rows, text


def test_an_aborted_run_counts_what_ran_and_shows_the_duckdb_error(tmp_path: Path) -> None:
    events = DbtEvents()
    for line in _aborted_run():
        events.feed(line)
    nodes = events.results()
    result = BuildResult(False, tmp_path / "dbt.log", nodes, 4.0, events.first_error(nodes, 2), events.total)
    rows, text = _rows(result)
    assert rows["seeds"] == ["3", "0", "0", "0"]
    assert rows["models"] == ["5", "0", "1", "0"]
    assert rows["data tests"] == ["4", "0", "0", "0"]
    assert rows["unit tests"] == ["1", "0", "0", "0"]
    assert f"model m5: {DUCKDB_ERROR}" in text
    assert text.count(DUCKDB_ERROR) == 1  # dbt's closing "Encountered an error" repeats it: shown once
    assert "dbt stopped after 14 of 20 nodes" in text
    assert "Traceback" not in text and "library warning" not in text


def test_failed_unit_test_data_test_and_model_show_dbts_final_messages(tmp_path: Path) -> None:
    unit = "unit_test.northstar.fct_attributed_conversions.test_all_models"
    model = "model.northstar.int_sessions_classified"
    lines = [
        _event("LogTestResult", "FAIL u", "error", (unit, "None"), status="fail", num_failures=1, num_models=6),
        _event("LogModelResult", "ERROR creating", "error", (model, "error"), status="error", total=6),
        _event("SkippingDetails", "SKIP", "info", ("model.northstar.fct_sessions", "skipped"), total=6),
        _event("SkippingDetails", "SKIP", "info", ("unit_test.northstar.fct_sessions.u2", "skipped"), total=6),
        _event("LogTestResult", "WARN 2", "warn", ("test.northstar.recent.ab", "warn"), status="warn"),
        _event("LogTestResult", "FAIL 3", "error", ("test.northstar.unique_x.cd", "fail"), status="fail"),
        _event("RunResultFailure", f"Failure in unit_test {unit}", "error", (unit, "None")),
        _event("RunResultError", "x", "error", (unit, "None"), msg="\n\nactual differs from expected:\n\n@@ ,c1"),
        _event(
            "RunResultError",
            "x",
            "error",
            (model, "None"),
            msg="Runtime Error in model int_sessions_classified (models/x.sql)\n  "
            "Not implemented Error: Unknown TimeZone 'Mars/Olympus'!",
        ),
        _event("RunResultError", "x", "error", ("test.northstar.unique_x.cd", "None"), msg="Got 3 results"),
    ]
    events = DbtEvents()
    for line in lines:
        events.feed(line)
    nodes = events.results()
    result = BuildResult(False, tmp_path / "dbt.log", nodes, 1.0, events.first_error(nodes, 1), events.total)
    rows, text = _rows(result)
    assert rows["models"] == ["0", "0", "1", "1"]
    assert rows["data tests"] == ["0", "1", "1", "0"]
    assert rows["unit tests"] == ["0", "0", "1", "1"]
    assert "unit_test test_all_models: actual differs from expected: @@ ,c1" in text
    assert "Unknown TimeZone 'Mars/Olympus'" in text and "test unique_x: Got 3 results" in text
    assert result.error is None and "stopped" not in text


def test_run_dbt_build_ignores_a_stale_run_results_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole run_dbt_build path with a stand-in dbt that replays an aborted run and exits 2."""
    settings = Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path)
    settings.dbt_target_dir.mkdir(parents=True)
    stale = {"results": [{"unique_id": "model.northstar.old", "status": "success"}]}
    (settings.dbt_target_dir / "run_results.json").write_text(json.dumps(stale))
    replay = tmp_path / "events.jsonl"
    replay.write_text("\n".join(_aborted_run()) + "\n")
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(
        f"#!{sys.executable}\nimport sys\nsys.stdout.write(open({str(replay)!r}).read())\nsys.exit(2)\n"
    )
    fake_dbt.chmod(fake_dbt.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(build, "dbt_executable", lambda: fake_dbt)
    result = build.run_dbt_build(settings, console=Console(quiet=True))
    assert not result.success
    assert len(result.nodes) == 14 and "old" not in {n.name for n in result.nodes}
    assert [(n.name, n.message) for n in result.failures] == [("m5", DUCKDB_ERROR)]
