"""kill -9 during load, a full disk during load and publish, and the dbt child of a killed build.

Each fault is followed at once by a retry, as an orchestrator's retry would be: the retry succeeds (it waits for the
lock the dying process still holds) and the end result equals a clean run's (row counts and sums of every raw table
or serving mart); nothing is half-loaded; the last good serving file stays readable (readers query it throughout)
and, after a failed publish, byte for byte the same. The full disk is RLIMIT_FSIZE (reliability_procs.full_disk).
The build's faults, which need real dbt builds, and kill -9 during publish (with readers) are in
test_concurrency_runs.py.
"""

from __future__ import annotations

import random
import time
from datetime import date
from pathlib import Path

import pytest
from reliability_procs import (
    alive,
    cli_env,
    dbt_child,
    digest,
    file_state,
    full_disk,
    half_committed,
    kill9,
    no_traceback,
    one_line_error,
    run,
    start,
    wait_for,
)

from northstar.serve.publish import PARQUET_VERSIONS_DIR

SEEDS = (1, 2, 3)
RAW = ("raw",)
SERVED = ("marts", "main")


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from northstar.sample.generate import generate

    out = tmp_path_factory.mktemp("landing")
    generate(out, days=3, start=date(2026, 1, 1), visitors=300, seed=7, progress=False)
    return out


@pytest.fixture(scope="module")
def clean_load(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> tuple[dict, float]:
    """The raw tables of a clean `northstar load` of the landing files, and how long it took."""
    wh = tmp_path_factory.mktemp("clean_load")
    started = time.monotonic()
    proc = run(cli_env(wh), "load", str(landing))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return digest(wh / "northstar.duckdb", RAW), time.monotonic() - started


@pytest.fixture
def published(tmp_path: Path, sample_marts_settings) -> Path:
    """A warehouse dir of sample marts, published once (the last good serving file and Parquet)."""
    wh = sample_marts_settings("faults_publish").warehouse_dir
    proc = run(cli_env(wh), "publish")
    assert proc.returncode == 0, proc.stderr
    return wh


def test_the_dbt_child_dies_with_a_killed_build(tmp_path: Path, landing: Path) -> None:
    wh = tmp_path / "wh"
    env = cli_env(wh)
    assert run(env, "load", str(landing / "orders_2026-01-01.csv")).returncode == 0
    parent = start(env, "build")
    child = wait_for(lambda: dbt_child(parent.pid), 120)
    assert child, "dbt never started"
    assert kill9(parent)
    assert wait_for(lambda: not alive(child), 5), f"dbt (PID {child}) outlived its killed parent"


def test_kill_9_during_load_and_an_immediate_retry_loads_everything_once(
    tmp_path: Path, landing: Path, clean_load: tuple[dict, float]
) -> None:
    expected, seconds = clean_load
    injected = 0
    for seed in SEEDS:
        wh = tmp_path / f"wh{seed}"
        env = cli_env(wh)
        proc = start(env, "load", str(landing))
        time.sleep(random.Random(seed).uniform(0.05, 0.8) * seconds)
        injected += kill9(proc)
        retry = run(env, "load", str(landing))  # at once: the killed process may still hold the lock
        assert retry.returncode == 0, (seed, retry.stdout[-3000:], retry.stderr[-3000:])
        no_traceback(retry)
        assert half_committed(wh / "northstar.duckdb") == []
        assert digest(wh / "northstar.duckdb", RAW) == expected, seed
    assert injected >= 2, "the kills came after the loads had ended"
    print(f"faults injected: kill -9 during load {injected}")


def test_full_disk_during_load_is_one_line_nothing_half_loaded_and_a_rerun_equals_a_clean_load(
    tmp_path: Path, landing: Path, clean_load: tuple[dict, float]
) -> None:
    wh = tmp_path / "wh"
    env = cli_env(wh)
    proc = run(env, "load", str(landing), preexec_fn=full_disk(30_000))  # the WAL cannot grow past 30 kB
    assert proc.returncode != 0
    no_traceback(proc)
    assert "File too large" in proc.stdout + proc.stderr
    if (wh / "northstar.duckdb").exists():
        assert half_committed(wh / "northstar.duckdb") == []
    rerun = run(env, "load", str(landing))
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert half_committed(wh / "northstar.duckdb") == []
    assert digest(wh / "northstar.duckdb", RAW) == clean_load[0]


@pytest.mark.parametrize("limit", [2_000_000])  # 100 kB: test_concurrency_runs.py
def test_full_disk_during_publish_leaves_the_last_good_outputs_and_a_rerun_publishes(
    limit: int, published: Path
) -> None:
    before = file_state(published)
    versions = sorted(p.name for p in (published / PARQUET_VERSIONS_DIR).iterdir())
    env = cli_env(published)
    proc = run(env, "publish", preexec_fn=full_disk(limit))
    one_line_error(proc, "publish failed", "File too large")
    assert file_state(published) == before  # serving file and Parquet, byte for byte
    assert sorted(p.name for p in (published / PARQUET_VERSIONS_DIR).iterdir()) == versions  # no half version
    assert [p.name for p in published.iterdir() if ".tmp-" in p.name] == []
    expected = digest(published / "serving.duckdb", ("marts",))
    rerun = run(env, "publish")
    assert rerun.returncode == 0, rerun.stderr
    assert digest(published / "serving.duckdb", ("marts",)) == expected
