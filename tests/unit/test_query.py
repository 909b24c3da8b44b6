"""`northstar query` and `northstar kpis` on a published sample (numbers worked out in sample_marts.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from northstar.config import Settings
from northstar.errors import UserError
from northstar.serve.publish import publish
from northstar.serve.query import MAX_PRINTED_ROWS, print_kpis, run_query


@pytest.fixture(scope="module")
def settings(sample_marts_settings) -> Settings:
    s = sample_marts_settings("query")
    publish(s)
    return s


def _console() -> Console:
    return Console(record=True, width=200)


def test_query_prints_a_table(settings: Settings) -> None:
    console = _console()
    rows = run_query(
        settings, "select channel, sum(spend) as spend from kpi_daily group by 1 order by 1;", console=console
    )
    text = console.export_text()
    assert rows == 3
    assert "Paid Search" in text and "5,900" in text  # 59 days x $100
    assert "3 rows" in text


def test_query_shows_the_first_rows_and_says_how_many_there_are(settings: Settings) -> None:
    console = _console()
    assert run_query(settings, "select * from funnel", console=console) == 1593
    assert f"first {MAX_PRINTED_ROWS} of 1,593 rows" in console.export_text()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_query_writes_csv_or_parquet(settings: Settings, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"kpis{suffix}"
    console = _console()
    assert run_query(settings, "select * from kpi_daily where channel = 'Email'", out=out, console=console) == 59
    reader = "read_csv" if suffix == ".csv" else "read_parquet"
    with duckdb.connect() as con:
        assert con.execute(f"select count(*), sum(revenue) from {reader}('{out}')").fetchone() == (59, 59 * 80.0)
    assert f"Wrote 59 rows to {out}" in console.export_text()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_query_out_counts_the_rows_it_wrote(settings: Settings, tmp_path: Path, suffix: str) -> None:
    """A 1-row all-text result is 1 row (read back with a sniffed header, the CSV's header passed for a row)."""
    console = _console()
    out = tmp_path / f"one{suffix}"
    assert run_query(settings, "select 'a' as x, 'b' as y", out=out, console=console) == 1
    assert f"Wrote 1 row to {out}" in console.export_text()
    assert run_query(settings, "select 'a' as x where false", out=tmp_path / f"none{suffix}", console=console) == 0


def test_query_out_counts_one_row_whose_header_reads_like_its_value(settings: Settings, tmp_path: Path) -> None:
    """Issue 12, 9.3: `select 1` writes a CSV of header "1" and value 1; counted with a sniffed header, 2 rows."""
    console = _console()
    out = tmp_path / "one.csv"
    assert run_query(settings, "select 1", out=out, console=console) == 1
    assert f"Wrote 1 row to {out}" in console.export_text()


def test_query_out_refuses_a_missing_directory_and_creates_nothing(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "nonexistent" / "dir" / "x.csv"
    with pytest.raises(UserError, match=r"the directory .*nonexistent/dir does not exist"):
        run_query(settings, "select 1 as n", out=out, console=_console())
    assert not (tmp_path / "nonexistent").exists()
    with pytest.raises(UserError, match="is a directory"):
        (tmp_path / "d.csv").mkdir()
        run_query(settings, "select 1 as n", out=tmp_path / "d.csv", console=_console())


def test_query_cannot_change_the_serving_file(settings: Settings) -> None:
    for sql in ("create table x as select 1", "delete from marts.fct_kpi_daily", "drop view kpi_daily"):
        with pytest.raises(UserError, match="read-only"):
            run_query(settings, sql, console=_console())
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        assert con.execute("select count(*) from kpi_daily").fetchone()[0] == 177


def test_query_errors_are_one_clear_line(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="query failed: .*no_such_table"):
        run_query(settings, "select * from no_such_table", console=_console())
    with pytest.raises(UserError, match="no SQL given"):
        run_query(settings, "  ; ", console=_console())
    with pytest.raises(UserError, match="write .csv or .parquet"):
        run_query(settings, "select 1", out=tmp_path / "x.xlsx", console=_console())
    missing = Settings(warehouse_dir=tmp_path / "none", landing_dir=tmp_path)
    with pytest.raises(UserError, match="northstar publish"):
        run_query(missing, "select 1", console=_console())


def test_kpis_by_channel_for_january(settings: Settings) -> None:
    console = _console()
    rows = {r["channel"]: r for r in print_kpis(settings, month="2026-01", by="channel", console=console)}
    paid = rows["Paid Search"]
    # 31 days: spend 31 x 100, conversions 31 x 4, CPA 3100 / 124, revenue 31 x 300, ROAS 9300 / 3100
    assert (paid["spend"], paid["conversions"], paid["cpa"], paid["revenue"], paid["roas"]) == (
        3100.0,
        124,
        25.0,
        9300.0,
        3.0,
    )
    assert paid["conversion_rate"] == pytest.approx(4 / 200)
    # last_non_direct credits conversion c1 (Jan 10) fully to Paid Search
    assert (paid["attributed_conversions"], paid["attributed_revenue"]) == (1.0, 100.0)
    total = rows["Total"]
    assert (total["spend"], total["sessions"], total["conversions"], total["revenue"]) == (
        3100.0,
        31 * 350,
        31 * 7,
        31 * 530.0,
    )
    assert total["cpa"] == pytest.approx(3100 / 217)
    text = console.export_text()
    assert "KPIs by channel, January 2026 (USD)" in text
    assert "$3,100" in text and "$25.00" in text and "3.00×" in text


def test_kpis_by_campaign_defaults_to_the_latest_month(settings: Settings) -> None:
    console = _console()
    rows = print_kpis(settings, by="campaign", console=console)
    assert [r["campaign"] for r in rows][0] == "Brand search"  # most spend first
    brand = rows[0]
    # February: 28 days x $100 over 21 x 4 + 7 x 1 = 91 conversions
    assert brand["spend"] == 2800.0 and brand["conversions"] == 91 and brand["recommendation"] == "fix"
    text = console.export_text()
    assert "February 2026" in text and "fix" in text and "conversion rate fell" in text


def test_kpis_rejects_bad_arguments(settings: Settings) -> None:
    with pytest.raises(UserError, match="--month '2026-13'"):
        print_kpis(settings, month="2026-13", console=_console())
    with pytest.raises(UserError, match="--by"):
        print_kpis(settings, by="country", console=_console())
    console = _console()
    assert print_kpis(settings, month="2025-01", console=console) == []
    assert "No data for January 2025" in console.export_text()


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NORTHSTAR_WAREHOUSE_DIR": str(settings.warehouse_dir), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_cli_commands_print_results_and_one_line_errors(settings: Settings) -> None:
    ok = _cli(settings, "kpis", "--month", "2026-01")
    assert ok.returncode == 0, ok.stderr
    assert "KPIs by channel, January 2026" in ok.stdout and "$3,100" in ok.stdout
    ok = _cli(settings, "query", "select count(*) as n from alerts")
    assert ok.returncode == 0 and "3" in ok.stdout
    refused = _cli(settings, "query", "drop table marts.fct_kpi_daily")
    assert refused.returncode == 2
    assert "error: query failed" in refused.stderr and "read-only" in refused.stderr
    assert "Traceback" not in refused.stderr
