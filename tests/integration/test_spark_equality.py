"""The same dbt project on Spark gives the same marts as on DuckDB, mart by mart (issue 14, docs/scale.md).

Generated data: 3,000 visitors x 60 days (~24,000 events: funnels with the checkout breakage, leads, orders with
refunds and cancellations in three currencies, ad spend, a tracking outage and alerts). It is loaded into DuckDB,
then built twice with `northstar build` (models and seeds; the data tests run in the other suites): on DuckDB and
with `--target spark` on local Spark, which reads raw.* exported from the same DuckDB file and writes each mart
as Parquet. northstar/spark/compare.py then compares every mart: rows, keys, money to the cent, other doubles
and attribution credits (all eight models, the learned markov and shapley included) within 1e-9, everything
else exactly. Both build times are printed.

Needs Java (17) for local Spark; skipped with the reason when there is none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from northstar.config import ATTRIBUTION_MODELS, Settings
from northstar.spark.compare import PROJECT_DIR, compare_marts, project_marts, spark_marts_dir

pytestmark = pytest.mark.spark

VISITORS, DAYS = 3000, 60
NORTHSTAR = Path(sys.executable).parent / "northstar"


@dataclass
class Built:
    settings: Settings
    events: int
    seconds: dict[str, float]
    spark: subprocess.CompletedProcess  # `northstar build --target spark`, checked by its own test


def _build(settings: Settings, *target: str) -> tuple[subprocess.CompletedProcess, float]:
    """`northstar build [--target spark]` on the warehouse, models and seeds only; its wall time."""
    # Local Spark with the default folders under the test's warehouse, whatever the environment points at.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORTHSTAR_SPARK_") and k != "NORTHSTAR_TARGET"}
    env |= {
        "NORTHSTAR_WAREHOUSE_DIR": str(settings.warehouse_dir),
        "NORTHSTAR_LANDING_DIR": str(settings.landing_dir),
        "DBT_EXCLUDE_RESOURCE_TYPES": "test unit_test",
    }
    started = time.perf_counter()
    proc = subprocess.run([str(NORTHSTAR), "build", *target], env=env, capture_output=True, text=True, cwd=PROJECT_DIR)
    return proc, time.perf_counter() - started


def _tail(proc: subprocess.CompletedProcess) -> str:
    return (proc.stdout + proc.stderr)[-6000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Built:
    if shutil.which("java") is None:
        pytest.skip("no java on PATH: building on local Spark needs Java 17")
    from northstar.ingest.load import load_paths
    from northstar.sample.generate import generate

    landing = tmp_path_factory.mktemp("landing")
    generate(landing, days=DAYS, start=date(2026, 1, 1), visitors=VISITORS, seed=7, progress=False)
    settings = Settings(warehouse_dir=tmp_path_factory.mktemp("wh"), landing_dir=landing)
    report = load_paths(settings, [str(landing)], progress=False)
    assert report.errors == []
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        events = con.execute("select count(*) from raw.events").fetchone()[0]

    duck, duck_s = _build(settings)
    assert duck.returncode == 0, f"northstar build failed:\n{_tail(duck)}"
    # A failed Spark build still leaves the marts it built: the comparison below reports the rest by name.
    spark, spark_s = _build(settings, "--target", "spark")
    seconds = {"DuckDB": duck_s, "Spark": spark_s}
    line = ", ".join(f"{engine} {s:.1f} s ({events / s:,.0f} events/s)" for engine, s in seconds.items())
    failed = "" if spark.returncode == 0 else " (the Spark build FAILED)"
    # Shown even under -q and output capture: the closing note and docs/scale.md quote it.
    plugins = request.config.pluginmanager
    with plugins.get_plugin("capturemanager").global_and_fixture_disabled():
        plugins.get_plugin("terminalreporter").write_line(
            f"\nnorthstar build on {events:,} events ({VISITORS:,} visitors x {DAYS} days), models and seeds: "
            f"{line}{failed}"
        )
    return Built(settings, events, seconds, spark)


def test_spark_build_succeeds(built: Built) -> None:
    assert built.spark.returncode == 0, f"northstar build --target spark failed:\n{_tail(built.spark)}"


def _manifest_marts(settings: Settings) -> list[str]:
    """The models of schema marts in the Spark build's manifest."""
    manifest = json.loads((settings.warehouse_dir / "dbt_target_spark" / "manifest.json").read_text())
    return sorted(
        n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    )


def test_every_mart_is_compared_and_has_rows(built: Built) -> None:
    """A new mart cannot be skipped silently: the project's models/marts, the manifest and DuckDB's schema marts
    list the same marts, each with a key test, and each has rows (an empty mart would prove nothing)."""
    project = sorted(project_marts())
    assert project == _manifest_marts(built.settings)
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        assert [t for (t,) in tables] == project
        empty = [m for m in project if con.execute(f"select count(*) from marts.{m}").fetchone()[0] == 0]
    assert empty == []
    assert [m for m, spec in project_marts().items() if spec.key is None] == []


def test_the_demo_features_are_in_the_data(built: Built) -> None:
    """The marts compared hold what the demo shows: funnels, leads, refunds, spend, alerts, recommendations."""
    with duckdb.connect(str(built.settings.warehouse_path), read_only=True) as con:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        assert one("select count(distinct funnel_id) from marts.fct_funnel_daily where open_sessions > 0") >= 1
        assert one("select sum(leads) from marts.fct_kpi_daily") > 0
        assert one("select count(*) from raw.orders where status = 'refunded'") > 0
        assert one("select sum(spend) from marts.fct_kpi_daily") > 0
        assert one("select count(*) from marts.fct_kpi_alerts where kind = 'tracking'") >= 1
        assert one("select count(*) from marts.fct_kpi_alerts where kind = 'business'") >= 1
        assert one("select count(distinct model) from marts.fct_attributed_conversions") == len(ATTRIBUTION_MODELS)
        assert one("select count(distinct model) from marts.fct_attribution_channel_weights") == 2  # learned
        assert one("select count(*) from marts.fct_campaign_performance where recommendation = 'cut'") >= 1


def test_spark_marts_equal_duckdb_marts(built: Built) -> None:
    result = compare_marts(built.settings.warehouse_path, spark_marts_dir(built.settings.warehouse_dir))
    print(result.report())
    assert [m.mart for m in result.marts] == sorted(project_marts())
    assert result.ok, result.report()


def test_spark_time_spine_equals_duckdb(built: Built) -> None:
    """Not a mart (schema semantic, never published), but built on Spark too: generated by a dispatched series."""
    wh = built.settings.warehouse_dir
    roots = [p.parent for p in (wh / "spark").rglob("metricflow_time_spine") if p.is_dir()]
    assert roots, f"Spark wrote no metricflow_time_spine under {wh / 'spark'}"
    result = compare_marts(built.settings.warehouse_path, roots[0], models_dir="models/semantic", schema="semantic")
    assert result.ok, result.report()
