"""dbtcore's marts built incrementally equal a full refresh, row for row; a failing build reports clearly.

Generated data: 7 days, 400 visitors. Warehouse A loads days 1-6, builds, loads day 7 and builds incrementally;
warehouse B loads all 7 days and builds with --full-refresh. Every mart of dbtcore (and the two intermediate
contract tables dbtkpi builds on) must hold the same rows in both. About a minute on 2 cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings

pytestmark = pytest.mark.slow

START = date(2026, 1, 1)
DAYS = 7
# dbtcore's public tables; `+x` also builds (and tests) everything upstream of x.
TABLES = [
    "marts.fct_sessions",
    "marts.fct_conversions",
    "marts.fct_funnel_daily",
    "marts.dim_customers",
    "marts.dim_campaigns",
    "marts.dim_goals",
    "marts.dim_channels",
    "intermediate.int_spend_daily",
    "intermediate.int_leads_lifecycle",
]
SELECT = [f"+{t.split('.')[1]}" for t in TABLES]


def _files_until(landing: Path, last_day: date) -> list[str]:
    """Landing files whose name carries a day <= last_day (events_2026-01-03.jsonl.gz ...)."""
    out = []
    for path in sorted(landing.iterdir()):
        stem = path.name.split(".")[0]
        if "_" not in stem:
            continue
        try:
            day = date.fromisoformat(stem.rsplit("_", 1)[1])
        except ValueError:
            continue
        if day <= last_day:
            out.append(str(path))
    return out


def _build(settings: Settings, full_refresh: bool = False) -> None:
    from northstar.build import run_dbt_build

    result = run_dbt_build(settings, select=SELECT, full_refresh=full_refresh)
    assert result.success, [f"{n.name}: {n.message}" for n in result.failures] or result.error


def _load(settings: Settings, paths: list[str]) -> None:
    from northstar.ingest.load import load_paths

    report = load_paths(settings, paths, progress=False)
    assert report.errors == []


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Settings]]:
    from northstar.sample.generate import generate

    # Only tests whose every parent is selected (dbtkpi's relationship tests to our marts would run unbuilt).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_INDIRECT_SELECTION", "cautious")
        # Data and unit tests run in every other build; here only the models' rows matter (and time).
        mp.setenv("DBT_EXCLUDE_RESOURCE_TYPES", "test unit_test")
        yield _build_both(tmp_path_factory, generate)


def _build_both(tmp_path_factory: pytest.TempPathFactory, generate) -> tuple[Settings, Settings]:
    landing = tmp_path_factory.mktemp("landing")
    generate(landing, days=DAYS, start=START, visitors=400, seed=11, progress=False)
    last = date.fromordinal(START.toordinal() + DAYS - 1)
    before_last = date.fromordinal(last.toordinal() - 1)

    incremental = Settings(warehouse_dir=tmp_path_factory.mktemp("wh_incremental"), landing_dir=landing)
    _load(incremental, _files_until(landing, before_last))
    _build(incremental)
    _load(incremental, _files_until(landing, last))
    _build(incremental)

    full = Settings(warehouse_dir=tmp_path_factory.mktemp("wh_full"), landing_dir=landing)
    _load(full, _files_until(landing, last))
    _build(full, full_refresh=True)
    return incremental, full


def test_incremental_build_equals_full_refresh(warehouses: tuple[Settings, Settings]) -> None:
    incremental, full = warehouses
    con = duckdb.connect()
    con.execute(f"attach '{incremental.warehouse_path}' as inc (read_only)")
    con.execute(f"attach '{full.warehouse_path}' as ful (read_only)")
    for table in TABLES:
        n_inc = con.execute(f"select count(*) from inc.{table}").fetchone()[0]
        n_full = con.execute(f"select count(*) from ful.{table}").fetchone()[0]
        assert n_inc == n_full, f"{table}: {n_inc} rows incrementally, {n_full} after a full refresh"
        only_inc = con.execute(f"select count(*) from (from inc.{table} except all from ful.{table})").fetchone()[0]
        only_full = con.execute(f"select count(*) from (from ful.{table} except all from inc.{table})").fetchone()[0]
        assert (only_inc, only_full) == (0, 0), f"{table}: {only_inc} rows only incremental, {only_full} only full"
    sessions = con.execute("select count(*) from ful.marts.fct_sessions").fetchone()[0]
    days = con.execute("select count(distinct session_date) from ful.marts.fct_sessions").fetchone()[0]
    assert sessions > 100 and days >= DAYS, (sessions, days)


def test_sessions_reconcile_with_conversions(warehouses: tuple[Settings, Settings]) -> None:
    _, full = warehouses
    with duckdb.connect(str(full.warehouse_path), read_only=True) as con:
        by_session = con.execute(
            "select sum(macro_conversions), sum(micro_conversions), sum(orders), round(sum(revenue), 2) "
            "from marts.fct_sessions"
        ).fetchone()
        by_conversion = con.execute(
            "select count(*) filter (where goal_type = 'macro'), count(*) filter (where goal_type = 'micro'), "
            "count(*) filter (where is_order), round(coalesce(sum(revenue), 0), 2) from marts.fct_conversions"
        ).fetchone()
    assert by_session == by_conversion


def test_failed_model_gives_short_message_and_log_path(warehouses: tuple[Settings, Settings]) -> None:
    from northstar.build import run_dbt_build

    incremental, _ = warehouses
    # An impossible timezone (config validation bypassed) makes the timezone conversion fail inside dbt.
    broken = replace(incremental, reporting_timezone="Mars/Olympus_Mons")
    result = run_dbt_build(broken, select=["int_sessions_classified"])
    assert not result.success
    assert [n.name for n in result.failures] == ["int_sessions_classified"]
    assert result.log_path == broken.dbt_log_dir / "dbt.log" and result.log_path.exists()
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(result.summary())
    text = console.export_text()
    assert "FAILED" in text and "int_sessions_classified" in text and str(result.log_path) in text
