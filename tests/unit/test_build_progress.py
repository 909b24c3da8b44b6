"""`northstar build` shows a progress bar (dbt nodes done of total, the node running) instead of one line per node
(issue 12, problem 10), and keeps the summary and, on failure, the log path.

A stand-in dbt replays the JSON events dbt 1.11 streams with `--log-format json` (fields trimmed to those read):
40 nodes, one of them a warned test and one a failed model.
"""

from __future__ import annotations

import json
import stat
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from northstar import build
from northstar.config import Settings

TOTAL = 40


def _event(name: str, msg: str, uid: str, node_status: str, level: str = "info", /, **data: object) -> str:
    node = uid.split(".")
    data["node_info"] = {"unique_id": uid, "resource_type": node[0], "node_name": node[-1], "node_status": node_status}
    return json.dumps({"info": {"name": name, "level": level, "msg": msg}, "data": data})


def _run_events() -> list[str]:
    lines = [json.dumps({"info": {"name": "FoundStats", "level": "info", "msg": "Found 38 models"}, "data": {}})]
    for i in range(1, TOTAL + 1):
        uid, n = f"model.northstar.m{i}", f"{i} of {TOTAL}"
        lines.append(
            _event("LogStartLine", f"{n} START sql table model m{i} .... [RUN]", uid, "started", index=i, total=TOTAL)
        )
        if i == 7:  # a warned test carries its total as num_models
            lines.append(
                _event("LogTestResult", f"{n} WARN 3 m{i} .... [WARN 3]", uid, "warn", "warn", num_models=TOTAL)
            )
        elif i == 9:
            lines.append(
                _event(
                    "LogModelResult",
                    f"{n} ERROR creating sql table model m{i} .... [ERROR]",
                    uid,
                    "error",
                    "error",
                    status="error",
                    total=TOTAL,
                )
            )
        else:
            lines.append(
                _event(
                    "LogModelResult",
                    f"{n} OK created sql table model m{i} .... [OK]",
                    uid,
                    "success",
                    status="OK",
                    total=TOTAL,
                )
            )
    return lines


@pytest.fixture
def fake_dbt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    replay = tmp_path / "events.jsonl"
    replay.write_text("\n".join(_run_events()) + "\n")
    script = tmp_path / "dbt"
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write(open({str(replay)!r}).read())\nsys.exit(1)\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(build, "dbt_executable", lambda: script)
    return script


def test_build_shows_a_progress_bar_not_a_line_per_node(fake_dbt: Path, tmp_path: Path) -> None:
    out = StringIO()
    settings = Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path)
    result = build.run_dbt_build(settings, console=Console(file=out, width=120))  # not a terminal: the final bar
    text = out.getvalue()
    assert "OK created" not in text  # no line per node
    assert "ERROR creating sql table model m9" in text and "WARN 3 m7" in text  # what went wrong, as it happens
    assert "dbt build" in text and f"{TOTAL}/{TOTAL}" in text, text  # the bar: nodes done of total
    assert len(text.strip().splitlines()) == 3, text
    # the summary and the log path stay
    summary = Console(record=True, width=120)
    summary.print(result.summary())
    report = summary.export_text()
    assert "FAILED" in report and "model m9" in report and f"dbt log: {settings.dbt_log_dir / 'dbt.log'}" in report


def test_the_bar_names_the_node_running() -> None:
    progress = build._BuildProgress(Console(file=StringIO()))
    events = [json.loads(line) for line in _run_events()]
    progress(events[0])  # FoundStats: total not known yet
    assert progress.progress.tasks[0].total is None
    progress(events[1])  # m1 starts
    task = progress.progress.tasks[0]
    assert (task.completed, task.total, task.fields["current"]) == (0, TOTAL, "model m1")
    progress(events[2])  # m1 ends
    progress(events[3])  # m2 starts
    task = progress.progress.tasks[0]
    assert (task.completed, task.fields["current"]) == (1, "model m2")
