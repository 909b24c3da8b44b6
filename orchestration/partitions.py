"""Daily partitions in the reporting timezone: one partition = one day of landing files."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from northstar.config import load_settings

_settings = load_settings()
# First day of data (NORTHSTAR_PARTITIONS_START); the sample generator starts on 2026-01-01.
PARTITIONS_START = _settings.partitions_start

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START, timezone=_settings.reporting_timezone, end_offset=0
)


def partition_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """The days a run covers: one for a daily run, several for a single-run backfill of a range."""
    key_range = _partition_key_range(context)
    if key_range is None:
        return []
    first, last = (datetime.strptime(k, "%Y-%m-%d").date() for k in (key_range.start, key_range.end))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _partition_key_range(context) -> dg.PartitionKeyRange | None:
    try:
        return context.partition_key_range
    except Exception:
        pass
    tags = context.run.tags if hasattr(context, "run") else {}
    if "dagster/asset_partition_range_start" in tags:
        start, end = tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
        return dg.PartitionKeyRange(start, end)
    if "dagster/partition" in tags:
        return dg.PartitionKeyRange(tags["dagster/partition"], tags["dagster/partition"])
    return None
