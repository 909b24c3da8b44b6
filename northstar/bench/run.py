"""`northstar bench`: the whole pipeline timed on generated data, against hand-written SQL, pandas and polars.

One data set of `days` + 1 days is generated under a scratch directory (default <warehouse_dir>/bench, wiped first
and removed after) with its own warehouse: the user's warehouse is never opened. Then, each step in a fresh worker
process (its peak RSS from wait4):

1. `northstar load` of the first `days` days;  2. `northstar build --full-refresh`;
3. `northstar load` of the last day;           4. `northstar build` (incremental);
5. `northstar build` once more with nothing new: the part of a daily run that does not depend on the day;
6. the DuckDB SQL baseline, pandas and polars over all raw tables (northstar/bench/baseline.sql, *_impl.py).

After step 5 the marts give the reference result sets (northstar/bench/results.py); every implementation must
equal them. The table (wall time, peak RSS, events/s, ratios to the baseline, agreement per result set) is printed
and, from the CLI, written into docs/performance.md as the section of this size.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from northstar.bench import report as rep
from northstar.bench.results import RESULT_SETS, Diff, Params, Results, compare_all, reference_results
from northstar.bench.worker import IMPLEMENTATIONS, settings_to_json
from northstar.config import PROJECT_DIR, Settings
from northstar.terminal import make_console

DEFAULT_DAYS = 90
DEFAULT_START = date(2026, 1, 1)
PERFORMANCE_DOC = PROJECT_DIR / "docs" / "performance.md"
_MARKER = ".northstar-bench"  # only a directory holding it is ever wiped
_DAY = re.compile(r"_(\d{4}-\d{2}-\d{2})\.")

STEPS = {  # labels; the order the steps run in
    "load": "northstar load ({days} days)",
    "build_full": "northstar build --full-refresh",
    "load_day": "northstar load (+1 day)",
    "build_incremental": "northstar build (+1 day, incremental)",
    "build_noop": "northstar build (no new data)",
    "sql": "DuckDB SQL (baseline)",
    "pandas": "pandas",
    "polars": "polars",
}
DAILY_BUILDS = ("build_incremental", "build_noop")  # the builds a daily run does after the full one


@dataclass
class StepResult:
    step: str
    wall_s: float | None
    peak_rss_mb: float
    events: int = 0  # the events the step handles (for events/s)
    note: str = ""
    error: str | None = None
    results: Results | None = None


@dataclass
class BenchReport:
    visitors: int
    days: int
    work_dir: Path
    events_initial: int = 0
    events_total: int = 0
    gen_seconds: float = 0.0
    steps: dict[str, StepResult] = field(default_factory=dict)
    reference: Results | None = None
    reference_error: str | None = None
    diffs: dict[str, dict[str, Diff]] = field(default_factory=dict)
    kept: bool = False

    def agrees(self, step: str) -> bool:
        """The implementation gave every result set equal to the marts."""
        d = self.diffs.get(step)
        return d is not None and all(x.equal for x in d.values())

    def label(self, step: str) -> str:
        return STEPS[step].format(days=self.days)


def _prepare_work_dir(work_dir: Path) -> None:
    from northstar.errors import UserError

    if work_dir.exists() and any(work_dir.iterdir()):
        if not (work_dir / _MARKER).exists():
            raise UserError(f"{work_dir} exists and is not a northstar bench directory; remove it or pick another")
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / _MARKER).write_text("scratch space of `northstar bench`; deleted on the next run\n", encoding="utf-8")


def split_landing(files: list[Path]) -> tuple[list[str], list[str]]:
    """Landing files of every day but the last, and of the last day (files without a day in the name: neither)."""
    dated = [(m.group(1), str(f)) for f in files if (m := _DAY.search(f.name))]
    last = max((d for d, _ in dated), default=None)
    return sorted(f for d, f in dated if d != last), sorted(f for d, f in dated if d == last)


def _run_worker(step: str, settings: Settings, params: Params, work_dir: Path, paths: list[str]) -> StepResult:
    """Run one step in a fresh interpreter; its peak RSS (with its children, e.g. dbt) comes from wait4."""
    spec = {
        "step": step,
        "settings": settings_to_json(settings),
        "params": params.to_json(),
        "paths": paths,
        "out": str(work_dir / f"{step}.result.json"),
        "log": str(work_dir / f"{step}.dbt.log"),
    }
    spec_path = work_dir / f"{step}.spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "POLARS_MAX_THREADS": str(settings.threads)}  # polars gets DuckDB's thread count
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
    results = out.get("results")
    if results is not None:
        results = {name: [tuple(r) for r in rows] for name, rows in results.items()}
    res = StepResult(step, out["wall_s"], peak_mb, note=out.get("note", ""), error=out["error"], results=results)
    res.events = int(out.get("events_total") or 0)
    return res


def run_bench(
    settings: Settings,
    visitors: int = 10_000,
    console: Console | None = None,
    days: int = DEFAULT_DAYS,
    seed: int = 7,
    work_dir: Path | None = None,
    keep: bool = False,
    docs_path: Path | None = None,
) -> BenchReport:
    """Generate the data, run every step in its own process, compare with the marts, print (and write) the table."""
    from northstar.errors import UserError
    from northstar.sample.generate import generate

    console = console or make_console()
    if visitors < 1 or days < 1:
        raise UserError("--visitors and --days must be at least 1")
    work_dir = Path(work_dir or settings.warehouse_dir / "bench").resolve()
    _prepare_work_dir(work_dir)
    bench_settings = replace(settings, warehouse_dir=work_dir / "warehouse", landing_dir=work_dir / "landing")
    params = Params.from_settings(settings)
    report = BenchReport(visitors, days, work_dir, kept=keep)
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
            task = bar.add_task(f"generating {visitors:,} visitors × {days + 1} days", total=len(STEPS) + 2)
            gen = generate(
                bench_settings.landing_dir,
                days=days + 1,
                start=DEFAULT_START,
                visitors=visitors,
                seed=seed,
                progress=False,
            )
            report.gen_seconds = gen.seconds
            initial, last_day = split_landing(sorted(bench_settings.landing_dir.iterdir()))
            bar.advance(task)
            for step in STEPS:
                bar.update(task, description=report.label(step))
                paths = initial if step == "load" else last_day if step == "load_day" else []
                res = report.steps[step] = _run_worker(step, bench_settings, params, work_dir, paths)
                _count(report, step, res)
                bar.advance(task)
                if step in ("load", "load_day") and res.error:
                    break  # nothing to build or compute without the raw tables
            bar.update(task, description="comparing with the marts")
            _compare(report, bench_settings)
            bar.advance(task)
        console.print(render(report))
        if docs_path is not None:
            rep.write_section(docs_path, visitors, markdown_section(report, settings))
            console.print(f"Written to {docs_path} (section “{rep.section_heading(visitors)[3:]}”).")
    finally:
        if not keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    return report


def _count(report: BenchReport, step: str, res: StepResult) -> None:
    """The events each step handles: loads report the warehouse's total after them."""
    if step == "load":
        report.events_initial = report.events_total = res.events
    elif step == "load_day":
        report.events_total = res.events
        res.events = report.events_total - report.events_initial
    elif step == "build_full":
        res.events = report.events_initial
    elif step == "build_incremental":
        res.events = report.events_total - report.events_initial
    elif step == "build_noop":
        res.events = 0
    else:
        res.events = report.events_total


