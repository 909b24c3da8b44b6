"""The data sets of `northstar evaluate-alerts`: per seed one control set (no incidents) and one set with incidents.

Each is generated (northstar/sample/scenarios.py replaces the demo's incidents), loaded and built up to
fct_kpi_alerts in its own scratch warehouse, read back and scored (score.py). Data tests are left out of these builds
(DBT_EXCLUDE_RESOURCE_TYPES): they check data, not alerts, and the relationship tests reach marts outside the
selection. Control and incident sets of a seed share the seed, so they differ only where the incidents act.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console

from northstar.config import Settings
from northstar.evaluate.score import (
    AlarmRates,
    Alert,
    FalseAlarms,
    IncidentResult,
    Planted,
    Verdict,
    alarm_rates,
    false_alarms,
    score_incident,
    verdict,
)
from northstar.sample.scenarios import Scenario, draw_scenario
from northstar.terminal import make_console

START = date(2026, 1, 1)
SELECT = "+fct_kpi_alerts"
SHARE_DAYS = 28  # a channel's share of sessions is taken over the 4 weeks before its incident


@dataclass
class DataSet:
    seed: int
    kind: str  # control | incidents
    scenario: Scenario
    seconds: float = 0.0
    alerts: list[Alert] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)
    results: list[IncidentResult] = field(default_factory=list)
    alarms: FalseAlarms | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        return f"seed {self.seed} {'control' if self.kind == 'control' else 'with incidents'}"


@dataclass
class Evaluation:
    seeds: int
    days: int
    visitors: int
    data_sets: list[DataSet] = field(default_factory=list)
    seconds: float = 0.0
    revision: str = "unknown"  # the git commit the models were built from

    @property
    def results(self) -> list[IncidentResult]:
        return [r for ds in self.data_sets for r in ds.results]

    def rates(self, kind: str) -> AlarmRates:
        return alarm_rates([ds.alarms for ds in self.data_sets if ds.kind == kind and ds.alarms is not None])

    def verdict(self) -> Verdict:
        return verdict(self.results, self.rates("control"))

    @property
    def errors(self) -> list[str]:
        return [f"{ds.label}: {ds.error}" for ds in self.data_sets if ds.error]


@contextmanager
def _without_data_tests() -> Iterator[None]:
    """dbt builds of this process skip data tests (northstar.build.exclude_args reads the variable)."""
    old = os.environ.get("DBT_EXCLUDE_RESOURCE_TYPES")
    types = (old or "").split()
    os.environ["DBT_EXCLUDE_RESOURCE_TYPES"] = " ".join([*types, *(t for t in ("test", "unit_test") if t not in types)])
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DBT_EXCLUDE_RESOURCE_TYPES", None)
        else:
            os.environ["DBT_EXCLUDE_RESOURCE_TYPES"] = old


def run_evaluation(
    settings: Settings,
    seeds: int = 5,
    days: int = 90,
    visitors: int = 30_000,
    console: Console | None = None,
    work_dir: Path | None = None,
    keep: bool = False,
) -> Evaluation:
    """Generate, load, build and score 2 × seeds data sets, one line of progress each."""
    from northstar.errors import UserError

    if seeds < 1 or days < 1 or visitors < 1:
        raise UserError("--seeds, --days and --visitors must be at least 1")
    console = console or make_console()
    own_root = work_dir is None
    root = Path(tempfile.mkdtemp(prefix="northstar-evaluate-")) if own_root else Path(work_dir)
    root.mkdir(parents=True, exist_ok=True)
    from northstar.serve.publish import code_revision

    evaluation = Evaluation(seeds, days, visitors, revision=code_revision())
    started = time.monotonic()
    total = 2 * seeds
    try:
        with _without_data_tests():
            for seed in range(1, seeds + 1):
                for kind, scenario in (("control", Scenario()), ("incidents", draw_scenario(seed, days))):
                    ds = DataSet(seed, kind, scenario)
                    evaluation.data_sets.append(ds)
                    n = len(evaluation.data_sets)
                    console.print(f"[{n}/{total}] {ds.label}: {_planned(scenario)}", highlight=False)
                    _run_data_set(settings, ds, root / f"seed{seed}_{kind}", days, visitors)
                    console.print(f"        {_progress_line(ds)}", highlight=False)
                    if not keep:
                        shutil.rmtree(root / f"seed{seed}_{kind}", ignore_errors=True)
    finally:
        evaluation.seconds = time.monotonic() - started
        if keep:
            console.print(f"data sets, warehouses and dbt logs kept in {root}")
        elif own_root:
            shutil.rmtree(root, ignore_errors=True)
    return evaluation


def _planned(scenario: Scenario) -> str:
    if not scenario.incidents:
        return "no incidents"
    return "; ".join(f"{(START + timedelta(days=i.start)):%m-%d} {i.describe()}" for i in scenario.incidents)


def _progress_line(ds: DataSet) -> str:
    if ds.error:
        return f"FAILED after {ds.seconds:.0f} s: {ds.error}"
    adverse = sum(a.is_adverse for a in ds.alerts)
    parts = [f"{len(ds.alerts)} alerts, {adverse} adverse"]
    if ds.results:
        found = sum(r.found for r in ds.results)
        parts.append(f"incidents found within 3 days: {found} of {len(ds.results)}")
    if ds.alarms is not None:
        channel = sum(len(v) for v in ds.alarms.by_channel.values())
        parts.append(f"false alarms: {len(ds.alarms.whole)} whole business, {channel} in channels")
    return "; ".join(parts) + f" ({ds.seconds:.0f} s)"


def _run_data_set(settings: Settings, ds: DataSet, work: Path, days: int, visitors: int) -> None:
    from northstar.build import run_dbt_build
    from northstar.ingest.load import load_paths
    from northstar.sample.generate import generate

    t0 = time.monotonic()
    try:
        landing = work / "landing"
        ds_settings = replace(settings, warehouse_dir=work / "warehouse", landing_dir=landing)
        generate(landing, days=days, start=START, visitors=visitors, seed=ds.seed, scenario=ds.scenario, progress=False)
        load = load_paths(ds_settings, [str(landing)], progress=False)
        if load.errors:
            ds.error = f"load: {load.errors[0]}"
            return
        quiet = make_console(file=io.StringIO())
        build = run_dbt_build(ds_settings, select=[SELECT], console=quiet)
        if not build.success:
            failed = [f"{n.name}: {n.message}" for n in build.failures]
            ds.error = f"build: {(failed or [build.error])[0]} (log {build.log_path})"
            return
        _read_and_score(ds_settings, ds, days)
    finally:
        ds.seconds = time.monotonic() - t0


def _read_and_score(settings: Settings, ds: DataSet, days: int) -> None:
    from northstar.db import connect_warehouse

    last_day = START + timedelta(days=days - 1)
    with connect_warehouse(settings, read_only=True) as con:
        ds.alerts = [
            Alert(*row)
            for row in con.execute(
                """
                select alert_date, kpi, scope, scope_value, kind, is_adverse, suspected_step
                from marts.fct_kpi_alerts
                order by alert_date, scope, scope_value, kpi
                """
            ).fetchall()
        ]
        ds.channels = [
            r[0]
            for r in con.execute(
                "select distinct channel from marts.fct_kpi_daily where channel is not null order by 1"
            ).fetchall()
        ]
        first_tested = _first_tested_day(con) or START + timedelta(days=28)
        ds.planted = [_planted(con, inc) for inc in ds.scenario.incidents]
    ds.results = [score_incident(p, ds.alerts, ds.seed, ds.planted) for p in ds.planted]
    ds.alarms = false_alarms(ds.alerts, ds.channels, first_tested, last_day, ds.planted, ds.seed)


def _first_tested_day(con) -> date | None:
    """The first day any alert test had a p-value (earlier days have no baseline yet)."""
    try:
        row = con.execute(
            "select min(alert_date) from intermediate.int_kpi_alert_tests where p_value is not null"
        ).fetchone()
    except Exception:  # noqa: BLE001 - the intermediate model may be renamed; fall back to 4 weeks in
        return None
    return row[0] if row else None


def _planted(con, inc) -> Planted:
    start = START + timedelta(days=inc.start)
    effect = inc.size
    if inc.kind == "channel":
        row = con.execute(
            """
            select sum(sessions) filter (where channel = ?) / nullif(sum(sessions), 0)
            from marts.fct_kpi_daily
            where date between ? and ?
            """,
            [inc.scope, start - timedelta(days=SHARE_DAYS), start - timedelta(days=1)],
        ).fetchone()
        effect = inc.size * float(row[0] or 0.0)
    return Planted(
        kind=inc.kind,
        scope=inc.scope,
        start=start,
        end=start + timedelta(days=inc.days - 1),
        size=inc.size,
        whole_effect=effect,
        step_name=inc.step_name,
        description=inc.describe(),
    )
