"""Run the Great Expectations suites of expectations/ inside DuckDB: `northstar check`, `northstar run`, Dagster.

A suite file is GX's own ExpectationSuite JSON (what `suite.to_json_dict()` writes) plus, in the suite's
`meta.northstar`, the table it validates and `batch_where`, the SQL condition that picks the rows of the day
checked: each check's batch is that day, not the whole table. Expectations with severity "critical" block a
publish; "warning" ones are reported only. Custom checks (volume, freshness, quarantine share, credits per
conversion) are GX `UnexpectedRowsExpectation`s: SQL over `{batch}` (the day's rows) that returns the failing
rows, so everything runs inside DuckDB.

Queries and `batch_where` may use these placeholders, filled in before a run:
  ${run_date}  the day being checked, as a DuckDB date literal (default: the latest day with data)
  ${tz}        the reporting timezone, as a string literal
Under settings.quality_dir (warehouse/quality/, ignored by git): results/ is GX's validation results store (one
JSON per suite and run, filed under the day checked, kept), data_docs/index.html the Data Docs site over all of
them (opens offline), runs/ one summary per check run.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from northstar.config import PROJECT_DIR, Settings
from northstar.db import WarehouseMissingError, connect_warehouse

EXPECTATIONS_DIR = PROJECT_DIR / "expectations"
CHECKPOINTS_DIR = EXPECTATIONS_DIR / "checkpoints"

# progress(done, total, what runs now): suites done of the total, and e.g. "checking raw_events"
ProgressCallback = Callable[[int, int, str], None]


class QualityConfigError(ValueError):
    """A suite or checkpoint file is wrong; the message names the file."""


@dataclass(frozen=True)
class ExpectationOutcome:
    suite: str
    expectation: str  # GX type, e.g. expect_column_values_to_not_be_null
    target: str  # column or description
    success: bool
    blocking: bool
    observed: str = ""
    query: str = field(default="", repr=False, compare=False)  # the rendered SQL of an unexpected_rows check


@dataclass
class SuiteOutcome:
    name: str
    table: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    error: str | None = None  # the suite could not run (e.g. table missing): counts as a blocking failure

    @property
    def success(self) -> bool:
        return self.error is None and all(o.success for o in self.outcomes if o.blocking)


@dataclass
class CheckReport:
    suites: list[SuiteOutcome]
    run_date: date | None
    summary_path: Path | None = None  # runs/<day>_<time>.json: this run's verdict and failures
    data_docs_dir: Path | None = None  # the site: open index.html
    seconds: float = 0.0

    @property
    def success(self) -> bool:
        """True when no blocking (critical) expectation failed and every suite could run."""
        return all(s.success for s in self.suites)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        """Failed blocking expectations, plus one entry per suite that could not run."""
        out: list[ExpectationOutcome] = []
        for s in self.suites:
            if s.error is not None:
                out.append(ExpectationOutcome(s.name, "suite_could_not_run", s.table, False, True, s.error))
            out.extend(o for o in s.outcomes if o.blocking and not o.success)
        return out

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for s in self.suites for o in s.outcomes if not o.blocking and not o.success]

    def failure_text(self) -> str:
        """One line per failure: what the pipeline prints when it stops before publish."""
        return "\n".join(f"{f.suite}: {f.expectation} on {f.target} failed ({f.observed})" for f in self.failures)

    def summary_table(self, per_expectation: bool = False) -> Table:
        """One row per suite with its counts, then a row per failure or warning (every expectation if asked)."""
        day = self.run_date.isoformat() if self.run_date else "-"
        table = Table(title=f"Quality checks for {day}")
        for col in ("suite", "table", "result", "expectation / observed"):
            table.add_column(col)
        for s in self.suites:
            if s.error is not None:
                table.add_row(s.name, s.table, Text("ERROR", style="red"), s.error)
                continue
            passed = sum(o.success for o in s.outcomes)
            verdict = Text("pass", style="green") if s.success else Text("FAIL", style="red")
            table.add_row(s.name, s.table, verdict, f"{passed} of {len(s.outcomes)} expectations pass")
            for o in s.outcomes:
                if o.success and not per_expectation:
                    continue
                if o.success:
                    result = Text("  pass", style="green")
                else:
                    result = Text("  fail", style="red") if o.blocking else Text("  warn", style="yellow")
                table.add_row("", o.target, result, f"{o.expectation}: {o.observed}")
        n_fail = len(self.failures)
        table.caption = f"{len(self.suites)} suites, {n_fail} blocking failures, {len(self.warnings)} warnings"
        return table


def available_suites() -> list[str]:
    """Suite names: the file names (without .json) in expectations/."""
    return sorted(p.stem for p in EXPECTATIONS_DIR.glob("*.json"))


def load_suite_file(name: str) -> dict[str, Any]:
    path = EXPECTATIONS_DIR / f"{name}.json"
    if not path.exists():
        raise QualityConfigError(f"No suite {name!r}: expected {path} (suites: {', '.join(available_suites())})")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise QualityConfigError(f"{path} is not valid JSON: {exc}") from None
    meta = data.get("meta", {}).get("northstar", {})
    if data.get("name") != name or not meta.get("table") or not isinstance(data.get("expectations"), list):
        raise QualityConfigError(f"{path}: needs name={name!r}, meta.northstar.table and an expectations list")
    if "${run_date}" not in str(meta.get("batch_where", "")):
        raise QualityConfigError(
            f"{path}: needs meta.northstar.batch_where, the SQL condition on ${{run_date}} that picks the day's rows"
        )
    for e in data["expectations"]:
        query = e.get("kwargs", {}).get("unexpected_rows_query")
        if query is not None and "{batch}" not in query:
            raise QualityConfigError(
                f"{path}: the unexpected_rows_query of {e.get('description') or e.get('type')!r} must read the "
                "day's rows from {batch} (e.g. `select ... from {batch} where ...`)"
            )
    return data


def load_checkpoint(name: str = "daily") -> list[str]:
    """Suite names of a checkpoint definition, in order."""
    path = CHECKPOINTS_DIR / f"{name}.json"
    if not path.exists():
        raise QualityConfigError(f"No checkpoint {name!r}: expected {path}")
    return list(json.loads(path.read_text())["suites"])


def suite_meta(name: str) -> dict[str, Any]:
    """The northstar block of a suite: table, dagster_asset_key, partitioned."""
    return dict(load_suite_file(name)["meta"]["northstar"])


def _render(text: str, run_date: date, tz: str) -> str:
    tz_literal = "'" + tz.replace("'", "") + "'"
    return text.replace("${run_date}", f"date '{run_date.isoformat()}'").replace("${tz}", tz_literal)


def batch_query(data: dict[str, Any], run_date: date, tz: str) -> str:
    """The SQL of a suite's batch: the rows of its table that belong to the day checked."""
    meta = data["meta"]["northstar"]
    return f"select * from {meta['table']} where {_render(meta['batch_where'], run_date, tz)}"