def _compare(report: BenchReport, settings: Settings) -> None:
    builds = [report.steps.get(step) for step in DAILY_BUILDS]
    if any(build is None or build.error for build in builds):
        report.reference_error = "no marts: the builds did not finish"
        return
    from northstar.db import connect_warehouse

    con = connect_warehouse(settings, read_only=True)
    try:
        report.reference = reference_results(con)
    finally:
        con.close()
    for step in IMPLEMENTATIONS:
        res = report.steps.get(step)
        if res is not None and res.results is not None:
            report.diffs[step] = compare_all(report.reference, res.results)


def _agreement(report: BenchReport, step: str) -> list[tuple[str, str]]:
    """Per result set: (text, style) of the step's agreement with the marts."""
    res = report.steps.get(step)
    if step == "build_incremental" and report.reference is not None:
        return [(f"ref ({len(report.reference[name]):,})", "") for name in RESULT_SETS]
    if step not in IMPLEMENTATIONS or res is None:
        return [("", "")] * len(RESULT_SETS)
    if res.error:
        return [("failed", "red")] * len(RESULT_SETS)
    if step not in report.diffs:
        return [("no ref", "yellow")] * len(RESULT_SETS)
    return [("=", "green") if d.equal else (f"≠ {d.differing:,}", "red") for d in report.diffs[step].values()]


def table_rows(report: BenchReport) -> list[tuple[str, list[str], list[tuple[str, str]]]]:
    """Per step run: the step, its measurement cells and its agreement per result set as (text, style); shared by the
    terminal table and the markdown one."""
    base = report.steps.get("sql")
    base_wall = base.wall_s if base and not base.error else None
    base_rss = base.peak_rss_mb if base and not base.error else None
    rows = []
    for step, res in report.steps.items():
        ok = res.error is None
        cells = [
            report.label(step),
            f"{res.wall_s:.2f}" if ok and res.wall_s is not None else "failed",
            f"{res.peak_rss_mb:,.0f}",
            rep.fmt_rate(res.events, res.wall_s) if ok else "–",
            rep.fmt_ratio(res.wall_s if ok else None, base_wall),
            rep.fmt_ratio(res.peak_rss_mb, base_rss),
        ]
        rows.append((step, cells, _agreement(report, step)))
    return rows


