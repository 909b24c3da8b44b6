"""One ingest asset per landing kind: the day's files `<kind>_YYYY-MM-DD.*` from NORTHSTAR_LANDING_DIR -> raw.<kind>.

Calls the same loader as `northstar load`: a file already loaded (same checksum) is skipped, so re-running a
partition is safe. A file that cannot be loaded is reported in the metadata and the log, as the CLI does; the
blocking quality checks decide whether the day may be published.
"""

from datetime import date
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from northstar.db import connect_warehouse
from northstar.ingest.schema import KINDS, ensure_raw_schema
from orchestration.partitions import daily_partitions, partition_days
from orchestration.resources import TRANSIENT_RETRY, WAREHOUSE_POOL, NorthstarSettings


def landing_files(landing_dir: Path, kind: str, days: list[date]) -> list[Path]:
    """The landing files of a kind for these days, by the generator's and the contract's naming."""
    files: list[Path] = []
    for day in days:
        files.extend(sorted(p for p in landing_dir.glob(f"{kind}_{day.isoformat()}*") if p.is_file()))
    return files


def _ingest_asset(kind: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", kind]),
        group_name="ingest",
        description=f"raw.{kind}: the day's {kind} landing files, validated; bad rows go to raw.quarantine.",
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=TRANSIENT_RETRY,
        pool=WAREHOUSE_POOL,
        kinds={"duckdb", "python"},
    )
    def _ingest(context: AssetExecutionContext, northstar: NorthstarSettings) -> dg.MaterializeResult:
        from northstar.ingest.load import load_paths

        settings = northstar.get()
        days = partition_days(context)
        files = landing_files(settings.landing_dir, kind, days)
        if not files:
            context.log.warning(f"no {kind} files for {days[0]}..{days[-1]} in {settings.landing_dir}")
            # The raw tables must exist for dbt's sources even on a day without any files.
            with connect_warehouse(settings) as con:
                ensure_raw_schema(con)
            return dg.MaterializeResult(metadata={"files": 0, "rows_loaded": 0})
        report = load_paths(settings, [str(p) for p in files], kind=kind, progress=False)
        for error in report.errors:
            context.log.error(error)
        totals = report.totals()
        return dg.MaterializeResult(
            metadata={
                "files": len(files),
                "skipped_already_loaded": sum(1 for f in report.files if f.status == "skipped"),
                "file_errors": len(report.errors),
                "rows_read": totals["rows_read"],
                "rows_loaded": totals["rows_loaded"],
                "rows_quarantined": totals["rows_quarantined"],
                "duplicates_skipped": totals["duplicates_skipped"],
                "landing_dir": str(settings.landing_dir),
            }
        )

    return _ingest


ingest_assets = [_ingest_asset(kind) for kind in KINDS]

defs = dg.Definitions(assets=ingest_assets)
