"""Nothing in the marts is dated after data_through, and attributed totals agree across every view (issue 12).

Hand-made landing files around two edges, built with dbt and published:
  a1  Paid Search session 2026-01-31 23:58 UTC, purchase 23:59:50 of order o1 (100 USD), which the orders feed
      has at 2026-02-01 00:00:20: the KPI marts count it in February (the order's feed day).
  a2  Paid Social session 2026-02-28 23:55, the last session day (data_through), with a demo request at
      2026-03-01 00:04 (same session, 9 minutes later): a midnight spill-over into a month without data.
  a3  Direct session 2026-02-10 12:00 with the purchase of o2 (50 USD).
  a2  also buys order o3 (30 USD) at 2026-03-01 00:06 in that session; the feed stamps o3 2026-03-01 00:06:10:
      the demo's own spill-over (issue 12: "2026-04-01: 1 conversion, 70.71 USD"). March has no data yet, so o3
      waits: no mart counts it until that day's sessions or spend land.
So February holds 3 attributed conversions and 150 USD of attributed revenue, January and March none, and
data_through is 2026-02-28. Before the fix the attribution view had a March row (the demo request, dated by its
event) and put o1 in January, so `northstar kpis` disagreed with the campaigns view and the scorecard.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings

pytestmark = pytest.mark.slow

HOST = "https://www.northstar-shop.example"
BRAND = "/products/lamp?utm_source=google&utm_medium=cpc&utm_campaign=brand"
SPRING = "/products/tent?utm_source=facebook&utm_medium=paid_social&utm_campaign=spring&fbclid=f1"


def _event(eid: str, at: str, anon: str, name: str, path: str, **extra: object) -> dict[str, object]:
    return {"event_id": eid, "occurred_at": at, "anonymous_id": anon, "event_name": name, "page_url": HOST + path,
            **extra}  # fmt: skip


EVENTS = [
    _event("e1", "2026-01-31T23:58:00Z", "a1", "page_view", BRAND + "&gclid=g1"),
    _event("e2", "2026-01-31T23:59:50Z", "a1", "purchase", "/thank-you", order_id="o1", revenue=100, currency="USD"),
    _event("e3", "2026-02-28T23:55:00Z", "a2", "page_view", SPRING),
    _event("e4", "2026-03-01T00:04:00Z", "a2", "demo_request", "/demo"),
    _event("e7", "2026-03-01T00:06:00Z", "a2", "purchase", "/thank-you", order_id="o3", revenue=30, currency="USD"),
    _event("e5", "2026-02-10T12:00:00Z", "a3", "page_view", "/"),
    _event("e6", "2026-02-10T12:02:00Z", "a3", "purchase", "/thank-you", order_id="o2", revenue=50, currency="USD"),
]
SPEND_HEADER = ["date", "platform", "account_id", "campaign_id", "campaign_name", "adset_name", "ad_name",
                "utm_source", "utm_medium", "utm_campaign", "impressions", "clicks", "spend", "currency"]  # fmt: skip
GOOGLE = ["google_ads", "g-acc", "111", "Brand", "as1", "ad1", "google", "cpc", "brand"]
META = ["meta_ads", "m-acc", "222", "Spring", "as2", "ad2", "facebook", "paid_social", "spring"]
SPEND = [
    ["2026-01-31", *GOOGLE, 1000, 40, "80.00", "USD"],
    ["2026-02-01", *GOOGLE, 1000, 40, "60.00", "USD"],
    ["2026-02-28", *META, 2000, 20, "50.00", "USD"],
]
ORDERS_HEADER = ["order_id", "ordered_at", "user_id", "status", "revenue", "cost_of_goods", "currency"]
ORDERS = [
    ["o1", "2026-02-01T00:00:20Z", "", "completed", "100.00", "60.00", "USD"],
    ["o2", "2026-02-10T12:02:00Z", "", "completed", "50.00", "30.00", "USD"],
    ["o3", "2026-03-01T00:06:10Z", "", "completed", "30.00", "18.00", "USD"],
]
FEBRUARY = date(2026, 2, 1)


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from northstar.build import run_dbt_build
    from northstar.ingest.load import load_paths
    from northstar.serve.publish import publish

    landing = tmp_path_factory.mktemp("landing")
    with (landing / "events_2026-02-28.jsonl").open("w") as f:
        f.writelines(json.dumps(e) + "\n" for e in EVENTS)
    for name, header, rows in (("ad_spend_2026-02-28.csv", SPEND_HEADER, SPEND),
                               ("orders_2026-02-28.csv", ORDERS_HEADER, ORDERS)):  # fmt: skip
        with (landing / name).open("w", newline="") as f:
            csv.writer(f).writerows([header, *rows])
    settings = Settings(warehouse_dir=tmp_path_factory.mktemp("wh"), landing_dir=landing, threads=1)
    assert load_paths(settings, [str(landing)], progress=False).errors == []
    result = run_dbt_build(settings)
    assert result.success, [f"{n.name}: {n.message}" for n in result.failures] or result.error
    published = publish(settings)
    assert published.data_through == date(2026, 2, 28)
    return settings.serving_path


def test_no_mart_row_is_dated_after_data_through(serving: Path) -> None:
    with duckdb.connect(str(serving), read_only=True) as con:
        through = con.execute("select max(data_through) from northstar_meta").fetchone()[0]
        dated = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'DATE' and table_name <> 'northstar_meta' order by all"
        ).fetchall()
        assert ("marts", "fct_conversions", "conversion_date") in dated and ("main", "attribution", "month") in dated
        late = {}
        for schema, table, column in dated:
            last = con.execute(f'select max("{column}") from {schema}.{table}').fetchone()[0]
            if last is not None and last > through:
                late[f"{schema}.{table}.{column}"] = last
        assert late == {}, f"dated after data_through {through}: {late}"
        # the spill-over conversions are there, on their session's day
        assert con.execute(
            "select goal_id, conversion_date, cast(occurred_at as date) from marts.fct_conversions "
            "where goal_id in ('demo_request', 'purchase') and conversion_date = date '2026-02-28' order by 1"
        ).fetchall() == [("demo_request", date(2026, 2, 28), date(2026, 3, 1)),
                         ("purchase", date(2026, 2, 28), date(2026, 3, 1))]  # fmt: skip
        # and o3, which the feed dates 2026-03-01, is in no KPI-dated mart yet: it waits for that day's data
        assert con.execute(
            "select count(*) from marts.fct_attributed_conversions where order_id = 'o3'"
        ).fetchone() == (0,)
        assert con.execute("select sum(orders), sum(revenue) from marts.fct_kpi_daily").fetchone() == (2, 150.0)


def _attributed_by_view(con: duckdb.DuckDBPyConnection) -> dict[str, dict[date, tuple[float, float]]]:
    """(conversions, revenue) credited by the configured model, per month, as each view reports them."""
    from northstar.serve.query import channel_kpis

    model = con.execute("select any_value(attribution_model) from northstar_meta").fetchone()[0]
    views = {
        "attribution view": "select month, sum(conversions), sum(attributed_revenue) from attribution "
        f"where model = '{model}' group by 1",
        "campaigns view": "select month, sum(attributed_conversions), sum(attributed_revenue) from campaigns "
        "group by 1",
        # the scorecard's revenue is attributed revenue; its CPA is spend over attributed conversions
        "scorecard": "select month, max(case when kpi = 'spend' then actual end) / max(case when kpi = 'cpa' then "
        "actual end), max(case when kpi = 'revenue' then actual end) from scorecard where scope = 'all' group by 1",
    }
    totals = {name: {m: (c or 0.0, r or 0.0) for m, c, r in con.execute(sql).fetchall()} for name, sql in views.items()}
    months = sorted(set().union(*totals.values()))
    kpis = {}
    for month in months:  # `northstar kpis --month`: the Total row
        total = next(r for r in channel_kpis(con, month, model) if r["channel"] == "Total")
        kpis[month] = (total["attributed_conversions"] or 0.0, total["attributed_revenue"] or 0.0)
    totals["northstar kpis"] = kpis
    return totals


def test_attributed_totals_agree_across_kpis_campaigns_scorecard_and_attribution(serving: Path) -> None:
    with duckdb.connect(str(serving), read_only=True) as con:
        totals = _attributed_by_view(con)
    for name, by_month in totals.items():
        nonzero = {m: v for m, v in by_month.items() if v != (0.0, 0.0)}
        assert nonzero.keys() == {FEBRUARY}, (name, by_month)
        conversions, revenue = nonzero[FEBRUARY]
        assert conversions == pytest.approx(3.0) and revenue == pytest.approx(150.0), (name, by_month)


def test_mart_descriptions_reach_the_serving_file_as_comments(serving: Path) -> None:
    # dbt's persist_docs writes the models' YAML descriptions; publish copies them (docs/bi.md, BI tools)
    with duckdb.connect(str(serving), read_only=True) as con:
        table = con.execute(
            "select comment from duckdb_tables() where schema_name = 'marts' and table_name = 'fct_conversions'"
        ).fetchone()[0]
        column = con.execute(
            "select comment from duckdb_columns() where schema_name = 'marts' and table_name = 'fct_conversions' "
            "and column_name = 'conversion_date'"
        ).fetchone()[0]
        view_column = con.execute(
            "select comment from duckdb_columns() where schema_name = 'main' and table_name = 'campaigns' "
            "and column_name = 'spend'"
        ).fetchone()[0]
    assert table.startswith("One row per goal conversion"), table
    assert column.startswith("Day of the session the conversion happened in"), column
    assert view_column, "the campaigns view's spend column has no description"
