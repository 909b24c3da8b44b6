"""A tiny `evaluate-alerts` run end to end: 1 seed, 50 days, 2,000 visitors (a control set and one with an incident,
each generated, loaded and built to fct_kpi_alerts). What it checks is the wiring, not the alert rule: the scoring
itself is tested on hand-made rows in tests/unit/test_evaluate_alerts.py."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from northstar.config import Settings
from northstar.evaluate.report import BEGIN, END, markdown_section, render, write_docs
from northstar.evaluate.run import START, run_evaluation
from northstar.sample.scenarios import draw_scenario

pytestmark = pytest.mark.slow


def test_tiny_evaluate_run(tmp_path: Path) -> None:
    settings = Settings(warehouse_dir=tmp_path / "unused", landing_dir=tmp_path / "unused" / "landing")
    out = io.StringIO()
    ev = run_evaluation(
        settings, seeds=1, days=50, visitors=2000, console=Console(file=out, width=120), work_dir=tmp_path / "work"
    )
    assert ev.errors == []
    control, with_incidents = ev.data_sets
    assert (control.kind, with_incidents.kind) == ("control", "incidents")
    assert "[1/2] seed 1 control: no incidents" in out.getvalue()
    assert "[2/2] seed 1 with incidents:" in out.getvalue()
    assert not (tmp_path / "work" / "seed1_control").exists()  # removed once scored (no --keep)

    # the control set: no incident, its alarms over the tested days up to the last day of data
    assert control.results == [] and control.planted == []
    assert control.alarms is not None and "Direct" in control.channels
    last_day = START + timedelta(days=49)
    assert 0 < control.alarms.tested_days <= 22  # the first test needs 4 baseline weeks
    assert all(a.alert_date <= last_day for a in control.alarms.whole)

    # the incident set: the drawn incident, in dates, scored once
    (incident,) = draw_scenario(1, 50).incidents
    (planted,) = with_incidents.planted
    assert planted.kind == incident.kind and planted.size == incident.size
    assert planted.start == date(2026, 1, 1) + timedelta(days=incident.start)
    assert planted.end == planted.start + timedelta(days=incident.days - 1)
    assert 0 < planted.whole_effect <= planted.size
    (result,) = with_incidents.results
    assert result.incident == planted
    assert with_incidents.alarms is not None
    assert with_incidents.alarms.tested_days < control.alarms.tested_days  # the incident's days are explained
    assert all(isinstance(a.alert_date, date) for a in with_incidents.alerts)

    # the tables: printed and written between the markers
    Console(file=io.StringIO(), width=120).print(render(ev))
    section = markdown_section(ev)
    assert "| all | 1 |" in section
    doc = tmp_path / "alerts.md"
    doc.write_text("# Alerts\n", encoding="utf-8")
    write_docs(doc, ev)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Alerts\n") and text.count(BEGIN) == 1 and text.count(END) == 1
    assert section in text
