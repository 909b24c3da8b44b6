"""Publish: copy the marts into a new serving file + Parquet, swapped in atomically (northstar/serve/publish.py),
then rebuild the HTML report from it (northstar/serve/report.py).

Publish depends on every mart; the blocking checks on the marts and the raw tables run before it, so a bad day
never reaches the serving file. The report depends on publish, so every run that publishes refreshes it.
"""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.dbt import MART_KEYS
from orchestration.partitions import daily_partitions
from orchestration.resources import TRANSIENT_RETRY, WAREHOUSE_POOL, NorthstarSettings

SERVING_KEY = dg.AssetKey(["serving", "marts"])
REPORT_KEY = dg.AssetKey(["serving", "report"])


@dg.asset(
    key=SERVING_KEY,
    deps=MART_KEYS,
    group_name="serving",
    description="warehouse/serving.duckdb and warehouse/parquet/: the marts readers query, read-only.",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TRANSIENT_RETRY,
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "parquet"},
)
def serving_marts(context: AssetExecutionContext, northstar: NorthstarSettings) -> dg.MaterializeResult:
    from northstar.serve.publish import publish

    result = publish(northstar.get())
    context.log.info(f"published {len(result.row_counts)} marts to {result.serving_path}")
    return dg.MaterializeResult(
        metadata={
            "serving_path": str(result.serving_path),
            "data_through": str(result.data_through),
            "rows": sum(result.row_counts.values()),
            **{f"rows_{name}": count for name, count in sorted(result.row_counts.items())},
        }
    )


@dg.asset(
    key=REPORT_KEY,
    deps=[SERVING_KEY],
    group_name="serving",
    description="warehouse/report/index.html: the self-contained HTML KPI report of the publish in place.",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TRANSIENT_RETRY,
    kinds={"html"},
)
def serving_report(context: AssetExecutionContext, northstar: NorthstarSettings) -> dg.MaterializeResult:
    # reads the serving file only (read-only, swapped in by rename): no need for the warehouse pool
    import duckdb

    from northstar.serve.report import write_report

    settings = northstar.get()
    path = write_report(settings)
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        published_at, through = con.execute(
            "select max(published_at), max(data_through) from northstar_meta"
        ).fetchone()
    context.log.info(f"report of the publish of {published_at} UTC written to {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "published_at": str(published_at),
            "data_through": str(through),
        }
    )


defs = dg.Definitions(assets=[serving_marts, serving_report])