def _default_run_date(con: Any, tz: str) -> date:
    """The latest day with data: the newest session day once the marts exist, else the newest event day
    (reporting timezone); today when there is nothing.

    Sessions belong to the day they start, so the few events of sessions that ran past the last midnight
    do not make that new, nearly empty day the one checked (it would fail volume and freshness).
    """
    queries = (
        "select max(session_date) from marts.fct_sessions",
        "select cast(timezone(?, timezone('UTC', max(occurred_at))) as date) from raw.events",
    )
    for sql in queries:
        try:
            row = con.execute(sql, [tz] if "?" in sql else []).fetchone()
        except Exception:  # the table does not exist yet
            continue
        if row and row[0]:
            return row[0]
    return datetime.now(UTC).date()


def _existing_tables(con: Any) -> set[str]:
    rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {r[0] for r in rows}


def _observed(result: Any) -> str:
    res = result.result or {}
    info = result.exception_info or {}
    # GX puts the error at the top level or, per failed metric, one level down.
    for item in [info, *[v for v in info.values() if isinstance(v, dict)]]:
        if not result.success and item.get("raised_exception", True) and item.get("exception_message"):
            return "error: " + str(item["exception_message"]).splitlines()[0][:200]
    if result.expectation_config.type == "expect_table_columns_to_match_set":
        missing = ((res.get("details") or {}).get("mismatched") or {}).get("missing") or []
        return "missing: " + ", ".join(missing) if missing else ("all present" if result.success else "")
    for key in ("observed_value", "unexpected_count"):
        if key in res:
            value = res[key]
            if key == "unexpected_count":
                return f"{value} unexpected of {res.get('element_count', '?')}"
            if isinstance(value, list):
                value = ", ".join(map(str, value[:8]))
            return f"{value} rows" if key == "observed_value" and isinstance(value, int) else str(value)[:120]
    return ""


