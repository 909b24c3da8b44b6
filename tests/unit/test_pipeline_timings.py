"""`northstar run` ends with one line of per-step times, after a success or a failure (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from northstar import build, pipeline
from northstar.config import Settings
from northstar.ingest import load
from northstar.quality import check
from northstar.serve import publish, report

TIME = r"\d+\.\d s"


def _fake_steps(monkeypatch: pytest.MonkeyPatch, build_ok: bool) -> list[str]:
    """Stand-ins for the five steps; returns the list the steps append their names to."""
    ran: list[str] = []

    def step(name: str, **result: object):
        def fn(*args: object, **kwargs: object) -> SimpleNamespace:
            ran.append(name)
            return SimpleNamespace(summary_table=lambda: "", summary=lambda: "", **result)

        return fn

    monkeypatch.setattr(load, "load_paths", step("load", errors=[]))
    monkeypatch.setattr(build, "run_dbt_build", step("build", success=build_ok))
    monkeypatch.setattr(check, "run_checks", step("check", success=True))
    monkeypatch.setattr(publish, "publish", step("publish"))
    monkeypatch.setattr(report, "write_report", step("report"))
    return ran


def _run(tmp_path: Path) -> tuple[bool, str]:
    console = Console(record=True, width=200)
    settings = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path)
    ok = pipeline.run_pipeline(settings, console=console, landing_paths=[str(tmp_path)])
    return ok, console.export_text()


def test_a_successful_run_prints_every_steps_time_and_the_total(tmp_path: Path, monkeypatch) -> None:
    ran = _fake_steps(monkeypatch, build_ok=True)
    ok, text = _run(tmp_path)
    assert ok and ran == ["load", "build", "check", "publish", "report"]
    last = text.strip().splitlines()[-1]
    steps = f"load {TIME} · build {TIME} · check {TIME} · publish {TIME} · report {TIME}"
    assert re.fullmatch(f"timings: {steps} · total {TIME}", last)


def test_a_failed_run_prints_the_steps_that_ran(tmp_path: Path, monkeypatch) -> None:
    ran = _fake_steps(monkeypatch, build_ok=False)
    ok, text = _run(tmp_path)
    assert not ok and ran == ["load", "build"]
    assert re.fullmatch(f"timings: load {TIME} · build {TIME} · total {TIME}", text.strip().splitlines()[-1])


def test_a_step_that_raises_still_gets_its_time(tmp_path: Path, monkeypatch) -> None:
    _fake_steps(monkeypatch, build_ok=True)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish, "publish", broken)
    console = Console(record=True, width=200)
    with pytest.raises(RuntimeError):
        pipeline.run_pipeline(Settings(tmp_path, tmp_path), console=console, landing_paths=[str(tmp_path)])
    last = console.export_text().strip().splitlines()[-1]
    assert re.fullmatch(f"timings: load {TIME} · build {TIME} · check {TIME} · publish {TIME} · total {TIME}", last)
