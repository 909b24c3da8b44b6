"""The dbt project as assets (dagster-dbt): seeds, staging, intermediate and marts; dbt tests become asset checks.

Sources point at the ingest assets through `meta.dagster.asset_key` in models/staging/*/_*__sources.yml, so
lineage runs raw/<kind> -> staging -> intermediate -> marts. Each run passes the partition's day as the dbt var
`run_date` next to the settings' vars (Settings.dbt_vars()). A run covering days older than what the incremental
models already hold (a backfill) rebuilds them with --full-refresh, so backfills of any date range are correct.

With NORTHSTAR_TARGET=spark the same assets build on Spark (orchestration/resources.py passes --target): the raw
tables are exported to Parquet for Spark first, and after the build the marts Spark wrote become the views the
GX checks and publish read, as in `northstar build --target spark`.
"""

import json
import time
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from northstar.build import exclude_args
from northstar.config import Settings
from northstar.db import connect_warehouse
from northstar.ingest.schema import ensure_raw_schema
from northstar.spark.marts_source import write_marts_source
from northstar.spark.metastore import check_spark_can_start
from northstar.spark.raw_export import export_line, export_raw_tables
from orchestration.partitions import daily_partitions, partition_days
from orchestration.resources import (
    TRANSIENT_RETRY,
    WAREHOUSE_POOL,
    NorthstarSettings,
    dbt_project,
    prepare_manifest,
)

DBT_PROJECT = dbt_project()
DBT_MANIFEST = prepare_manifest(DBT_PROJECT)


class NorthstarDbtTranslator(DagsterDbtTranslator):
    """Models and seeds are keyed by <schema>/<name> (marts/fct_kpi_daily), grouped by schema."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props.get("schema") or "main"
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dbt_resource_props.get("config", {}).get("schema") or "dbt"
        return super().get_group_name(dbt_resource_props)


TRANSLATOR = NorthstarDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def dbt_vars(settings: Settings, days: list[date]) -> dict[str, object]:
    """The vars of one run: the configured settings plus the partition's day (the last day of a range)."""
    run_vars: dict[str, object] = dict(settings.dbt_vars())
    if days:
        run_vars["run_date"] = days[-1].isoformat()
    return run_vars


def needs_full_refresh(settings: Settings, days: list[date]) -> bool:
    """True when the run's first day is older than the incremental models' lookback window already built."""
    if not days or not settings.warehouse_path.exists() or settings.target == "spark":
        return False  # on Spark the session-keyed models are rebuilt whole anyway (macros/spark.sql)
    import duckdb

    try:
        con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    except duckdb.Error:
        return False
    try:
        row = con.execute("select max(occurred_at_utc) from intermediate.int_events_sessionized").fetchone()
    except duckdb.Error:
        return False  # not built yet: the first build is a full build anyway
    finally:
        con.close()
    if not row or row[0] is None:
        return False
    window_start = row[0].date() - timedelta(days=settings.incremental_lookback_days)
    return days[0] < window_start


@dbt_assets(
    manifest=DBT_MANIFEST,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
)
def northstar_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource, northstar: NorthstarSettings):
    settings = northstar.get()
    days = partition_days(context)
    # Wait (bounded) while another process holds the warehouse, as `northstar build` does before starting dbt.
    connect_warehouse(settings).close()
    if settings.target == "spark":
        check_spark_can_start(settings)
        with connect_warehouse(settings) as con:
            ensure_raw_schema(con)  # as `northstar build`: a raw table no file was loaded into exports empty
        started = time.monotonic()
        context.log.info(export_line(export_raw_tables(settings), time.monotonic() - started))
    # Unit tests run in CI, not in the daily build (as `northstar build` / `northstar run`).
    args = ["build", *exclude_args(), "--vars", json.dumps(dbt_vars(settings, days))]
    if needs_full_refresh(settings, days):
        context.log.info(f"{days[0]} is older than the built incremental window: dbt build --full-refresh")
        args.append("--full-refresh")
    yield from dbt.cli(args, context=context).stream()
    if settings.target == "spark":  # the stream raised on a failed build: only a good one gets here
        source = write_marts_source(settings, manifest_path=DBT_MANIFEST)
        context.log.info(f"{len(source.marts)} marts from Spark's Parquet readable in {source.path}")


MART_KEYS = [key for key in northstar_dbt_assets.keys if key.path[0] == "marts"]

defs = dg.Definitions(assets=[northstar_dbt_assets])