def run_checks(
    settings: Settings,
    suites: list[str] | None = None,
    partition_date: date | None = None,
    progress: ProgressCallback | None = None,
) -> CheckReport:
    """Run suites (default: the `daily` checkpoint) on one day of the warehouse, read-only.

    Results are filed in GX's results store under the day (the run name) next to every earlier run, and the
    Data Docs site is updated, not rebuilt: other suites' and other days' results stay listed.
    """

    names = suites if suites is not None else load_checkpoint("daily")
    suite_files = {n: load_suite_file(n) for n in names}
    if not settings.marts_db_path.exists():
        build = "northstar build --target spark" if settings.target == "spark" else "northstar load"
        raise WarehouseMissingError(f"No warehouse at {settings.marts_db_path}: run `{build}` first.")
    progress = progress or (lambda done, total, current: None)
    progress(0, len(names), "loading Great Expectations")

    tz = settings.reporting_timezone
    if settings.target == "spark":  # views over the Parquet Spark read and wrote (northstar/spark/marts_source.py)
        con = duckdb.connect(str(settings.marts_db_path), read_only=True)
    else:
        con = connect_warehouse(settings, read_only=True)  # waits (bounded) while another process writes
    try:
        run_date = partition_date or _default_run_date(con, tz)
        tables = _existing_tables(con)
        report = CheckReport(suites=[], run_date=run_date)
        runnable: list[tuple[str, dict[str, Any]]] = []
        for name, data in suite_files.items():
            table = data["meta"]["northstar"]["table"]
            outcome = SuiteOutcome(name=name, table=table)
            report.suites.append(outcome)
            if table not in tables:
                outcome.error = f"table {table} is missing: run `northstar load` / `northstar build` first"
                continue
            ready = _preflight(con, outcome, data, run_date, tz)
            if ready:
                runnable.append((name, {**data, "expectations": ready}))
    finally:
        con.close()
    if runnable:  # nothing to validate (e.g. no table built yet): say so without loading GX
        _run_gx(settings, runnable, run_date, report, progress)
    _describe_unexpected_rows(settings, report, {n: batch_query(d, run_date, tz) for n, d in runnable})
    summary = {
        "run_date": run_date.isoformat(),
        "seconds": report.seconds,
        "success": report.success,
        "failures": [{k: v for k, v in f.__dict__.items() if k != "query"} for f in report.failures],
    }
    runs_dir = settings.quality_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    report.summary_path = runs_dir / f"{run_date.isoformat()}_{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}.json"
    report.summary_path.write_text(json.dumps(summary, indent=2))
    return report


@contextmanager
def check_progress(console: Console) -> Iterator[ProgressCallback | None]:
    """A progress bar over the suites (done of total, the suite running) on a terminal; nothing when piped."""
    if not console.is_terminal:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("Great Expectations", total=None)

        def update(done: int, total: int, current: str) -> None:
            bar.update(task, completed=done, total=total, description=current)

        yield update


def _describe_unexpected_rows(settings: Settings, report: CheckReport, batches: dict[str, str]) -> None:
    """GX reports only how many rows a failed SQL check returned; show the first of them, which say why."""
    for suite in report.suites:
        failed = [(i, o) for i, o in enumerate(suite.outcomes) if not o.success and o.query]
        if not failed or suite.name not in batches:
            continue
        con = duckdb.connect(str(settings.marts_db_path), read_only=True)
        try:
            for i, outcome in failed:
                sql = outcome.query.replace("{batch}", f"({batches[suite.name]})")
                try:
                    cur = con.execute(f"select * from ({sql}) as failing limit 3")
                    names = [d[0] for d in cur.description]
                    rows = cur.fetchall()
                except duckdb.Error:
                    continue
                shown = "; ".join(", ".join(f"{n}={v}" for n, v in zip(names, row, strict=True)) for row in rows)
                suite.outcomes[i] = dataclasses.replace(outcome, observed=f"{outcome.observed}: {shown}"[:300])
        finally:
            con.close()


def _preflight(
    con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome, data: dict[str, Any], run_date: date, tz: str
) -> list[dict]:
    """Render the SQL placeholders and drop (as failures) expectations that cannot run.

    An expectation on a missing column or with SQL that does not bind (a missing table) is reported here:
    inside GX one failed query aborts the shared DuckDB transaction and would fail every later expectation.
    """
    table = outcome.table
    batch = batch_query(data, run_date, tz)
    try:
        con.execute(f"explain {batch}")
    except duckdb.Error as exc:
        outcome.error = f"meta.northstar.batch_where does not run on {table}: {str(exc).splitlines()[0][:200]}"
        return []
    schema, _, name = table.partition(".")
    columns = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }
    ready: list[dict] = []
    for raw in data["expectations"]:
        cfg = {**raw, "kwargs": dict(raw.get("kwargs", {}))}
        kwargs = cfg["kwargs"]
        blocking = cfg.get("severity", "critical") == "critical"
        target = kwargs.get("column") or cfg.get("description") or "(table)"
        problem = None
        if "column" in kwargs and kwargs["column"] not in columns:
            problem = f"column {kwargs['column']} is missing from {table}"
        if "unexpected_rows_query" in kwargs:
            kwargs["unexpected_rows_query"] = _render(kwargs["unexpected_rows_query"], run_date, tz)
            sql = kwargs["unexpected_rows_query"].replace("{batch}", f"({batch})")
            try:
                con.execute(f"explain {sql}")
            except duckdb.Error as exc:
                problem = str(exc).splitlines()[0][:200]
        if problem is None:
            ready.append(cfg)
        else:
            outcome.outcomes.append(
                ExpectationOutcome(outcome.name, cfg["type"], str(target), False, blocking, problem)
            )
    return ready


