"""dbt unit tests run here (CI), not in production builds; no documented setting can break a build (issue 9).

Every NORTHSTAR_* setting dbt reads is set to a non-default value at once. Then
1. all dbt unit tests pass on a fresh warehouse (relations created by `dbt build --empty`, as dbt needs the
   parents' columns): each pins the vars it was computed with, so a deployment's settings cannot fail it;
2. a production build (`run_dbt_build`) of 7 generated days x 400 visitors passes with every node passing
   and runs no unit test.
About 1.5 minutes on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from northstar.build import BuildResult, DbtEvents, _run_streaming, dbt_args, dbt_subprocess_env, run_dbt_build
from northstar.config import Settings, load_settings

pytestmark = pytest.mark.slow

# Every documented setting that reaches dbt, none at its default (README's configuration table).
NON_DEFAULT = {
    "NORTHSTAR_REPORTING_CURRENCY": "EUR",
    "NORTHSTAR_REPORTING_TIMEZONE": "America/New_York",
    "NORTHSTAR_SESSION_TIMEOUT_MINUTES": "20",
    "NORTHSTAR_ATTRIBUTION_LOOKBACK_DAYS": "7",
    "NORTHSTAR_ATTRIBUTION_MODEL": "linear",
    "NORTHSTAR_ATTRIBUTION_TRAINING_DAYS": "30",
    "NORTHSTAR_INCREMENTAL_LOOKBACK_DAYS": "2",
    "NORTHSTAR_ALERT_MIN_CHANGE": "0.3",
    "NORTHSTAR_ALERT_MAX_P_VALUE": "0.05",
    "NORTHSTAR_MIN_CONVERSIONS_FOR_VERDICT": "10",
    "NORTHSTAR_EXPECTED_LIFETIME_YEARS": "2",
    "NORTHSTAR_RECOMMENDATION_CUT_RATIO": "2.0",
    "NORTHSTAR_RECOMMENDATION_SCALE_RATIO": "0.5",
}


def _settings(warehouse_dir: Path, landing_dir: Path) -> Settings:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in NON_DEFAULT.items():
            mp.setenv(name, value)
        mp.setenv("NORTHSTAR_WAREHOUSE_DIR", str(warehouse_dir))
        mp.setenv("NORTHSTAR_LANDING_DIR", str(landing_dir))
        return load_settings()


def _not_passed(result: BuildResult) -> list[str]:
    return [
        f"{n.resource_type} {n.name}: {n.status}: {n.message[:300]}"
        for n in result.nodes
        if n.status not in {"success", "pass"}
    ]


def _dbt(settings: Settings, *args: str) -> BuildResult:
    """One dbt command with the settings' vars, results counted from its JSON log (as run_dbt_build does)."""
    events = DbtEvents()
    cmd = dbt_args(settings, *args, "--log-format", "json")
    code = _run_streaming(cmd, dbt_subprocess_env(settings), events, lambda event: None)
    nodes = events.results()
    return BuildResult(code == 0, settings.dbt_log_dir / "dbt.log", nodes, error=events.first_error(nodes, code))


def test_every_dbt_setting_is_changed(tmp_path: Path) -> None:
    changed = _settings(tmp_path, tmp_path).dbt_vars()
    default = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path).dbt_vars()
    assert [k for k in default if changed[k] == default[k]] == [], "add the setting to NON_DEFAULT"


def test_unit_tests_pass_on_a_fresh_warehouse(tmp_path: Path) -> None:
    from northstar.db import connect_warehouse
    from northstar.ingest.schema import ensure_raw_schema

    settings = _settings(tmp_path / "wh", tmp_path)
    with connect_warehouse(settings) as con:
        ensure_raw_schema(con)
    empty = _dbt(settings, "build", "--empty", "--exclude-resource-type", "test", "unit_test")
    assert empty.success and empty.nodes, _not_passed(empty) or empty.error
    result = _dbt(settings, "test", "--select", "test_type:unit")
    assert result.success, _not_passed(result) or result.error
    unit = [n for n in result.nodes if n.resource_type == "unit_test"]
    assert len(unit) >= 28 and all(n.status == "pass" for n in unit), _not_passed(result)


def test_production_build_passes_with_every_setting_changed(tmp_path: Path) -> None:
    from northstar.ingest.load import load_paths
    from northstar.sample.generate import generate

    landing = tmp_path / "landing"
    generate(landing, days=7, visitors=400, progress=False)
    settings = _settings(tmp_path / "wh", landing)
    assert load_paths(settings, [str(landing)], progress=False).errors == []
    result = run_dbt_build(settings, console=Console(quiet=True))
    assert result.success, _not_passed(result) or result.error
    assert _not_passed(result) == []
    kinds = {n.resource_type for n in result.nodes}
    assert {"seed", "model", "test"} <= kinds and "unit_test" not in kinds, kinds
