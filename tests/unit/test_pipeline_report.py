"""`northstar run` rebuilds the HTML report after publish, and the report names the publish it shows (issue 12)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from rich.console import Console

from northstar import build, pipeline
from northstar.config import Settings
from northstar.errors import UserError
from northstar.ingest import load
from northstar.quality import check
from northstar.serve import report as report_module
from northstar.serve.publish import publish
from northstar.serve.report import write_report
from northstar.serve.sample_marts import build_sample_marts


def _publish_named(report: Path) -> dict[str, str]:
    """The publish the report says it shows: the data attributes of its header line."""
    tag = re.search(r'<div class="meta" id="publish"[^>]*>', report.read_text(encoding="utf-8"))
    assert tag, "the report does not name the publish it shows"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(0)))


def _fake_steps_before_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    """load, build and check stand in (the marts are the sample ones); publish and report are the real steps."""
    done = SimpleNamespace(errors=[], success=True, summary_table=lambda: "", summary=lambda: "")
    monkeypatch.setattr(load, "load_paths", lambda *a, **k: done)
    monkeypatch.setattr(build, "run_dbt_build", lambda *a, **k: done)
    monkeypatch.setattr(check, "run_checks", lambda *a, **k: done)


def test_run_rebuilds_the_report_after_publish_and_it_names_the_publish(tmp_path: Path, monkeypatch) -> None:
    _fake_steps_before_publish(monkeypatch)
    s = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path, threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)

    # yesterday's report, of yesterday's publish
    publish(s)
    old = write_report(s)
    os.utime(old, (old.stat().st_mtime - 86_400,) * 2)

    console = Console(record=True, width=200)
    assert pipeline.run_pipeline(s, console=console, landing_paths=[str(tmp_path)])
    report = s.report_dir / "index.html"
    assert report.stat().st_mtime >= s.serving_path.stat().st_mtime
    with duckdb.connect(str(s.serving_path), read_only=True) as con:
        published_at, through = con.execute(
            "select max(published_at), max(data_through) from northstar_meta"
        ).fetchone()
    named = _publish_named(report)
    assert named["published-at"] == f"{published_at:%Y-%m-%dT%H:%M:%S}"
    assert named["data-through"] == through.isoformat() == "2026-02-28"
    # ... in words a reader sees too
    assert f"publish of {published_at:%Y-%m-%d %H:%M} UTC" in re.sub(r"<[^>]+>", "", report.read_text(encoding="utf-8"))
    assert f"HTML report: {report}" in console.export_text()


def test_a_report_that_cannot_be_rebuilt_fails_the_run_and_the_publish_stands(tmp_path: Path, monkeypatch) -> None:
    _fake_steps_before_publish(monkeypatch)
    s = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path, threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)

    def broken(settings: Settings, out: Path | None = None) -> Path:
        raise UserError("The serving file lacks what the report needs")

    monkeypatch.setattr(report_module, "write_report", broken)
    console = Console(record=True, width=200)
    assert not pipeline.run_pipeline(s, console=console, landing_paths=[str(tmp_path)])
    assert "Published, but the report could not be rebuilt: The serving file lacks" in console.export_text()
    assert s.serving_path.exists()