def _run_gx(
    settings: Settings,
    runnable: list[tuple[str, dict[str, Any]]],
    run_date: date,
    report: CheckReport,
    progress: ProgressCallback,
) -> None:
    """Validate each suite's day batch, file the results under the day, update the offline Data Docs."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no network calls at run time
    # GX imports pyspark when it is installed (it is, for the spark target): its pandas-version warning is noise here
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    from northstar.quality import data_docs, gx_duckdb

    gx_duckdb.apply()
    started = time.time()
    docs_dir = settings.quality_dir / "data_docs"
    # Suites, datasources and definitions live in memory (the suite files are the source); the validation
    # results persist, so Data Docs keep every earlier run and do not drop the suites this run skips.
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        data_docs_sites={"northstar": data_docs.site_config(docs_dir)},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),  # our own bar counts suites instead
    )
    config.stores[config.validation_results_store_name]["store_backend"] = {
        "class_name": "TupleFilesystemStoreBackend",
        "base_directory": str(settings.quality_dir / "results"),
    }
    context = gx.get_context(mode="ephemeral", project_config=config)
    # Every suite file is in the store (rendered for this day), so the index keeps listing all of them.
    validated = dict(runnable)
    suites = {}
    for name in available_suites():
        data = validated.get(name) or load_suite_file(name)
        configs = []
        for raw in data["expectations"]:
            kwargs = {
                k: _render(v, run_date, settings.reporting_timezone) if isinstance(v, str) else v
                for k, v in raw.get("kwargs", {}).items()
            }
            configs.append(ExpectationConfiguration(**{**raw, "kwargs": kwargs}))
        suites[name] = context.suites.add(gx.ExpectationSuite(name=name, expectations=configs, meta=data["meta"]))

    datasource = context.data_sources.add_sql(
        name="warehouse",
        connection_string=f"duckdb:///{settings.marts_db_path}",
        kwargs={"connect_args": {"read_only": True}},
    )
    by_name = {s.name: s for s in report.suites}
    total = len(report.suites)
    done = total - len(runnable)  # suites that could not run are done already
    run_id = RunIdentifier(run_name=run_date.isoformat(), run_time=datetime.now(UTC))
    resources: list[Any] = [ExpectationSuiteIdentifier(name) for name in suites]
    try:
        for name, data in runnable:
            progress(done, total, f"checking {name}")
            asset = datasource.add_query_asset(
                name=name, query=batch_query(data, run_date, settings.reporting_timezone)
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=name, data=asset.add_batch_definition_whole_table(f"day {run_date}"), suite=suites[name]
                )
            )
            validation = definition.run(run_id=run_id, result_format="SUMMARY")
            resources.append(ValidationResultIdentifier(ExpectationSuiteIdentifier(name), run_id, validation.batch_id))
            _collect(by_name[name], validation)
            done += 1
        report.seconds = round(time.time() - started, 2)
        progress(total, total, "writing Data Docs")
        context.build_data_docs(site_names=["northstar"], resource_identifiers=resources)
    finally:
        gx_duckdb.close_datasource(datasource)
    data_docs.make_offline(docs_dir, since=started)
    report.data_docs_dir = docs_dir


def _collect(outcome: SuiteOutcome, validation: Any) -> None:
    """One ExpectationOutcome per expectation GX validated for the suite."""
    for r in validation.results:
        cfg = r.expectation_config
        kw = cfg.kwargs
        target = kw.get("column") or cfg.description or ",".join(kw.get("column_list", []) or []) or "(table)"
        outcome.outcomes.append(
            ExpectationOutcome(
                suite=outcome.name,
                expectation=cfg.type,
                target=str(target),
                success=bool(r.success),
                blocking=str(getattr(cfg.severity, "value", cfg.severity) or "critical") == "critical",
                observed=_observed(r),
                query=str(kw.get("unexpected_rows_query") or ""),
            )
        )
