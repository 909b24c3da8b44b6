"""The daily schedule: every morning, after the previous day's files have landed, run that day's partition."""

import dagster as dg

from orchestration.partitions import daily_partitions

# Everything: ingest -> dbt -> checks -> publish -> report, for one daily partition.
daily_job = dg.define_asset_job(
    name="northstar_daily",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="load -> dbt build -> Great Expectations checks -> publish -> HTML report, for one day "
    "(reporting timezone).",
    tags={"northstar/warehouse": "write"},
)

# 06:00 in the reporting timezone: the landing files of the day before are expected by then.
daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    hour_of_day=6,
    minute_of_hour=0,
    name="northstar_daily_schedule",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
