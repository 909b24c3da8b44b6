"""Every user error of the CLI is one line and a non-zero exit (issue 12, problem 9); `--version` and `-h` exist.

The commands run as a user runs them (a subprocess of the CLI, the warehouse chosen by NORTHSTAR_WAREHOUSE_DIR).
`build --select` runs against a stand-in dbt that answers as dbt 1.11 does: without
`--warn-error-options {"error": ["NoNodesForSelectionCriteria"]}` a selection that matches nothing is a warning and
exit 0, with it an error and exit 2.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from northstar import build, cli, errors
from northstar.config import Settings
from northstar.serve.publish import publish


def _cli(warehouse: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NORTHSTAR_WAREHOUSE_DIR": str(warehouse), "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=cwd,
    )


def _one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def published(sample_marts_settings) -> Path:
    settings = sample_marts_settings("published")
    publish(settings)
    return settings.warehouse_dir


def test_check_on_an_empty_warehouse_dir_is_one_line(tmp_path: Path) -> None:
    _one_line_error(_cli(tmp_path, "check"), "No warehouse at", "northstar load")


def test_docs_on_an_empty_warehouse_dir_is_one_line_and_creates_no_database(tmp_path: Path) -> None:
    _one_line_error(_cli(tmp_path, "docs"), "No warehouse at", "northstar build")
    assert not (tmp_path / "northstar.duckdb").exists()


def test_query_out_refuses_a_missing_directory(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "nonexistent" / "dir" / "x.csv"
    _one_line_error(_cli(published, "query", "select 1 as n", "--out", str(out)), "does not exist")
    assert not (tmp_path / "nonexistent").exists()
    ok = _cli(published, "query", "select 'a' as x", "--out", "x.csv", cwd=tmp_path)  # a bare name: this directory
    assert ok.returncode == 0 and "Wrote 1 row to x.csv" in ok.stdout, ok.stderr
    _one_line_error(_cli(published, "query", "select 1", "--out", str(tmp_path / "x.xlsx")), "write .csv or .parquet")


def test_report_out_refuses_what_it_cannot_write(published: Path, tmp_path: Path) -> None:
    _one_line_error(_cli(published, "report", "--out", str(tmp_path / "r.pdf")), "write .html or .htm", ".pdf")
    assert not (tmp_path / "r.pdf").exists()
    _one_line_error(_cli(published, "report", "--out", str(tmp_path / "no" / "r.html")), "does not exist")
    assert not (tmp_path / "no").exists()


def test_version_and_short_help(tmp_path: Path) -> None:
    from importlib.metadata import version

    proc = _cli(tmp_path, "--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"northstar {version('northstar')}"
    for args in (["-h"], ["kpis", "-h"]):
        proc = _cli(tmp_path, *args)
        assert proc.returncode == 0 and "Usage: northstar" in proc.stdout, proc.stderr
    assert "--by" in proc.stdout


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    _one_line_error(_cli(tmp_path, "kpis", "--bx", "campaign"), "No such option: --bx", "northstar kpis -h")
    _one_line_error(_cli(tmp_path, "nonsense"), "No such command 'nonsense'")
    _one_line_error(_cli(tmp_path, "generate", "--out", str(tmp_path), "--days", "x"), "--days")


def _fake_dbt(tmp_path: Path) -> Path:
    """A dbt that matches no node for any --select, and answers as dbt 1.11 does (events seen from the real one)."""
    script = tmp_path / "dbt"
    script.write_text(
        f"#!{sys.executable}\n"
        + r"""import json, re, sys
args = sys.argv[1:]
spec = args[args.index("--select") + 1]
def event(name, level, msg, **data):
    print(json.dumps({"info": {"name": name, "level": level, "msg": msg}, "data": data}), flush=True)
text = f"The selection criterion '{spec}' does not match any enabled nodes"
event("FoundStats", "info", "Found 38 models, 233 data tests, 6 seeds")
if "--warn-error-options" in args and "NoNodesForSelectionCriteria" in args[args.index("--warn-error-options") + 1]:
    event("MainEncounteredError", "error", "Encountered an error:\nCompilation Error\n  " + text,
          exc="Compilation Error\n  " + text)
    sys.exit(2)
event("NoNodesForSelectionCriteria", "warn", text, spec_raw=spec)
event("NothingToDo", "warn", "Nothing to do. Try checking your model configs and model specification args")
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_build_select_that_matches_nothing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(build, "dbt_executable", lambda: _fake_dbt(tmp_path))
    settings = Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path)
    result = build.run_dbt_build(settings, select=["nonexistent_model"])
    assert not result.success and result.unmatched == ["nonexistent_model"]

    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(tmp_path / "wh"))
    monkeypatch.setattr(sys, "argv", ["northstar", "build", "--select", "nonexistent_model"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: --select nonexistent_model matches no dbt model, seed or test (check the name; `.venv/bin/dbt ls`"
        " lists them)"
    ]


def test_out_check_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(errors.UserError, match=r"not a file without one"):
        errors.check_out(tmp_path / "report", (".html",))
    errors.check_out(tmp_path / "R.HTML", (".html",))  # an existing directory, the extension in any case: fine
