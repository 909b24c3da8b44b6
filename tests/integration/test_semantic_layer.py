"""The dbt semantic layer (models/semantic) answers like the marts: `mf query` equals SQL over fct_kpi_daily.

Generated data: 14 days from 2026-01-25 (two months), 400 visitors; the marts the semantic models read and the
time spine are built (models only: the full build with every test runs in test_dbt_build / CI). Then the
venv's `mf` validates the configs against the warehouse and queries the KPIs by month and by month x channel;
every number must equal Σ numerator / Σ denominator computed from marts.fct_kpi_daily (NULL on a zero
denominator, as the marts' safe_divide), and the multi-touch metrics by month x campaign must equal
fct_campaign_performance (built with the learned attribution model markov); at the mart's own grain every
ratio metric equals the mart's ratio column.
About 50 s on 2 cores.

`mf` reads `<project dir>/target/semantic_manifest.json`, ignoring DBT_TARGET_PATH, so the test runs it from a
small project root under tmp_path (dbt_project.yml and profiles.yml linked, target/ linked to the build's
target dir): nothing is written to the repository's target/. It runs offline (docs/semantic_layer.md).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from northstar.config import PROJECT_DIR, Settings

pytestmark = pytest.mark.slow

START = date(2026, 1, 25)
DAYS = 14
# Every mart a semantic model reads, and the time spine; `+x` builds what x needs.
SELECT = [
    "+fct_kpi_daily",
    "+fct_sessions",
    "+fct_conversions",
    "+dim_campaigns",
    "+dim_channels",
    "+dim_goals",
    "+dim_customers",
    "+fct_attributed_conversions",
    "+fct_campaign_performance",
    "metricflow_time_spine",
]
# `mf` checks PyPI for a newer version on every call (update_checker, no switch to turn it off): a proxy on a
# closed local port makes that request fail at once, so nothing leaves the machine. dbt's tracking is off too.
OFFLINE_ENV = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
}
RATIOS = {  # metric -> (numerator, denominator) columns of fct_kpi_daily, as in MARTS.md
    "roas": ("revenue", "spend"),
    "conversion_rate": ("converting_sessions", "sessions"),
    "engagement_rate": ("engaged_sessions", "sessions"),
    "aov": ("revenue", "orders"),
    "cpa": ("spend", "macro_conversions"),
    "cpl": ("spend", "leads"),
    "ctr": ("clicks", "impressions"),
    "cpc": ("spend", "clicks"),
}
ATTRIBUTION_MODEL = "markov"
SUMS = ["revenue", "spend", "sessions", "orders", "leads", "gross_margin"]


@dataclass(frozen=True)
class Built:
    settings: Settings
    mf_root: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    from northstar.build import run_dbt_build
    from northstar.ingest.load import load_paths
    from northstar.sample.generate import generate

    landing = tmp_path_factory.mktemp("landing")
    generate(landing, days=DAYS, start=START, visitors=400, seed=5, progress=False)
    # a learned attribution model, so the multi-touch metrics check it goes through like the rules (issue 15)
    settings = Settings(
        warehouse_dir=tmp_path_factory.mktemp("wh"), landing_dir=landing, attribution_model=ATTRIBUTION_MODEL
    )
    report = load_paths(settings, [str(landing)], progress=False)
    assert report.errors == []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_INDIRECT_SELECTION", "cautious")
        mp.setenv("DBT_EXCLUDE_RESOURCE_TYPES", "test unit_test")
        result = run_dbt_build(settings, select=SELECT)
    assert result.success, [f"{n.name}: {n.message}" for n in result.failures] or result.error
    assert (settings.dbt_target_dir / "semantic_manifest.json").exists()

    mf_root = tmp_path_factory.mktemp("mf_root")
    for name in ("dbt_project.yml", "profiles.yml"):
        (mf_root / name).symlink_to(PROJECT_DIR / name)
    (mf_root / "target").symlink_to(settings.dbt_target_dir, target_is_directory=True)
    yield Built(settings, mf_root)


def _mf(built: Built, *args: str) -> subprocess.CompletedProcess[str]:
    mf = Path(sys.executable).parent / "mf"
    env = {
        **os.environ,
        **built.settings.dbt_env(),
        **OFFLINE_ENV,
        "DBT_PROJECT_DIR": str(built.mf_root),
        "DBT_PROFILES_DIR": str(built.mf_root),
    }
    return subprocess.run(
        [str(mf), *args], cwd=built.mf_root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _mf_query(built: Built, tmp_path: Path, metrics: list[str], group_by: list[str]) -> list[dict[str, str]]:
    out = tmp_path / "result.csv"
    proc = _mf(built, "query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by), "--csv", str(out))
    assert proc.returncode == 0 and out.exists(), proc.stdout + proc.stderr
    with out.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _marts(built: Built, group_by: str) -> dict[tuple, dict[str, float | None]]:
    """Σ of the additive columns and Σnum / Σden of every ratio from fct_kpi_daily, keyed by (month[, channel])."""
    columns = sorted({*SUMS, *(c for pair in RATIOS.values() for c in pair)})
    sums = ", ".join(f"sum({c}) as {c}" for c in columns)
    sql = f"select {group_by}, {sums} from marts.fct_kpi_daily group by all"
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    out: dict[tuple, dict[str, float | None]] = {}
    for row in rows:
        key = (row["month"].isoformat(), *([row["channel"]] if "channel" in row else []))
        values: dict[str, float | None] = {c: float(row[c]) for c in SUMS}
        for metric, (num, den) in RATIOS.items():
            values[metric] = None if not row[den] else row[num] / row[den]
        values["roi"] = None if not row["spend"] else (row["gross_margin"] - row["spend"]) / row["spend"]
        out[key] = values
    return out


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


def _assert_same(mf_rows: list[dict[str, str]], marts: dict[tuple, dict], key_columns: list[str]) -> None:
    got = {}
    for row in mf_rows:
        key = (row[key_columns[0]][:10], *(row[c] for c in key_columns[1:]))
        got[key] = {m: _number(v) for m, v in row.items() if m not in key_columns}
    assert set(got) == set(marts), (sorted(got), sorted(marts))
    for key, values in got.items():
        for metric, value in values.items():
            expected = marts[key][metric]
            if expected is None:
                assert value is None, (key, metric, value)
            else:
                assert value == pytest.approx(expected, rel=1e-9, abs=1e-9), (key, metric, value, expected)


def test_validate_configs_against_the_warehouse(built: Built) -> None:
    proc = _mf(built, "validate-configs")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Successfully validated metrics against data warehouse" in output, output
    assert "ERRORS: 0" in output and not any(f"ERRORS: {n}" in output for n in range(1, 10)), output


def test_kpis_by_month_equal_the_marts(built: Built, tmp_path: Path) -> None:
    metrics = [*SUMS, *RATIOS, "roi"]
    rows = _mf_query(built, tmp_path, metrics, ["metric_time__month"])
    marts = _marts(built, "cast(date_trunc('month', date) as date) as month")
    assert len(marts) == 2, marts  # the data spans January and February
    _assert_same(rows, marts, ["metric_time__month"])
    # and the months add up to the whole mart
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        revenue, spend = con.execute("select sum(revenue), sum(spend) from marts.fct_kpi_daily").fetchone()
    assert sum(float(r["revenue"]) for r in rows) == pytest.approx(revenue, rel=1e-9)
    assert sum(float(r["spend"]) for r in rows) == pytest.approx(spend, rel=1e-9)
    assert spend > 0 and revenue > 0


def test_ratios_by_month_and_channel_are_sums_over_sums(built: Built, tmp_path: Path) -> None:
    metrics = ["revenue", "spend", "roas", "conversion_rate", "cpa", "roi"]
    rows = _mf_query(built, tmp_path, metrics, ["metric_time__month", "channel"])
    marts = _marts(built, "cast(date_trunc('month', date) as date) as month, channel")
    marts = {k: {m: v[m] for m in metrics} for k, v in marts.items()}
    _assert_same(rows, marts, ["metric_time__month", "channel"])
    # channels without spend (Direct, Organic Search ...) have no ROAS rather than 0 or infinity
    assert any(r["roas"] == "" for r in rows) and any(r["roas"] != "" for r in rows)


def test_visitors_and_cac_by_month(built: Built, tmp_path: Path) -> None:
    """visitors is a distinct count at the query grain; CAC = spend / visitors whose first order is in the month."""
    rows = _mf_query(built, tmp_path, ["visitors", "new_customers", "cac"], ["metric_time__month"])
    got = {r["metric_time__month"][:10]: (int(r["visitors"]), int(r["new_customers"]), _number(r["cac"])) for r in rows}
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            """
            with visitors as (
                select cast(date_trunc('month', session_date) as date) as month, count(distinct visitor_id) as n
                from marts.fct_sessions group by 1
            ),
            customers as (
                select cast(date_trunc('month', first_order_at) as date) as month, count(*) as n
                from marts.dim_customers where first_order_at is not null group by 1
            ),
            spend as (
                select cast(date_trunc('month', date) as date) as month, sum(spend) as spend
                from marts.fct_kpi_daily group by 1
            )
            select visitors.month, visitors.n, customers.n, spend.spend / nullif(customers.n, 0)
            from visitors
            inner join customers on visitors.month = customers.month
            inner join spend on visitors.month = spend.month
            """
        ).fetchall()
    expected = {month.isoformat(): (n_visitors, n_customers, cac) for month, n_visitors, n_customers, cac in rows}
    assert len(expected) == 2 and set(got) == set(expected), (got, expected)
    for month, (n_visitors, n_customers, cac) in expected.items():
        assert got[month][:2] == (n_visitors, n_customers)
        assert got[month][2] == pytest.approx(cac, rel=1e-9)


def test_attributed_metrics_equal_campaign_performance(built: Built, tmp_path: Path) -> None:
    metrics = [
        "spend",
        "attributed_conversions",
        "attributed_revenue",
        "attributed_cpa",
        "attributed_roas",
        "attributed_roi",
    ]
    rows = _mf_query(built, tmp_path, metrics, ["metric_time__month", "campaign"])
    got = {(r["metric_time__month"][:10], r["campaign"]): [_number(r[m]) for m in metrics] for r in rows}
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        expected = {
            (month.isoformat(), key): list(values)
            for month, key, *values in con.execute(
                f"select month, campaign_key, {', '.join(metrics)} from marts.fct_campaign_performance"
            ).fetchall()
        }
    assert set(got) == set(expected), (sorted(got), sorted(expected))
    for key, values in expected.items():
        for metric, want, value in zip(metrics, values, got[key], strict=True):
            if want is None:
                assert value is None, (key, metric, value)
            else:
                assert value == pytest.approx(want, rel=1e-9, abs=1e-9), (key, metric, value, want)
    assert any(v[1] for v in expected.values())  # some campaign got credit
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        models = con.execute("select distinct attribution_model from marts.fct_campaign_performance").fetchall()
    assert models == [(ATTRIBUTION_MODEL,)]


def test_ratios_at_the_mart_grain_equal_the_mart_columns(built: Built, tmp_path: Path) -> None:
    """At fct_kpi_daily's own grain every ratio metric is the mart's ratio column: one formula, two places."""
    metrics = [*RATIOS, "micro_conversion_rate", "cpm", "roi"]
    rows = _mf_query(built, tmp_path, metrics, ["metric_time__day", "channel", "campaign"])
    got = {(r["metric_time__day"][:10], r["channel"], r["campaign"]): [_number(r[m]) for m in metrics] for r in rows}
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        expected = {
            (day.isoformat(), channel, campaign): list(values)
            for day, channel, campaign, *values in con.execute(
                f"select date, channel, campaign_key, {', '.join(metrics)} from marts.fct_kpi_daily"
            ).fetchall()
        }
    assert set(got) == set(expected), (len(got), len(expected))
    for key, values in expected.items():
        for metric, want, value in zip(metrics, values, got[key], strict=True):
            if want is None:
                assert value is None, (key, metric, value)
            else:
                assert value == pytest.approx(want, rel=1e-9, abs=1e-9), (key, metric, value, want)
    assert len(expected) > 100
