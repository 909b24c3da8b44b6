"""The daily run's digest line and the alerts `northstar kpis` leads with (northstar/alerts_digest.py)."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from rich.console import Console

from northstar.alerts_digest import alerts_table, digest_line, latest_alert_day

ROWS = [
    # alert_date, kind, kpi, scope, scope_value, change, severity, is_adverse, message
    ("2026-02-25", "business", "orders", "all", "all", -0.35, "warning", True, "orders −35 % over 7 days"),
    ("2026-02-25", "business", "conversion_rate", "all", "all", -0.42, "critical", True, "conversion_rate −42 %"),
    ("2026-02-25", "business", "sessions", "channel", "Email", -0.30, "warning", True, "sessions −30 % in Email"),
    ("2026-02-25", "business", "sessions", "all", "all", 0.21, "info", False, "sessions +21 %"),
    (
        "2026-03-09",
        "tracking",
        "match_rate",
        "all",
        "all",
        -0.97,
        "critical",
        True,
        "sessions −84 % while feed orders are steady (33 against 29.0 on the same weekday before): "
        "tracking loss suspected; match rate 3 % against 100 %",
    ),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "create table alerts (alert_date date, kind varchar, kpi varchar, scope varchar, scope_value varchar, "
        "change double, severity varchar, is_adverse boolean, message varchar)"
    )
    con.executemany("insert into alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?)", ROWS)
    con.execute(
        "create table kpi_daily as select * from (values (date '2026-03-31', 800, 100.0), "
        "(date '2026-04-01', 0, 0.0)) as t (date, sessions, spend)"
    )
    return con


def test_digest_leads_with_declines_of_the_whole_business(con) -> None:
    assert digest_line(con, date(2026, 2, 25)) == (
        "alerts 2026-02-25: 2 declines of the whole business: conversion_rate −42 % (critical), orders −35 % "
        "· 1 in a channel (Email) · 1 rise"
    )


def test_digest_of_a_tracking_loss_and_of_a_quiet_day(con) -> None:
    assert digest_line(con, date(2026, 3, 9)) == (
        "alerts 2026-03-09: tracking loss suspected: sessions −84 % while feed orders are steady "
        "(33 against 29.0 on the same weekday before)"
    )
    assert latest_alert_day(con) == date(2026, 3, 31)  # 04-01 holds no sessions or spend yet
    assert digest_line(con, date(2026, 3, 31)) == (
        "alerts 2026-03-31: none (no KPI moved both a lot and significantly)"
    )
    assert digest_line(duckdb.connect(), date(2026, 3, 31)) is None  # no alerts view: no line, no error


def test_kpis_table_lists_whole_business_declines_first_and_counts_the_rest(con) -> None:
    table = alerts_table(con, date(2026, 2, 1), date(2026, 2, 28))
    console = Console(record=True, width=200)
    console.print(table)
    text = console.export_text()
    assert text.index("conversion_rate") < text.index("orders")  # critical before warning
    assert "+21" not in text  # the rise is counted, not listed
    assert "also 1 declines in a channel and 1 rises" in text
