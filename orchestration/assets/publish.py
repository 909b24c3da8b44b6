"""Publish: copy the marts into a new serving file + Parquet, swapped in atomically (northstar/serve/publish.py).

Depends on every mart; the blocking checks on the marts and the raw tables run before it, so a bad day never
reaches the serving file.
"""

import dagster as dg
from dagster import AssetExecutionContext

from orchestration.assets.dbt import MART_KEYS
from orchestration.partitions import daily_partitions
from orchestration.resources import TRANSIENT_RETRY, WAREHOUSE_POOL, NorthstarSettings

SERVING_KEY = dg.AssetKey(["serving", "marts"])


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


defs = dg.Definitions(assets=[serving_marts])
