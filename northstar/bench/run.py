"""`northstar bench`: the same sessions result by hand-written DuckDB SQL (the baseline), northstar's dbt models,
pandas and polars, on one generated data set, each in its own process; prints time and peak memory as ratios to
the baseline measured in the same run, and whether each result matches the baseline.

Everything happens under a scratch directory (default: <warehouse_dir>/bench, wiped first and removed after), with
its own warehouse file: the user's warehouse is never opened.

Sizes (2 cores, NORTHSTAR_THREADS=2; ratios move between runs on a busy machine, which is why the baseline is
measured in the same run):
- default, `northstar bench` (20,000 visitors x 30 days, ~115k events): ~1.5-2 minutes in all; dbt's time is
  mostly its start-up, parse and tests, so its ratio is large on small data.
- `northstar bench --visitors 200000` (~1.2M events): ~4-5 minutes; SQL 2.3 s, polars 1.9x, pandas 5.9x, dbt 49x
  (models 86 s of node time), peak RSS SQL 311 MB, pandas 2.1x, polars 2.4x, dbt 4.3x.
- longer windows from Python: `run_bench(settings, visitors=200_000, days=90, keep=True)` (keep the data set and
  the per-step logs under the scratch directory).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from northstar.bench.core import macro_event_names, per_day
from northstar.bench.worker import settings_to_json
from northstar.config import PROJECT_DIR, Settings

DEFAULT_DAYS = 30
DEFAULT_START = date(2026, 1, 1)
_MARKER = ".northstar-bench"  # only a directory holding it is ever wiped

# step -> label; the order they run in (load first: the others read raw.events; dbt last: it writes the file).
STEPS = {
    "load": "northstar load (ingest)",
    "sql": "DuckDB SQL (baseline)",
    "pandas": "pandas",
    "polars": "polars",
    "dbt": "northstar dbt build +fct_sessions ¹",
}
COMPARED = ("sql", "dbt", "pandas", "polars")


@dataclass
class StepResult:
    step: str
    wall_s: float | None
    peak_rss_mb: float
    rows: list[tuple[str, str, int, int]] = field(default_factory=list)
    note: str = ""
    error: str | None = None


@dataclass
class BenchReport:
    visitors: int
    days: int
    events: int
    work_dir: Path
    steps: dict[str, StepResult] = field(default_factory=dict)
    kept: bool = False

    @property
    def baseline(self) -> StepResult:
        return self.steps["sql"]

    def matches(self, step: str) -> bool:
        """pandas/polars: identical rows to the baseline. (dbt is compared per day; see `comparison`.)"""
        return self.steps[step].error is None and self.steps[step].rows == self.baseline.rows

    def comparison(self, step: str) -> Text:
        res, base = self.steps[step], self.baseline
        if res.error:
            return Text(f"failed: {res.error.splitlines()[0]}", style="red")
        if base.error:
            return Text("no baseline", style="yellow")
        if step == "sql":
            s, c = _totals(base.rows)
            return Text(f"{s:,} sessions, {c:,} with a macro conversion")
        if step in ("pandas", "polars"):
            if self.matches(step):
                return Text("identical", style="green")
            differ = len(set(res.rows) ^ set(base.rows))
            s, c = _totals(res.rows)
            return Text(f"DIFFERENT: {s:,} sessions, {c:,} macro; {differ} (day, medium) rows differ", style="red")
        # dbt: per day only (its medium is classified differently); report the difference, never hide it.
        mine, theirs = per_day(res.rows), per_day(base.rows)
        s, c = _totals(res.rows)
        bs, bc = _totals(base.rows)
        days_differ = sum(1 for d in set(mine) | set(theirs) if mine.get(d) != theirs.get(d))
        pct = f" ({(s - bs) / bs:+.2%})" if bs else ""
        style = "green" if (s, c, days_differ) == (bs, bc, 0) else "yellow"
        return Text(
            f"sessions Δ {s - bs:+,}{pct}, macro Δ {c - bc:+,}; {days_differ} of {len(theirs)} days differ", style=style
        )


def _totals(rows: list[tuple[str, str, int, int]]) -> tuple[int, int]:
    return sum(r[2] for r in rows), sum(r[3] for r in rows)


def _prepare_work_dir(work_dir: Path) -> None:
    from northstar.cli import UserError

    if work_dir.exists() and any(work_dir.iterdir()):
        if not (work_dir / _MARKER).exists():
            raise UserError(f"{work_dir} exists and is not a northstar bench directory; remove it or pick another")
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / _MARKER).write_text("scratch space of `northstar bench`; deleted on the next run\n", encoding="utf-8")


def _run_worker(step: str, settings: Settings, macro_events: list[str], work_dir: Path) -> StepResult:
    """Run one step in a fresh interpreter; its peak RSS (with its children, e.g. dbt) comes from wait4."""
    spec = {
        "step": step,
        "settings": settings_to_json(settings),
        "macro_events": macro_events,
        "out": str(work_dir / f"{step}.result.json"),
        "log": str(work_dir / f"{step}.dbt.log"),
    }
    spec_path = work_dir / f"{step}.spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    # polars may use as many threads as DuckDB; pandas is single-threaded whatever we do.
    env = {**os.environ, "POLARS_MAX_THREADS": str(settings.threads)}
    log_path = work_dir / f"{step}.worker.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "northstar.bench.worker", str(spec_path)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; tell Popen so it does not wait again
    peak_mb = usage.ru_maxrss / 1024  # Linux: kilobytes
    out_path = Path(spec["out"])
    if not out_path.exists():
        tail = "\n".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-5:])
        return StepResult(step, None, peak_mb, error=f"worker exited with {proc.returncode}: {tail or '(no output)'}")
    out = json.loads(out_path.read_text(encoding="utf-8"))
    rows = [(str(d), str(m), int(s), int(c)) for d, m, s, c in out["rows"]]
    return StepResult(step, out["wall_s"], peak_mb, rows=rows, note=out.get("note", ""), error=out["error"])


def run_bench(
    settings: Settings,
    visitors: int = 20_000,
    console: Console | None = None,
    days: int = DEFAULT_DAYS,
    seed: int = 7,
    work_dir: Path | None = None,
    keep: bool = False,
) -> BenchReport:
    """Generate one data set, run every step in its own process, print the table; returns the numbers."""
    from northstar.cli import UserError
    from northstar.sample.generate import generate

    console = console or Console()
    if visitors < 1:
        raise UserError("--visitors must be at least 1")
    work_dir = Path(work_dir or settings.warehouse_dir / "bench").resolve()
    _prepare_work_dir(work_dir)
    bench_settings = replace(settings, warehouse_dir=work_dir / "warehouse", landing_dir=work_dir / "landing")
    macro_events = macro_event_names()
    try:
        with Progress(
            TextColumn("[bold]bench[/bold]"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(f"generating {visitors:,} visitors × {days} days", total=len(STEPS) + 1)
            gen = generate(
                bench_settings.landing_dir, days=days, start=DEFAULT_START, visitors=visitors, seed=seed, progress=False
            )
            report = BenchReport(visitors, days, gen.rows.get("events", 0), work_dir, kept=keep)
            bar.advance(task)
            for step, label in STEPS.items():
                bar.update(task, description=label)
                report.steps[step] = _run_worker(step, bench_settings, macro_events, work_dir)
                bar.advance(task)
                if step == "load" and report.steps[step].error:
                    break  # nothing to measure without raw.events
        console.print(render(report, gen_seconds=gen.seconds))
    finally:
        if not keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    return report


def _fmt_ratio(value: float | None, base: float | None) -> str:
    if value is None or not base:
        return "–"
    return f"{value / base:.2f}×"


def render(report: BenchReport, gen_seconds: float = 0.0) -> Group:
    """The bench table: wall time and peak RSS, each with its ratio to the SQL baseline, and the result check."""
    table = Table(
        title=f"northstar bench: {report.visitors:,} visitors × {report.days} days = {report.events:,} events",
        title_justify="left",
    )
    table.add_column("implementation")
    table.add_column("wall s", justify="right")
    table.add_column("× baseline", justify="right")
    table.add_column("peak RSS MB", justify="right")
    table.add_column("× baseline", justify="right")
    table.add_column("result vs baseline")
    base = report.steps.get("sql")
    for step in COMPARED:
        res = report.steps.get(step)
        if res is None:
            table.add_row(STEPS[step], "–", "–", "–", "–", Text("not run (load failed)", style="red"))
            continue
        table.add_row(
            STEPS[step],
            f"{res.wall_s:.2f}" if res.wall_s is not None else "–",
            _fmt_ratio(res.wall_s, base.wall_s if base else None),
            f"{res.peak_rss_mb:,.0f}",
            _fmt_ratio(res.peak_rss_mb, base.peak_rss_mb if base else None),
            report.comparison(step),
        )
    load = report.steps.get("load")
    if load is not None:
        table.add_section()
        table.add_row(
            STEPS["load"],
            f"{load.wall_s:.2f}" if load.wall_s is not None else "–",
            "",
            f"{load.peak_rss_mb:,.0f}",
            "",
            Text(f"failed: {load.error}", style="red") if load.error else Text(load.note + " (not the same task)"),
        )
    notes = Text(
        "Result: sessions (one anonymous_id, no gap > the session timeout; a gap of exactly the timeout stays) and "
        "sessions with a macro-conversion event, per start day and medium of the first event; pandas and polars must "
        "equal the baseline row for row.\n"
        "Wall s: the work inside the process (reading raw.events from the warehouse and computing), imports "
        "excluded; for dbt the whole dbt subprocess. Peak RSS: ru_maxrss of the process and its children (the "
        "Python interpreter and libraries included). DuckDB and polars use NORTHSTAR_THREADS threads; pandas one.\n"
        "¹ dbt runs what `northstar build --select +fct_sessions` runs: seeds, staging, identity stitching, channel "
        "rules, campaigns, fct_sessions and their tests and unit tests, plus dbt's own start-up and parse (seconds "
        "even on tiny data). It is compared per day only: its sessions follow the source session_id when events carry "
        "one and its medium comes from parsed page_url tags and referrers, so its counts may differ from the "
        "baseline; the difference is shown, not hidden.\n"
        f"Data generated in {gen_seconds:.1f}s under {report.work_dir} "
        f"({'kept' if report.kept else 'removed after the run'})."
    )
    dbt = report.steps.get("dbt")
    if dbt is not None and dbt.note:
        notes.append(f"\ndbt: {dbt.note}.")
    errors = [Text(f"{STEPS[s]}: {r.error}", style="red") for s, r in report.steps.items() if r.error]
    return Group(table, Text(""), notes, *errors)
