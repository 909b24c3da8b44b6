"""What the Definitions promise, checked in-process: partitions, schedule, sensor, retries, the warehouse pool,
blocking GX checks and lineage from the ingest assets through dbt to publish and the HTML report."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

dg = pytest.importorskip("dagster")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("defs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NORTHSTAR_WAREHOUSE_DIR", str(base / "wh"))  # where `dbt parse` writes the manifest
        from orchestration import definitions

        yield definitions


def test_assets_lineage_and_partitions(loaded) -> None:
    defs = loaded.defs
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw/events", "raw/ad_spend", "raw/orders", "raw/leads", "serving/marts"} <= keys
    # lineage: dbt's sources are the ingest assets (meta.dagster.asset_key), publish depends on the marts
    staging = graph.get(dg.AssetKey(["staging", "stg_web__events"]))
    assert dg.AssetKey(["raw", "events"]) in staging.parent_keys
    serving = graph.get(dg.AssetKey(["serving", "marts"]))
    assert dg.AssetKey(["marts", "fct_sessions"]) in serving.parent_keys
    partitions = serving.partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.timezone == os.environ.get("NORTHSTAR_REPORTING_TIMEZONE", "UTC")
    assert partitions.get_first_partition_key() == "2026-01-01"


def test_the_report_is_rebuilt_after_every_publish_by_the_scheduled_job(loaded) -> None:
    # issue 12: the report is an asset downstream of publish, in the job the morning schedule runs
    graph = loaded.defs.resolve_asset_graph()
    report_key, serving_key = dg.AssetKey(["serving", "report"]), dg.AssetKey(["serving", "marts"])
    report = graph.get(report_key)
    assert report.parent_keys == {serving_key}
    assert report.partitions_def == graph.get(serving_key).partitions_def
    schedule = loaded.defs.resolve_schedule_def("northstar_daily_schedule")
    job = loaded.defs.resolve_job_def(schedule.job_name)
    assert {report_key, serving_key} <= set(job.asset_layer.executable_asset_keys)


def test_the_report_asset_writes_the_report_of_the_publish_in_place(loaded, tmp_path, monkeypatch) -> None:
    import duckdb

    from northstar.config import load_settings
    from northstar.serve.publish import publish
    from northstar.serve.sample_marts import build_sample_marts
    from orchestration.assets.publish import serving_report
    from orchestration.resources import NorthstarSettings

    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(tmp_path))
    settings = load_settings()
    build_sample_marts(settings.warehouse_path)
    publish(settings)
    result = dg.materialize([serving_report], partition_key="2026-02-28", resources={"northstar": NorthstarSettings()})
    assert result.success
    report = settings.report_dir / "index.html"
    assert report.stat().st_mtime >= settings.serving_path.stat().st_mtime
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        published_at = con.execute("select max(published_at) from northstar_meta").fetchone()[0]
    assert f'data-published-at="{published_at:%Y-%m-%dT%H:%M:%S}"' in report.read_text(encoding="utf-8")
    metadata = result.asset_materializations_for_node(serving_report.op.name)[0].metadata
    assert metadata["published_at"].value == str(published_at) and metadata["data_through"].value == "2026-02-28"


def test_everything_touching_the_warehouse_is_in_one_pool_with_retries(loaded) -> None:
    from orchestration.assets import dbt, ingest, publish
    from orchestration.resources import WAREHOUSE_POOL

    for assets_def in [*ingest.ingest_assets, dbt.northstar_dbt_assets, publish.serving_marts]:
        assert assets_def.op.pool == WAREHOUSE_POOL
        assert assets_def.op.retry_policy is not None and assets_def.op.retry_policy.max_retries == 2
    instance_yaml = (Path(loaded.__file__).parent / "dagster.yaml").read_text()
    assert "default_limit: 1" in instance_yaml


def test_gx_checks_are_blocking_and_dbt_tests_are_checks(loaded) -> None:
    graph = loaded.defs.resolve_asset_graph()
    gx_checks = {k for k in graph.asset_check_keys if k.name.startswith("gx_")}
    names = {k.name for k in gx_checks}
    assert {"gx_raw_events", "gx_raw_load_manifest", "gx_marts_fct_sessions"} <= names
    for key in gx_checks:
        assert graph.get_check_spec(key).blocking, key
    dbt_checks = {k for k in graph.asset_check_keys if not k.name.startswith("gx_")}
    assert any(k.name.startswith("unique_") for k in dbt_checks)


def test_schedule_runs_every_morning_for_the_previous_day(loaded) -> None:
    schedule = loaded.defs.resolve_schedule_def("northstar_daily_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.job_name == "northstar_daily"


def test_sensor_requests_a_run_for_new_or_changed_landing_files(loaded, tmp_path, monkeypatch) -> None:
    from orchestration.sensors import landing_sensor

    monkeypatch.setenv("NORTHSTAR_LANDING_DIR", str(tmp_path))
    (tmp_path / "events_2026-01-03.jsonl").write_text("{}\n")
    (tmp_path / "ad_spend_2026-01-03.csv").write_text("date\n")
    (tmp_path / "orders_2026-01-04.csv").write_text("order_id\n")
    (tmp_path / "notes.txt").write_text("not a landing file")

    first = landing_sensor(dg.build_sensor_context(cursor=None))
    assert sorted(r.partition_key for r in first.run_requests) == ["2026-01-03", "2026-01-04"]

    again = landing_sensor(dg.build_sensor_context(cursor=first.cursor))
    assert again.run_requests == []

    (tmp_path / "orders_2026-01-04.csv").write_text("order_id\no1\n")  # changed size: new data for that day
    changed = landing_sensor(dg.build_sensor_context(cursor=again.cursor))
    assert [r.partition_key for r in changed.run_requests] == ["2026-01-04"]


def test_with_northstar_target_spark_the_dbt_assets_run_dbt_on_the_spark_target(loaded, tmp_path, monkeypatch) -> None:
    # issue 14: by configuration alone. A stand-in dbt records how dagster-dbt calls it (no Spark is started).
    import json
    import stat
    import sys

    from orchestration import resources
    from orchestration.assets.dbt import DBT_PROJECT, northstar_dbt_assets

    record = tmp_path / "dbt_calls.jsonl"
    fake = tmp_path / "dbt"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "if sys.argv[1:] == ['--version']:\n"
        "    print('Core:\\n  - installed: 1.11.16')\n"
        "    sys.exit(0)\n"
        f"open({str(record)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(tmp_path / "wh"))
    monkeypatch.setenv("NORTHSTAR_TARGET", "spark")
    monkeypatch.setattr(resources, "dbt_executable", lambda: str(fake))

    dbt = resources.dbt_resource(DBT_PROJECT)
    assert dbt.target == "spark"
    result = dg.materialize(
        [northstar_dbt_assets],
        partition_key="2026-01-05",
        resources={"dbt": dbt, "northstar": resources.NorthstarSettings()},
    )
    assert result.success
    (args,) = [json.loads(line) for line in record.read_text().splitlines()]
    assert args[0] == "build" and args[args.index("--target") + 1] == "spark"
    assert json.loads(args[args.index("--vars") + 1])["run_date"] == "2026-01-05"
    # the raw tables were exported for Spark before dbt ran, and the marts source was written after it
    assert (tmp_path / "wh" / "spark" / "raw" / "events" / "data.parquet").exists()
    assert (tmp_path / "wh" / "spark" / "northstar_spark.duckdb").exists()
