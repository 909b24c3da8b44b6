"""The demo's closing KPI summary (northstar.summary) speaks as `northstar kpis` does (issue 12, problem 10):
months as "February 2026", campaigns by name, with the key only where two campaigns share a name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from northstar.config import Settings
from northstar.serve import fmt
from northstar.serve.sample_marts import build_sample_marts
from northstar.summary import kpi_summary

# A second February campaign named like the sample's google_ads:111 ("Brand search"), and one whose name looks like
# rich markup; both judged (spend > 0, a recommendation).
SECOND_CAMPAIGNS_SQL = """
insert into marts.fct_campaign_performance by name
select * replace ('microsoft_ads:bx-9' as campaign_key, 'scale' as recommendation, 'Add budget.'
    as recommendation_reason)
from marts.fct_campaign_performance where campaign_key = 'google_ads:111' and month = '2026-02-01';
insert into marts.fct_campaign_performance by name
select * replace ('google_ads:333' as campaign_key, 'Q1 [/campaign] sale' as campaign_name, 'cut' as recommendation,
    'CPA above break-even.' as recommendation_reason)
from marts.fct_campaign_performance where campaign_key = 'google_ads:111' and month = '2026-02-01';
"""


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    root: Path = tmp_path_factory.mktemp("summary")
    settings = Settings(warehouse_dir=root, landing_dir=root / "landing")
    build_sample_marts(settings.warehouse_path)
    connection = duckdb.connect(str(settings.warehouse_path))
    yield connection
    connection.close()


def _render(con: duckdb.DuckDBPyConnection, width: int = 120) -> str:
    console = Console(record=True, width=width, force_terminal=True, color_system=None)
    console.print(kpi_summary(con, Settings(warehouse_dir=Path("."), landing_dir=Path("."))))
    return console.export_text()


def test_months_read_as_month_and_year(con: duckdb.DuckDBPyConnection) -> None:
    text = _render(con)
    assert "Headline KPIs, February 2026" in text and "Campaign recommendations, February 2026" in text
    assert "2026-02-01" not in text


def test_campaigns_by_name_with_the_key_where_two_share_a_name(con: duckdb.DuckDBPyConnection) -> None:
    text = _render(con)
    assert "Brand search" in text and "google_ads:111" not in text  # alone with its name: no key
    con.execute(SECOND_CAMPAIGNS_SQL)
    text = _render(con)
    assert "Brand search (google_ads:111)" in text and "Brand search (microsoft_ads:bx-9)" in text
    assert "Q1 [/campaign] sale" in text  # a name is text, never markup
    # cut first, then fix, then scale
    assert text.index("Q1 [/campaign]") < text.index("(google_ads:111)") < text.index("(microsoft_ads:bx-9)")


def test_headline_numbers_read_as_in_the_report_and_stay_whole_at_80_columns(con: duckdb.DuckDBPyConnection) -> None:
    text = _render(con, width=80)
    assert "…" not in text
    actual, target = con.execute(
        "select actual, target from marts.fct_kpi_scorecard where month = '2026-02-01' and scope = 'all'"
        " and kpi = 'revenue'"
    ).fetchone()
    assert fmt.money(actual) in text and fmt.money(target) in text


def test_campaign_labels() -> None:
    assert fmt.campaign_labels([("A", "k1"), ("A", "k2"), (None, "k3"), ("B", "k4")]) == [
        "A (k1)",
        "A (k2)",
        "k3",
        "B",
    ]
    assert fmt.month_label(date(2026, 3, 1)) == "March 2026"
