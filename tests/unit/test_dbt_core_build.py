"""northstar.build without running dbt: the command line, run_results parsing and the summary."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rich.console import Console

from northstar.build import BuildResult, NodeResult, _read_run_results, dbt_args
from northstar.config import PROJECT_DIR, Settings


def _render(renderable: object) -> str:
    console = Console(record=True, width=160)
    console.print(renderable)
    return console.export_text()


def test_dbt_args_use_the_venv_dbt_project_and_vars(tmp_path: Path) -> None:
    settings = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path, reporting_timezone="Europe/Berlin")
    args = dbt_args(settings, "build", "--select", "fct_sessions")
    assert args[0] == str(Path(sys.executable).parent / "dbt")
    assert args[1:4] == ["build", "--select", "fct_sessions"]
    assert args[args.index("--project-dir") + 1] == str(PROJECT_DIR)
    assert args[args.index("--profiles-dir") + 1] == str(PROJECT_DIR)
    dbt_vars = json.loads(args[args.index("--vars") + 1])
    assert dbt_vars["reporting_timezone"] == "Europe/Berlin"
    assert dbt_vars["session_timeout_minutes"] == 30


def test_run_results_are_read_per_node(tmp_path: Path) -> None:
    results = {
        "results": [
            {"unique_id": "model.northstar.fct_sessions", "status": "success", "message": "OK", "execution_time": 1.5},
            {"unique_id": "test.northstar.unique_fct_sessions_session_id.abc", "status": "fail", "message": "Got 2"},
            {"unique_id": "unit_test.northstar.fct_funnel_daily.t1", "status": "pass", "message": None},
            {"unique_id": "seed.northstar.channel_rules", "status": "success", "execution_time": 0.1},
        ]
    }
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    nodes = _read_run_results(tmp_path, started=time.time())
    assert [(n.resource_type, n.name, n.status) for n in nodes] == [
        ("model", "fct_sessions", "success"),
        ("test", "abc", "fail"),
        ("unit_test", "t1", "pass"),
        ("seed", "channel_rules", "success"),
    ]
    assert [n.failed for n in nodes] == [False, True, False, False]


def test_run_results_of_an_earlier_run_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "run_results.json").write_text(json.dumps({"results": [{"unique_id": "model.x.y", "status": "error"}]}))
    assert _read_run_results(tmp_path, started=time.time() + 60) == []


def test_summary_counts_and_failure_details(tmp_path: Path) -> None:
    nodes = [
        NodeResult("model.northstar.a", "model", "a", "success", "OK", 1.0),
        NodeResult("model.northstar.b", "model", "b", "error", "Binder Error: column x not found\nmore", 0.2),
        NodeResult("model.northstar.c", "model", "c", "skipped", "", 0.0),
        NodeResult("test.northstar.t", "test", "t", "pass", "", 0.1),
        NodeResult("unit_test.northstar.m.u", "unit_test", "u", "fail", "actual differs", 0.1),
    ]
    result = BuildResult(success=False, log_path=tmp_path / "dbt.log", nodes=nodes, elapsed_s=3.25)
    text = _render(result.summary())
    assert "FAILED in 3.2s" in text or "FAILED in 3.3s" in text
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if len(cells) == 5:
            rows[cells[0]] = cells[1:]  # passed, warned, failed, skipped
    assert rows["models"] == ["1", "0", "1", "1"]
    assert rows["data tests"] == ["1", "0", "0", "0"]
    assert rows["unit tests"] == ["0", "0", "1", "0"]
    assert "model b: Binder Error: column x not found more" in text
    assert str(tmp_path / "dbt.log") in text


def test_summary_of_a_success_has_no_log_line(tmp_path: Path) -> None:
    nodes = [NodeResult("seed.northstar.s", "seed", "s", "success", "", 0.1)]
    text = _render(BuildResult(success=True, log_path=tmp_path / "dbt.log", nodes=nodes, elapsed_s=1.0).summary())
    assert "succeeded" in text and "dbt log" not in text
