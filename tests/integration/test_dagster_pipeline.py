"""The Dagster code location end to end, in-process, on small generated data (10 days, 1,500 visitors).

1. One daily partition, then the next: the marts and the serving file grow.
2. A bad day (tracking breaks at 09:00 UTC: ~60 % of the day's events missing, none after 09:00): the blocking
   Great Expectations check on raw/events fails, publish does not run, and the serving file still holds the
   previous day's numbers.
"""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

dg = pytest.importorskip("dagster")

START = date(2026, 1, 1)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from northstar.sample.generate import generate

    out = tmp_path_factory.mktemp("landing")
    generate(out, days=10, start=START, visitors=1500, seed=7)
    return out


@pytest.fixture(scope="module")
def defs(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("dagster")
    (base / "dagster_home").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        # Read when the code location loads: where `dbt parse` writes the manifest.
        mp.setenv("NORTHSTAR_WAREHOUSE_DIR", str(base / "parse_wh"))
        mp.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        from orchestration.definitions import defs as definitions

        yield definitions


def _use(monkeypatch: pytest.MonkeyPatch, warehouse: Path, landing: Path) -> Path:
    # Settings are read at run time, so each test gets its own warehouse.
    monkeypatch.setenv("NORTHSTAR_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("NORTHSTAR_LANDING_DIR", str(landing))
    return warehouse / "serving.duckdb"


def _run(defs, instance, first: str, last: str | None = None):
    job = defs.resolve_job_def("northstar_daily")
    if last is None:
        return job.execute_in_process(partition_key=first, instance=instance, raise_on_error=False)
    tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    return job.execute_in_process(tags=tags, instance=instance, raise_on_error=False)


def _serving_numbers(path: Path) -> tuple[int, date, float]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        sessions, last_day = con.execute("select count(*), max(session_date) from marts.fct_sessions").fetchone()
        revenue = con.execute("select coalesce(sum(revenue), 0) from marts.fct_sessions").fetchone()[0]
    finally:
        con.close()
    return sessions, last_day, float(revenue)


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}


def _failed_checks(result) -> set[str]:
    return {
        e.event_specific_data.asset_check_key.name
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
    }


def test_one_partition_then_the_next_grows_the_marts(defs, landing, tmp_path, monkeypatch) -> None:
    serving = _use(monkeypatch, tmp_path / "wh", landing)
    instance = dg.DagsterInstance.ephemeral()

    first = _run(defs, instance, "2026-01-01")
    assert first.success, _failed_checks(first)
    done = _materialized(first)
    assert {"raw/events", "raw/ad_spend", "raw/orders", "raw/leads", "marts/fct_sessions", "serving/marts"} <= done
    sessions_1, last_day_1, _ = _serving_numbers(serving)
    assert last_day_1 == date(2026, 1, 1)
    assert sessions_1 > 0

    second = _run(defs, instance, "2026-01-02")
    assert second.success, _failed_checks(second)
    sessions_2, last_day_2, _ = _serving_numbers(serving)
    assert last_day_2 == date(2026, 1, 2)
    assert sessions_2 > sessions_1  # the second day's sessions were added, the first day's kept

    con = duckdb.connect(str(tmp_path / "wh" / "northstar.duckdb"), read_only=True)
    per_day = dict(con.execute("select session_date, count(*) from marts.fct_sessions group by 1").fetchall())
    files = con.execute("select count(*) from raw.load_manifest").fetchone()[0]
    con.close()
    assert per_day[date(2026, 1, 1)] == sessions_1  # day one unchanged by day two's run
    assert sum(per_day.values()) == sessions_2
    assert files == 8  # 4 kinds x 2 days; nothing loaded twice


def _hour(line: str) -> int:
    try:
        return int(json.loads(line)["occurred_at"][11:13])
    except (ValueError, KeyError, TypeError):
        return 0  # a dirty line (the generator writes some): keep it, the loader quarantines it


def _break_tracking(landing: Path, day: str, hour: int) -> Path:
    """Keep only the day's events before `hour`:00 UTC, as if the tag manager broke mid-morning."""
    bad_landing = landing.parent / f"{landing.name}_bad"
    bad_landing.mkdir(exist_ok=True)
    for path in landing.iterdir():
        target = bad_landing / path.name
        if not target.exists():
            target.symlink_to(path)
    events = bad_landing / f"events_{day}.jsonl.gz"
    lines = gzip.decompress((landing / events.name).read_bytes()).decode().splitlines()
    kept = [line for line in lines if _hour(line) < hour]
    assert 0 < len(kept) < 0.5 * len(lines)
    events.unlink()
    events.write_bytes(gzip.compress(("\n".join(kept) + "\n").encode()))
    return bad_landing


def test_a_bad_day_fails_the_blocking_check_and_keeps_the_last_good_serving_file(
    defs, landing, tmp_path, monkeypatch
) -> None:
    bad_landing = _break_tracking(landing, "2026-01-10", hour=9)
    serving = _use(monkeypatch, tmp_path / "wh", bad_landing)
    instance = dg.DagsterInstance.ephemeral()

    # A backfill of nine good days in one run (single-run backfill policy).
    backfill = _run(defs, instance, "2026-01-01", "2026-01-09")
    assert backfill.success, _failed_checks(backfill)
    before = _serving_numbers(serving)
    assert before[1] == date(2026, 1, 9)
    mtime = serving.stat().st_mtime_ns

    bad = _run(defs, instance, "2026-01-10")
    assert not bad.success
    assert "gx_raw_events" in _failed_checks(bad)
    done = _materialized(bad)
    assert "raw/events" in done  # the day was loaded ...
    assert "serving/marts" not in done  # ... but never published
    assert "marts/fct_sessions" not in done  # the blocking check stopped dbt too
    assert serving.stat().st_mtime_ns == mtime
    assert _serving_numbers(serving) == before  # still the previous day's numbers
