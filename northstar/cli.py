"""The `northstar` command: thin wrappers over library functions that Dagster calls too."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from northstar.config import load_settings
from northstar.errors import UserError, check_out
from northstar.terminal import make_console

app = typer.Typer(
    help="northstar: marketing analytics from landing files to KPI marts in DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
# Piped output (make demo, CI logs) gets 120 columns instead of rich's 80 so tables stay readable.
console = make_console(width=None if sys.stdout.isatty() else 120)
err_console = make_console(stderr=True)


def _settings(writes: bool = True, target: str | None = None):
    """Settings checked up front (a ConfigError is a UserError: one line, exit 2). Commands that only read the
    serving file pass writes=False: they work in a warehouse dir they cannot write. `target`: --target, which
    overrides NORTHSTAR_TARGET."""
    return load_settings(writes=writes, target=target)


TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target",
        help="Engine dbt builds on: duckdb or spark (local Spark, Java 17; docs/scale.md). Default NORTHSTAR_TARGET,"
        " else duckdb.",
    ),
]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"northstar {version('northstar')}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """northstar: marketing analytics from landing files to KPI marts in DuckDB."""


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Directory to write landing files into.")],
    days: Annotated[int, typer.Option(help="Number of days of data.")] = 90,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-01-01",
    visitors: Annotated[int, typer.Option(help="Number of distinct visitors.")] = 30_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
    file_format: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv or parquet for events (default: by size).")
    ] = None,
    as_sources: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Write real export formats instead: source names, comma-separated (ga4, segment, google_ads, ...,"
            " shopify, hubspot), or `real` for GA4 + every ad platform + Shopify + HubSpot.",
        ),
    ] = None,
) -> None:
    """Write synthetic landing files (events, ad_spend, orders, leads) plus an incidents manifest."""
    import shutil
    import tempfile

    from northstar.sample.generate import generate as run_generate

    try:
        start_day = date.fromisoformat(start)
    except ValueError:
        raise UserError(f"--start {start!r} is not a date like 2026-01-01") from None
    if not as_sources:
        result = run_generate(out, days=days, start=start_day, visitors=visitors, seed=seed, file_format=file_format)
        console.print(result.summary())
        return
    from northstar.sample.as_sources import resolve, write_as

    names = [n.strip() for n in as_sources.split(",") if n.strip()]
    resolve(names)  # a bad name fails before minutes of generating
    landing = Path(tempfile.mkdtemp(prefix="northstar-landing-"))
    try:
        result = run_generate(
            landing, days=days, start=start_day, visitors=visitors, seed=seed, file_format=file_format
        )
        console.print(f"generated {sum(result.rows.values()):,} landing rows; writing them as {as_sources} ...")
        written = write_as(_settings(writes=False), landing, out, names)
    finally:
        shutil.rmtree(landing, ignore_errors=True)
    console.print(
        f"wrote {len(written.files)} files into {out} as {', '.join(written.sources)} (+ landing format"
        " for the rest); the demo's deliberate bad rows are left out"
    )


@app.command()
def sources() -> None:
    """List the source adapters `northstar load` knows, with the file shapes each accepts."""
    from northstar.sources import all_sources

    for s in all_sources():
        console.print(Text.assemble((s.name, "bold"), f" -> {s.kind or 'any kind'}: {s.title}"))
        for shape in s.shapes:
            console.print(f"  - {shape}", soft_wrap=True)
    console.print("\n`northstar load PATH` picks the source by content; `--source NAME` forces one.")


@app.command()
def load(
    paths: Annotated[list[str], typer.Argument(help="Files, directories or globs of landing files.")],
    kind: Annotated[
        str | None, typer.Option(help="events, ad_spend, orders or leads (default: from the file name).")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Read the files as this source (see `northstar sources`); default: by content.")
    ] = None,
) -> None:
    """Validate landing files or real exports and load them into raw.*; bad rows go to raw.quarantine. Idempotent."""
    from northstar.ingest.load import load_paths

    report = load_paths(_settings(), paths, kind=kind, source=source)
    console.print(report.summary_table())
    if report.errors:
        raise typer.Exit(1)


@app.command()
def build(
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
    select: Annotated[list[str] | None, typer.Option("--select", "-s", help="dbt selection.")] = None,
    unit_tests: Annotated[
        bool, typer.Option("--unit-tests", help="Also run the dbt unit tests (CI runs them; production does not).")
    ] = False,
    target: TargetOption = None,
) -> None:
    """Run `dbt build` (seeds, models, data tests) with the configured vars."""
    from northstar.build import run_dbt_build

    settings = _settings(target=target)
    result = run_dbt_build(settings, select=select, full_refresh=full_refresh, unit_tests=unit_tests)
    if result.unmatched:
        raise UserError(
            f"--select {' '.join(result.unmatched)} matches no dbt model, seed or test"
            " (check the name; `.venv/bin/dbt ls` lists them)"
        )
    console.print(result.summary(), soft_wrap=True)  # a failed node's message on one line, however long
    if not result.success:
        raise typer.Exit(1)


@app.command()
def check(
    day: Annotated[
        str | None, typer.Option("--date", help="Day to check, YYYY-MM-DD (default: latest complete day).")
    ] = None,
    target: TargetOption = None,
) -> None:
    """Run the Great Expectations suites in expectations/; non-zero exit on a failure."""
    from northstar.pipeline import parse_day
    from northstar.quality.check import check_progress, run_checks

    settings = _settings(target=target)
    with check_progress(console) as progress:  # a bar over the suites on a terminal, nothing when piped
        report = run_checks(settings, partition_date=parse_day(day), progress=progress)
    console.print(report.summary_table(per_expectation=True))
    if report.data_docs_dir is not None:
        console.print(f"Data Docs (open offline): {report.data_docs_dir / 'index.html'}", highlight=False)
    if not report.success:
        raise typer.Exit(1)


@app.command()
def publish(target: TargetOption = None) -> None:
    """Copy the marts into a new serving file and Parquet files, then swap them in atomically."""
    from northstar.serve.publish import publish as run_publish

    result = run_publish(_settings(target=target))
    console.print(result.summary())


@app.command()
def run(
    day: Annotated[str | None, typer.Option("--date", help="The day being processed, YYYY-MM-DD.")] = None,
    target: TargetOption = None,
) -> None:
    """load -> build -> check -> publish -> report: what the daily schedule runs."""
    from northstar.pipeline import run_pipeline

    ok = run_pipeline(_settings(target=target), day=day, console=console)
    if not ok:
        raise typer.Exit(1)


@app.command()
def report(
    out: Annotated[Path | None, typer.Option(help="HTML file to write (default warehouse/report/index.html).")] = None,
) -> None:
    """Write the self-contained HTML KPI report from the serving file."""
    from northstar.serve.report import write_report

    if out is not None:
        check_out(out, (".html", ".htm"))
    path = write_report(_settings(writes=out is None), out=out)
    console.print(Text.assemble("Report written to ", (str(path), "bold")))


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run read-only on the serving file.")],
    out: Annotated[Path | None, typer.Option(help="Write the result to .csv or .parquet instead of printing.")] = None,
) -> None:
    """Run a read-only query on the serving file."""
    from northstar.serve.query import run_query

    run_query(_settings(writes=False), sql, out=out, console=console)


@app.command()
def kpis(
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: latest month).")] = None,
    by: Annotated[str, typer.Option(help="channel or campaign.")] = "channel",
) -> None:
    """The weekly questions: KPIs by channel or campaign for a month, from the serving file."""
    from northstar.serve.query import print_kpis

    print_kpis(_settings(writes=False), month=month, by=by, console=console)


@app.command()
def docs() -> None:
    """Build dbt docs into warehouse/docs/."""
    from northstar.build import build_docs

    settings = _settings()
    if not settings.warehouse_path.exists():  # dbt would create an empty database and document nothing
        raise UserError(f"No warehouse at {settings.warehouse_path}: run `northstar build` (or `make demo`) first.")
    try:
        path = build_docs(settings)
    except RuntimeError as exc:
        raise UserError(" ".join(str(exc).split())) from None
    console.print(Text.assemble("dbt docs written to ", (str(path), "bold")))


@app.command()
def bench(
    size: Annotated[str, typer.Option(help="Visitors: 10k, 100k or 1m (5m only on request), or a number.")] = "10k",
    visitors: Annotated[int | None, typer.Option(help="Visitors, instead of --size.")] = None,
    days: Annotated[int, typer.Option(help="Days loaded and built in full; one more day is built incrementally.")] = 90,
    keep: Annotated[
        bool, typer.Option(help="Keep the generated data, warehouse and step logs (warehouse/bench).")
    ] = False,
    docs: Annotated[bool, typer.Option(help="Write the table into docs/performance.md (section of this size).")] = True,
) -> None:
    """Time load, full and incremental build against hand-written DuckDB SQL, pandas and polars on the same data."""
    from northstar.bench.report import parse_size
    from northstar.bench.run import PERFORMANCE_DOC, run_bench

    try:
        n = visitors if visitors is not None else parse_size(size)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    report = run_bench(
        _settings(), visitors=n, days=days, console=console, keep=keep, docs_path=PERFORMANCE_DOC if docs else None
    )
    if any(r.error for r in report.steps.values()) or not all(report.agrees(s) for s in ("sql", "pandas", "polars")):
        raise typer.Exit(1)


@app.command("evaluate-alerts")
def evaluate_alerts(
    seeds: Annotated[int, typer.Option(help="Seeds: each gives a control data set and one with incidents.")] = 5,
    days: Annotated[int, typer.Option(help="Days per data set.")] = 90,
    visitors: Annotated[int, typer.Option(help="Visitors per data set (the demo's size by default).")] = 30_000,
    keep: Annotated[bool, typer.Option(help="Keep the data sets, warehouses and dbt logs (path printed).")] = False,
    docs: Annotated[bool, typer.Option(help="Write the tables into docs/alerts.md.")] = True,
) -> None:
    """Plant incidents in generated data, build the alerts, print recall and false alarms per 90 days."""
    from datetime import date as _date

    from northstar.config import PROJECT_DIR
    from northstar.evaluate.report import render, write_docs
    from northstar.evaluate.run import run_evaluation

    evaluation = run_evaluation(_settings(), seeds=seeds, days=days, visitors=visitors, console=console, keep=keep)
    console.print(render(evaluation))
    if evaluation.errors:
        raise typer.Exit(1)
    if docs:
        path = PROJECT_DIR / "docs" / "alerts.md"
        write_docs(path, evaluation, measured_on=_date.today())
        console.print(f"Written to {path}.")


@app.command()
def demo(
    visitors: Annotated[int, typer.Option(help="Visitors in the sample data.")] = 30_000,
    days: Annotated[int, typer.Option(help="Days of sample data.")] = 90,
) -> None:
    """Generate sample data and run everything: load, build, check, publish, report."""
    from northstar.pipeline import run_demo

    ok = run_demo(_settings(), visitors=visitors, days=days, console=console)
    if not ok:
        raise typer.Exit(1)


def main() -> None:
    """Run the CLI. A user's error (a bad option, a missing file, a wrong name) is one line and exit code 2."""

    def one_line(message: str) -> None:
        err_console.print(Text.assemble(("error:", "red"), " ", " ".join(message.split())), soft_wrap=True)

    try:
        code = app(standalone_mode=False, prog_name="northstar")
    except typer.TyperException as exc:  # typer's click: unknown command or option, bad value, bare `northstar`
        code = getattr(exc, "exit_code", 2)
        if type(exc).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
            ctx = getattr(exc, "ctx", None)
            one_line(f"{exc.format_message()} (see `{ctx.command_path if ctx else 'northstar'} -h`)")
    except typer.Abort:
        err_console.print("aborted", style="red")
        code = 130
    except UserError as exc:  # ConfigError and WarehouseMissingError are kinds of it
        one_line(str(exc))
        code = 2
    sys.exit(code if isinstance(code, int) else 0)
