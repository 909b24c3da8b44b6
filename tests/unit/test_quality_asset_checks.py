"""The Great Expectations asset checks in Dagster (orchestration/assets/quality.py) on the tiny quality warehouse.

Each check runs one suite; after two partitions every suite's result of each day is still in Data Docs,
filed under the partition day.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_quality_checks import _warehouse  # the tiny hand-made warehouse of the quality tests

dg = pytest.importorskip("dagster")
pytest.importorskip("great_expectations")


def test_partition_runs_file_every_suite_under_its_day_and_keep_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.assets.quality import build_quality_checks
    from orchestration.partitions import daily_partitions
    from orchestration.resources import NorthstarSettings

    settings = _warehouse(tmp_path)
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(settings.warehouse_dir))
    events_key = dg.AssetKey(["raw", "events"])

    @dg.asset(key=events_key, partitions_def=daily_partitions)
    def events() -> None:  # stands in for the load: the tiny warehouse is already loaded
        return None

    checks = build_quality_checks({events_key})
    assert {c.check_key.name for c in checks} == {"gx_raw_events", "gx_raw_load_manifest"}
    instance = dg.DagsterInstance.ephemeral()
    for day in ("2026-01-09", "2026-01-10"):
        result = dg.materialize(
            [events, *checks], partition_key=day, resources={"northstar": NorthstarSettings()}, instance=instance
        )
        evaluations = result.get_asset_check_evaluations()
        assert len(evaluations) == 2 and all(e.passed for e in evaluations)
        assert {e.metadata["run_date"].value for e in evaluations} == {day}

    index = (settings.quality_dir / "data_docs" / "index.html").read_text()
    links = re.findall(r"'_table_row_link_path': 'validations/([^/']+)/([^/']+)/", index)
    days, suites = ("2026-01-09", "2026-01-10"), ("raw_events", "raw_load_manifest")
    assert {(run, suite) for suite, run in links} == {(day, suite) for day in days for suite in suites}
