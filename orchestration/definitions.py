"""The one Definitions object: `dagster dev -m orchestration.definitions` (make dagster).

ingest (raw/<kind>, per landing kind) -> dbt (staging, intermediate, marts; dbt tests as checks)
-> Great Expectations checks (blocking) -> publish (serving/marts) -> HTML report (serving/report). Daily
partitions in the reporting timezone, a morning schedule, a landing-file sensor, retries for transient failures,
and one pool (`duckdb_warehouse`, limit 1 in orchestration/dagster.yaml) for everything that touches the DuckDB
file.
"""

import dagster as dg

from orchestration.assets import dbt, ingest, publish
from orchestration.assets.quality import build_quality_checks
from orchestration.resources import NorthstarSettings, dbt_resource
from orchestration.schedules import daily_job, daily_schedule
from orchestration.sensors import landing_sensor


def _asset_keys(*parts: dg.Definitions) -> set[dg.AssetKey]:
    return {key for part in parts for a in part.assets or [] for key in a.keys}


defs = dg.Definitions.merge(
    ingest.defs,
    dbt.defs,
    publish.defs,
    dg.Definitions(
        asset_checks=build_quality_checks(_asset_keys(ingest.defs, dbt.defs, publish.defs)),
        jobs=[daily_job],
        schedules=[daily_schedule],
        sensors=[landing_sensor],
        resources={"northstar": NorthstarSettings(), "dbt": dbt_resource(dbt.DBT_PROJECT)},
        # One process, steps in order: the DuckDB file never sees two writers inside a run.
        executor=dg.in_process_executor,
    ),
)