HEADER = ["step", "wall s", "peak RSS MB", "events/s", "× SQL time", "× SQL memory"]


def _agreement_summary(report: BenchReport, step: str, cells: list[tuple[str, str]]) -> tuple[str, str]:
    """The agreement cells in one: 'all 5 equal', 'funnel ≠ 12, kpi_daily ≠ 3', 'reference', 'failed' ..."""
    texts = [t for t, _ in cells]
    if step == "build_incremental" and report.reference is not None:
        return "reference", ""
    if not any(texts):
        return "", ""
    if all(t == "=" for t in texts):
        return f"all {len(texts)} equal", "green"
    if len(set(texts)) == 1:
        return texts[0], cells[0][1]
    return ", ".join(f"{name} {t}" for name, t in zip(RESULT_SETS, texts, strict=True) if t != "="), "red"


def _title(report: BenchReport) -> str:
    return (
        f"northstar bench: {report.visitors:,} visitors × {report.days} days + 1 incremental day = "
        f"{report.events_total:,} events ({report.events_total - report.events_initial:,} on the last day)"
    )


def daily_share(report: BenchReport) -> str | None:
    """The daily builds' wall time as a share of the full build's, e.g. 'northstar build (no new data) took 53% of
    the full build's time'."""
    full = report.steps.get("build_full")
    if full is None or full.error or not full.wall_s:
        return None
    parts = [
        f"{report.label(step)} took {res.wall_s / full.wall_s:.0%} of the full build's time"
        for step in DAILY_BUILDS
        if (res := report.steps.get(step)) is not None and not res.error and res.wall_s is not None
    ]
    return "; ".join(parts) or None


def _details(report: BenchReport) -> list[str]:
    """Differences from the marts (with examples), failures and notes, one line each."""
    lines = [share] if (share := daily_share(report)) else []
    if report.reference_error:
        lines.append(f"Not compared: {report.reference_error}.")
    for step, diffs in report.diffs.items():
        for name, d in diffs.items():
            if not d.equal:
                lines.append(
                    f"{report.label(step)} {name}: {d.differing:,} of {d.reference_rows:,} rows differ "
                    f"({d.missing} only in the marts, {d.extra} only here, {d.changed} with other values)"
                    + "".join(f"; {e}" for e in d.examples)
                )
    for step, res in report.steps.items():
        if res.error:
            lines.append(f"{report.label(step)} failed: {res.error}")
        elif res.note:
            lines.append(f"{report.label(step)}: {res.note}.")
    return lines


def render(report: BenchReport) -> Group:
    """The bench table for the terminal (agreement with the marts in one column)."""
    table = Table(title=_title(report), title_justify="left")
    for i, col in enumerate([*HEADER[:2], "peak MB", *HEADER[3:5], "× SQL mem", "result sets vs marts"]):
        table.add_column(col, justify="right" if 0 < i < 6 else "left", no_wrap=i == 0)
    for step, cells, agreement in table_rows(report):
        if step == "sql":
            table.add_section()
        text, style = _agreement_summary(report, step, agreement)
        table.add_row(*cells, Text(text, style=style) if style else text)
    notes = Text(
        f"Data generated in {report.gen_seconds:.1f}s under {report.work_dir} "
        f"({'kept' if report.kept else 'removed after the run'}). "
        "Wall s: the step's work (imports excluded); peak MB: RSS of the step's process with its children. "
        "events/s: events the step handles per second. × SQL: multiple of the baseline's time or memory. "
        f"Result sets ({', '.join(RESULT_SETS)}) are compared row by row with the marts after the incremental day."
    )
    details = [Text(line, style="red" if "differ" in line or "failed" in line else "") for line in _details(report)]
    return Group(table, Text(""), notes, *details)


def markdown_section(report: BenchReport, settings: Settings) -> str:
    """The section of docs/performance.md for this size: heading, table, machine and notes."""
    rows = [cells + [text for text, _ in agreement] for _, cells, agreement in table_rows(report)]
    machine = "\n".join(f"- {k}: {v}" for k, v in rep.machine_info(settings))
    details = "\n".join(f"- {line}" for line in _details(report))
    return (
        f"{rep.section_heading(report.visitors)}\n\n"
        f"{_title(report)[len('northstar bench: ') :]}; run {datetime.now().strftime('%Y-%m-%d %H:%M')}.\n\n"
        f"{rep.markdown_table([*HEADER, *RESULT_SETS], rows, right=set(range(1, 6)))}\n\n"
        f"Machine:\n\n{machine}\n\n"
        f"Steps:\n\n{details}\n"
    )
