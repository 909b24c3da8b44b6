"""Resources: northstar's Settings (the same NORTHSTAR_* variables the CLI reads) and dbt.

Everything that writes the warehouse DuckDB file shares one pool with a limit of one (DuckDB allows a single
writer per file): the instance config in orchestration/dagster.yaml sets the limit, WAREHOUSE_POOL names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from northstar.config import PROJECT_DIR, Settings, load_settings

WAREHOUSE_POOL = "duckdb_warehouse"

# Transient failures (a lock held for a moment by another reader/writer, a dbt hiccup) are retried with
# backoff; a real data error fails the same way three times and stops the run.
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class NorthstarSettings(dg.ConfigurableResource):
    """Reads northstar's settings from the environment at run time, exactly as the CLI does."""

    def get(self) -> Settings:
        settings = load_settings(writes=True)  # every asset writes the warehouse: check its dir like the CLI
        # dbt (a subprocess started by dagster-dbt) reads the warehouse path etc. from the environment.
        for key, value in settings.dbt_env().items():
            if key not in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):
                os.environ[key] = value
        return settings


def dbt_executable() -> str:
    """The venv's dbt: dagster-dbt would otherwise need `dbt` on PATH (an unactivated venv has none)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_target_dir() -> Path:
    """Where the manifest Dagster loads is parsed to: under the warehouse dir (never committed)."""
    return load_settings().dbt_target_dir / "dagster"


def dbt_project() -> DbtProject:
    """The dbt project on NORTHSTAR_TARGET (duckdb, or spark: docs/scale.md), parsed into that target's dir."""
    target = load_settings().dbt_target
    return DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=dbt_target_dir(), target=target)


def prepare_manifest(project: DbtProject) -> Path:
    """Run `dbt parse` when the manifest is missing or older than a model/macro/seed/yml file.

    Works from a fresh clone (no manifest committed) and without a warehouse file: parse opens no database.
    """
    manifest = project.manifest_path
    sources = [PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds", "tests/dbt"):
        sources.extend((PROJECT_DIR / folder).rglob("*.*"))
    newest = max((p.stat().st_mtime for p in sources if p.is_file()), default=0.0)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return manifest
    settings = load_settings()
    env = {**os.environ, **settings.dbt_env(), "DBT_TARGET_PATH": str(project.target_path)}
    env.setdefault("DBT_LOG_PATH", str(settings.dbt_log_dir))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    dirs = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    proc = subprocess.run(
        [dbt_executable(), "parse", *dirs, "--target", settings.dbt_target],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not manifest.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"`dbt parse` failed, so Dagster cannot load the dbt assets:\n{tail}")
    return manifest


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """dbt on the target NORTHSTAR_TARGET names: every dbt invocation of the dbt assets carries --target."""
    return DbtCliResource(
        project_dir=project,
        profiles_dir=str(PROJECT_DIR),
        dbt_executable=dbt_executable(),
        target=load_settings().dbt_target,
    )
