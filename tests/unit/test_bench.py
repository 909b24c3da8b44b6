"""The bench's three sessionizations agree with counts worked out by hand, and the report compares them honestly."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from northstar.bench.core import IMPLEMENTATIONS, macro_event_names, per_day
from northstar.bench.run import BenchReport, StepResult, render, run_bench
from northstar.config import Settings

MACRO = ["contact_form_submit", "demo_request", "purchase"]

# (anonymous_id, occurred_at, event_id, event_name, utm_medium), deliberately not in time order.
EVENTS = [
    # Device a: 10:30 is exactly 30 min after 10:00 -> same session; 11:00:01 is 30 min 1 s later -> new session,
    # whose medium is its own first event's (none) and which has a purchase.
    ("a", "2026-01-01 11:00:01", "a-3", "purchase", None),
    ("a", "2026-01-01 10:00:00", "a-1", "page_view", "cpc"),
    ("a", "2026-01-01 10:30:00", "a-2", "page_view", None),
    # Device b: one session across midnight (20 min gap); it belongs to the day it starts, macro via demo_request.
    ("b", "2026-01-01 23:50:00", "b-1", "page_view", "email"),
    ("b", "2026-01-02 00:10:00", "b-2", "demo_request", None),
    # Device c: two events at the same instant, ordered by event_id (c-1 first: display); 60 min later a new session.
    ("c", "2026-01-02 09:00:00", "c-2", "page_view", None),
    ("c", "2026-01-02 09:00:00", "c-1", "page_view", "display"),
    ("c", "2026-01-02 10:00:00", "c-3", "add_to_cart", None),
    # Device d: one event, a micro conversion only.
    ("d", "2026-01-02 12:00:00", "d-1", "newsletter_signup", None),
]

# day, medium, sessions, sessions with a macro conversion
EXPECTED = [
    ("2026-01-01", "(none)", 1, 1),  # a's second session (purchase)
    ("2026-01-01", "cpc", 1, 0),  # a's first session (10:00 + 10:30)
    ("2026-01-01", "email", 1, 1),  # b (demo_request after midnight)
    ("2026-01-02", "(none)", 2, 0),  # c's second session, d
    ("2026-01-02", "display", 1, 0),  # c's first session
]


@pytest.fixture()
def events_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw.events (anonymous_id varchar, occurred_at timestamp, event_id varchar, "
        "event_name varchar, utm_medium varchar)"
    )
    con.executemany(
        "insert into raw.events values (?, ?, ?, ?, ?)",
        [(a, datetime.fromisoformat(t), i, n, m) for a, t, i, n, m in EVENTS],
    )
    return con


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
def test_sessionization_matches_hand_counts(events_con: duckdb.DuckDBPyConnection, impl: str) -> None:
    assert IMPLEMENTATIONS[impl](events_con, 30, MACRO) == EXPECTED


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
def test_shorter_timeout_splits_the_exact_30_minute_gap(events_con: duckdb.DuckDBPyConnection, impl: str) -> None:
    # With a 29-minute timeout a's 10:30 event starts its own session (medium (none), no macro); b's 20 min gap holds.
    rows = IMPLEMENTATIONS[impl](events_con, 29, MACRO)
    assert rows[0] == ("2026-01-01", "(none)", 2, 1)
    assert sum(r[2] for r in rows) == 7


def test_macro_events_come_from_the_goal_seed() -> None:
    assert macro_event_names() == MACRO


def test_per_day_sums_media() -> None:
    assert per_day(EXPECTED) == {"2026-01-01": (3, 2), "2026-01-02": (3, 0)}


def _report(dbt_rows: list[tuple[str, str, int, int]], pandas_rows: list[tuple[str, str, int, int]]) -> BenchReport:
    report = BenchReport(visitors=4, days=2, events=len(EVENTS), work_dir=Path("/tmp/x"))
    report.steps["sql"] = StepResult("sql", 1.0, 100.0, rows=EXPECTED)
    report.steps["dbt"] = StepResult("dbt", 20.0, 300.0, rows=dbt_rows)
    report.steps["pandas"] = StepResult("pandas", 2.0, 150.0, rows=pandas_rows)
    report.steps["polars"] = StepResult("polars", 0.5, 120.0, rows=EXPECTED)
    report.steps["load"] = StepResult("load", 3.0, 90.0, note="9 rows loaded")
    return report


def test_report_shows_the_dbt_difference_and_ratios() -> None:
    # dbt has one session fewer on 2026-01-02 (e.g. a source session_id joined two): 5 vs 6 sessions, 1 day differs.
    dbt_rows = [("2026-01-01", "(all)", 3, 2), ("2026-01-02", "(all)", 2, 0)]
    report = _report(dbt_rows, pandas_rows=EXPECTED[:-1])
    assert report.matches("polars") and not report.matches("pandas")
    assert report.comparison("dbt").plain == "sessions Δ -1 (-16.67%), macro Δ +0; 1 of 2 days differ"
    console = Console(record=True, width=220)
    console.print(render(report))
    text = console.export_text()
    assert "20.00×" in text  # dbt wall time over the baseline's 1.0 s
    assert "3.00×" in text  # dbt peak RSS 300 MB over 100 MB
    assert "0.50×" in text  # polars wall time
    assert "DIFFERENT" in text  # pandas lost a row


@pytest.mark.slow
def test_run_bench_on_tiny_data_prints_all_four_rows(tmp_path: Path) -> None:
    settings = Settings(warehouse_dir=tmp_path / "warehouse", landing_dir=tmp_path / "landing")
    console = Console(record=True, width=240)
    report = run_bench(settings, visitors=150, days=2, console=console, work_dir=tmp_path / "bench")
    text = console.export_text()
    for label in ("DuckDB SQL (baseline)", "northstar dbt build +fct_sessions", "pandas", "polars", "northstar load"):
        assert label in text
    assert all(r.error is None for r in report.steps.values()), {s: r.error for s, r in report.steps.items()}
    assert report.matches("pandas") and report.matches("polars")
    assert sum(r[2] for r in report.baseline.rows) > 0
    assert not (tmp_path / "bench").exists()  # scratch space removed; the user's warehouse never created
    assert not settings.warehouse_path.exists()


def test_bench_refuses_a_work_dir_it_did_not_create(tmp_path: Path) -> None:
    from northstar.cli import UserError

    foreign = tmp_path / "not_bench"
    foreign.mkdir()
    (foreign / "precious.duckdb").write_text("keep me", encoding="utf-8")
    settings = Settings(warehouse_dir=tmp_path / "warehouse", landing_dir=tmp_path / "landing")
    with pytest.raises(UserError, match="not a northstar bench directory"):
        run_bench(settings, visitors=10, days=1, console=Console(record=True), work_dir=foreign)
    assert (foreign / "precious.duckdb").read_text(encoding="utf-8") == "keep me"
