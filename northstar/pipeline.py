"""The daily run and the demo: the same library steps the CLI commands and Dagster call.

load -> build -> check -> publish -> report. A failed step stops the run before publish, so the last good
serving file stays in place and readable; the HTML report is rebuilt from every new serving file, so after a
run it shows the publish in place, and names it.

On the spark target (Settings.target) load stays on DuckDB (the loader's checks, quarantine and manifest); build
exports raw.* to Parquet and runs dbt on Spark; check runs the same suites on the raw tables Spark read and the
marts it wrote (views over its Parquet); publish builds the serving file from that Parquet; report is unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.text import Text

from northstar.config import Settings
from northstar.terminal import make_console


class _Steps:
    """Runs named steps with a header and timing; keeps each step's seconds for one closing timings line."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.monotonic()
        self.seconds: dict[str, float] = {}  # first word of the step name -> seconds

    def run(self, name: str, fn: Callable[[], object]) -> object:
        self.console.rule(Text(name, style="bold"))
        started = time.monotonic()
        try:
            return fn()
        finally:
            took = time.monotonic() - started
            self.seconds[name.split()[0]] = took
            self.console.print(f"{name} took {took:.1f} s", style="dim")

    def timings(self) -> str:
        """Where the time went, e.g. `timings: load 12.3 s · build 80.1 s · total 95.0 s` (total is wall time)."""
        parts = [f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items()]
        return "timings: " + " · ".join([*parts, f"total {time.monotonic() - self.started:.1f} s"])


def parse_day(day: str | None) -> date | None:
    if day is None:
        return None
    try:
        return date.fromisoformat(day)
    except ValueError:
        from northstar.errors import UserError

        raise UserError(f"--date {day!r} is not a date like 2026-03-31") from None


def _last_good_publish(settings: Settings) -> str:
    if settings.serving_path.exists():
        return f"the last good serving file stays in place: {settings.serving_path}"
    return "nothing has been published yet"


def run_pipeline(
    settings: Settings,
    day: str | None = None,
    console: Console | None = None,
    landing_paths: list[str] | None = None,
) -> bool:
    """load -> build -> check -> publish -> report. Returns False (and publishes nothing) when a step before
    publish fails, and False when the report could not be rebuilt after a publish.

    Ends, whatever happened, with one line of per-step times so an operator sees where a morning went.
    """
    console = console or make_console()
    partition_date = parse_day(day)
    paths = landing_paths or [str(settings.landing_dir)]
    if landing_paths is None and not settings.landing_dir.exists():
        console.print(
            Text.assemble(
                (f"No landing directory at {settings.landing_dir}.", "red"),
                " Set NORTHSTAR_LANDING_DIR or run `northstar generate --out <dir>`.",
            )
        )
        return False
    if settings.target == "spark":  # before minutes of loading, not after
        from northstar.spark.metastore import check_spark_can_start

        check_spark_can_start(settings)
    steps = _Steps(console)
    try:
        return _run_steps(settings, steps, paths, partition_date)
    finally:
        console.print(steps.timings(), highlight=False)


def _run_steps(settings: Settings, steps: _Steps, paths: list[str], partition_date: date | None) -> bool:
    from northstar.build import run_dbt_build
    from northstar.errors import UserError
    from northstar.ingest.load import load_paths
    from northstar.quality.check import run_checks
    from northstar.serve.publish import publish
    from northstar.serve.report import write_report

    console = steps.console
    load_report = steps.run("load", lambda: load_paths(settings, paths))
    console.print(load_report.summary_table())
    if load_report.errors:
        # A bad file is reported but the others are loaded; the run goes on with what is valid.
        console.print(f"{len(load_report.errors)} file(s) could not be loaded (see above).", style="yellow")

    engine = "dbt on Spark" if settings.target == "spark" else "dbt"
    build_result = steps.run(f"build ({engine})", lambda: run_dbt_build(settings))
    console.print(build_result.summary(), soft_wrap=True)  # a failed node's message on one line, however long
    if not build_result.success:
        console.print(Text.assemble(("Build failed: not publishing;", "red"), f" {_last_good_publish(settings)}."))
        return False

    def check() -> object:
        if settings.target == "spark":
            console.print(f"reading the raw tables Spark read and the marts it wrote: {settings.marts_db_path}")
        return run_checks(settings, partition_date=partition_date)

    check_report = steps.run("check (Great Expectations)", check)
    console.print(check_report.summary_table())
    if not check_report.success:
        console.print(
            Text.assemble(("Quality checks failed: not publishing;", "red"), f" {_last_good_publish(settings)}.")
        )
        return False

    publish_result = steps.run("publish", lambda: publish(settings))
    console.print(publish_result.summary())
    # Rebuilt from the serving file just swapped in, so the report shows this publish (and says which it is).
    try:
        report_path = steps.run("report", lambda: write_report(settings))
    except UserError as exc:
        console.print(Text.assemble(("Published, but the report could not be rebuilt:", "red"), f" {exc}"))
        return False
    console.print(f"HTML report: {report_path}", highlight=False)
    _print_digest(settings, console, partition_date)
    return True


def _print_digest(settings: Settings, console: Console, day: date | None) -> None:
    """One line: what the alerts of the run's day (--date, else the last day of data) say. Never fails a run."""
    import duckdb

    from northstar.alerts_digest import digest_line, latest_alert_day

    if not settings.serving_path.exists():
        return
    try:
        with duckdb.connect(str(settings.serving_path), read_only=True) as con:
            day = day or latest_alert_day(con)
            line = digest_line(con, day) if day else None
    except duckdb.Error:
        return
    if line:
        console.print(line, highlight=False)


def run_demo(settings: Settings, visitors: int = 30_000, days: int = 90, console: Console | None = None) -> bool:
    """Generate sample data into the landing dir, run the pipeline, write the report, print a summary."""
    from northstar.db import connect_serving, connect_warehouse
    from northstar.ingest.load import raw_summary
    from northstar.sample.generate import generate
    from northstar.summary import kpi_summary

    console = console or make_console()
    steps = _Steps(console)
    landing: Path = settings.landing_dir
    gen = steps.run(
        f"generate sample data ({visitors:,} visitors, {days} days)",
        lambda: generate(landing, days=days, visitors=visitors),
    )
    console.print(gen.summary())

    ok = run_pipeline(settings, console=console)

    with connect_warehouse(settings, read_only=True) as con:
        console.rule(Text("raw layer", style="bold"))
        console.print(raw_summary(con))
    if not ok:
        return False

    report_path = settings.report_dir / "index.html"  # run_pipeline rebuilt it after publish
    with connect_serving(settings) as con:
        console.rule(Text("KPI summary", style="bold"))
        console.print(kpi_summary(con, settings))
    console.rule(Text("where things are", style="bold"))
    console.print(f"warehouse (build file): {settings.warehouse_path}")
    console.print(f"serving file (read-only, BI tools): {settings.serving_path}")
    console.print(f"Parquet exports: {settings.parquet_dir}")
    console.print(Text.assemble("HTML report: ", (str(report_path), "bold")))
    return True
