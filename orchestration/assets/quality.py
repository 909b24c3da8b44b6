"""Great Expectations suites as Dagster asset checks (dagster-ge does not support GX 1.x, so we call GX directly).

One check per suite of the `daily` checkpoint, on the asset named in the suite's `meta.northstar.dagster_asset_key`.
All are blocking: a failed critical expectation stops everything downstream in the run, publish included, so the
serving file keeps the last good day. They read the warehouse read-only, in the warehouse pool, after its writer.
Each check validates the partition's day (the last day of a range) and adds its result to the Data Docs under
that day, next to the other suites' and earlier days' results.
"""

import dagster as dg
from dagster import AssetCheckExecutionContext

from northstar.quality.check import load_checkpoint, suite_meta
from orchestration.partitions import partition_days
from orchestration.resources import WAREHOUSE_POOL, NorthstarSettings


def _suite_check(suite: str, asset_key: dg.AssetKey, additional_deps: list[dg.AssetKey]) -> dg.AssetChecksDefinition:
    meta = suite_meta(suite)

    @dg.asset_check(
        asset=asset_key,
        name=f"gx_{suite}",
        description=f"Great Expectations suite expectations/{suite}.json: {meta.get('description', '')}",
        blocking=True,
        additional_deps=additional_deps or None,
        pool=WAREHOUSE_POOL,
    )
    def _check(context: AssetCheckExecutionContext, northstar: NorthstarSettings) -> dg.AssetCheckResult:
        from northstar.quality.check import run_checks

        days = partition_days(context)
        report = run_checks(northstar.get(), suites=[suite], partition_date=days[-1] if days else None)
        outcome = report.suites[0]
        failures = report.failures
        for failure in failures:
            context.log.error(f"{failure.expectation} on {failure.target}: {failure.observed}")
        return dg.AssetCheckResult(
            passed=report.success,
            severity=dg.AssetCheckSeverity.ERROR,
            description="; ".join(f"{f.target} ({f.observed})" for f in failures) or "all expectations passed",
            metadata={
                "run_date": str(report.run_date),
                "expectations": len(outcome.outcomes),
                "failed_blocking": len(failures),
                "warnings": len(report.warnings),
                "summary": str(report.summary_path or ""),
                # the day's results are filed under run name <run_date> with every earlier run's
                "data_docs": str(report.data_docs_dir / "index.html" if report.data_docs_dir else ""),
            },
        )

    return _check


def build_quality_checks(known_assets: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Checks for the daily checkpoint's suites whose asset exists in this code location."""
    checks = []
    for suite in load_checkpoint("daily"):
        key = dg.AssetKey(suite_meta(suite)["dagster_asset_key"])
        if key not in known_assets:
            continue  # e.g. a mart not built by this dbt project yet
        extra = []
        if suite == "raw_load_manifest":  # targets raw/events
            # The manifest holds every kind's files: check it after all four loads.
            extra = [k for k in known_assets if k.path[0] == "raw" and k != key]
        checks.append(_suite_check(suite, key, extra))
    return checks
