"""Seeds the generator owns (fx_rates, kpi_targets) and small helpers, with values written out by hand."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

from northstar.config import PROJECT_DIR
from northstar.sample.fx import fx_rate, write_fx_rates
from northstar.sample.generate import _fmt_ts

SEEDS = PROJECT_DIR / "seeds"


def test_timestamp_styles() -> None:
    ms = int(datetime(2026, 1, 5, 13, 45, 12, tzinfo=UTC).timestamp() * 1000) + 250
    assert _fmt_ts(ms, 0) == "2026-01-05T13:45:12Z"
    assert _fmt_ts(ms, 1) == "2026-01-05T15:45:12+02:00"
    assert _fmt_ts(ms, 2) == "2026-01-05T08:45:12-05:00"
    assert _fmt_ts(ms, 3) == "2026-01-05T14:45:12+01:00"
    assert _fmt_ts(ms, 4) == "2026-01-05T13:45:12"  # naive = UTC
    assert _fmt_ts(ms, 5) == "2026-01-05T13:45:12.250Z"


def test_fx_rate_is_latest_on_or_before() -> None:
    assert fx_rate("USD", date(2026, 2, 3)) == 1.0
    # weekly rows on Mondays: Wednesday uses Monday's rate, the next Monday its own
    assert fx_rate("EUR", date(2026, 1, 7)) == fx_rate("EUR", date(2026, 1, 5))
    assert 1.0 < fx_rate("EUR", date(2026, 1, 5)) < 1.2
    assert 1.15 < fx_rate("GBP", date(2026, 1, 5)) < 1.4


def test_fx_seed_matches_the_generator(tmp_path: Path) -> None:
    # the committed seed is exactly what the generator converts with
    write_fx_rates(tmp_path / "fx.csv")
    assert (tmp_path / "fx.csv").read_text() == (SEEDS / "fx_rates.csv").read_text()
    rows = list(csv.DictReader((SEEDS / "fx_rates.csv").open()))
    assert list(rows[0]) == ["date", "currency", "rate"]
    assert {r["currency"] for r in rows} == {"USD", "EUR", "GBP"}
    assert min(r["date"] for r in rows) <= "2025-12-01" and max(r["date"] for r in rows) >= "2027-12-27"


def test_kpi_targets_columns_and_north_star() -> None:
    rows = list(csv.DictReader((SEEDS / "kpi_targets.csv").open()))
    assert list(rows[0]) == ["kpi", "scope", "scope_value", "month", "target", "direction", "is_north_star"]
    north = [r for r in rows if r["is_north_star"] == "true"]
    assert [(r["kpi"], r["scope"]) for r in north] == [("gross_margin", "all")]
    kpis = {r["kpi"] for r in rows if r["scope"] == "all"}
    assert kpis >= {"conversion_rate", "cpa", "cpl", "roas", "aov", "close_rate", "engagement_rate"}
    assert {r["scope_value"] for r in rows if r["scope"] == "channel"} >= {"Paid Search", "Paid Social"}
    assert all(r["direction"] in ("higher_is_better", "lower_is_better") for r in rows)
    # the overspend campaign's target is break-even CPA: AOV 80 × margin 40 % = 32
    (camp,) = [r for r in rows if r["scope"] == "campaign"]
    assert (camp["scope_value"], float(camp["target"])) == ("tiktok_ads:1790002", 32.0)
