"""`northstar run --date D` as the schedule runs it, from the command line, while analysts read.

Twelve generated days are copied into the landing directory one day at a time:
1. days 1-10, `run --date 2026-01-10`: published, data through 2026-01-10;
2. day 11 lands and `run --date 2026-01-11` rebuilds and publishes while two readers query the serving file in a
   loop (one keeps its connection open, one reconnects each time): no read fails, and every read sees one whole
   snapshot (the row counts northstar_meta records equal the tables, and data_through is the newest session day);
3. day 12 lands with its events cut off at 09:00 (a tracking outage): `run --date 2026-01-12` exits 1 before
   publish and says why, and the serving file still holds day 11's snapshot, byte for byte.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

NORTHSTAR = str(Path(sys.executable).parent / "northstar")

READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb

    serving, mode, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    check = '''
        select
            (select row_count from northstar_meta where mart = 'fct_sessions'),
            (select count(*) from marts.fct_sessions),
            (select max(data_through) from northstar_meta),
            (select max(session_date) from marts.fct_sessions)
    '''
    held = duckdb.connect(serving, read_only=True) if mode == "held" else None
    seen, errors = [], []
    open(os.path.join(workdir, "ready-" + mode), "w").close()
    deadline = time.time() + 600
    while not os.path.exists(os.path.join(workdir, "stop")) and time.time() < deadline:
        try:
            if held is not None:
                row = held.execute(check).fetchone()
            else:
                with duckdb.connect(serving, read_only=True) as con:
                    row = con.execute(check).fetchone()
            seen.append([row[0], row[1], str(row[2]), str(row[3])])
        except Exception as exc:  # any error at all fails the test
            errors.append(repr(exc))
        time.sleep(0.02)
    json.dump({"seen": seen, "errors": errors}, open(os.path.join(workdir, "out-" + mode + ".json"), "w"))
    """
)


def _copy_day(generated: Path, landing: Path, day: date) -> None:
    for path in generated.glob(f"*_{day.isoformat()}.*"):
        shutil.copy2(path, landing / path.name)


def _run(env: dict[str, str], day: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NORTHSTAR, "run", "--date", day], env=env, capture_output=True, text=True, timeout=900, check=False
    )


def _cut_events_at_nine(path: Path) -> None:
    """Keep only the events before 09:00 UTC of the day: what a tracking outage leaves behind."""
    kept = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            try:
                occurred_at = json.loads(line)["occurred_at"]
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(occurred_at, str) and occurred_at[11:13] < "09":
                kept.append(line)
    with gzip.open(path, "wb") as fh:
        fh.writelines(kept)


def test_daily_runs_publish_whole_snapshots_and_a_bad_day_publishes_nothing(tmp_path: Path) -> None:
    from northstar.sample.generate import generate

    generated, landing, warehouse = tmp_path / "generated", tmp_path / "landing", tmp_path / "wh"
    landing.mkdir()
    generate(generated, days=12, start=date(2026, 1, 1), visitors=1500, seed=7, file_format="jsonl", progress=False)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NORTHSTAR_", "DBT_"))},
        "NORTHSTAR_WAREHOUSE_DIR": str(warehouse),
        "NORTHSTAR_LANDING_DIR": str(landing),
    }
    serving = warehouse / "serving.duckdb"

    # 1. Ten good days.
    for d in range(1, 11):
        _copy_day(generated, landing, date(2026, 1, d))
    first = _run(env, "2026-01-10")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    with duckdb.connect(str(serving), read_only=True) as con:
        assert str(con.execute("select max(data_through) from northstar_meta").fetchone()[0]) == "2026-01-10"

    # 2. Day 11 is rebuilt and published while two readers query the serving file.
    _copy_day(generated, landing, date(2026, 1, 11))
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(serving), mode, str(tmp_path)])
        for mode in ("held", "fresh")
    ]
    deadline = time.time() + 60
    while not all((tmp_path / f"ready-{m}").exists() for m in ("held", "fresh")) and time.time() < deadline:
        time.sleep(0.1)
    second = _run(env, "2026-01-11")
    time.sleep(1.0)  # a few reads of the new snapshot
    (tmp_path / "stop").touch()
    for reader in readers:
        reader.wait(timeout=120)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]

    outcomes = {m: json.loads((tmp_path / f"out-{m}.json").read_text()) for m in ("held", "fresh")}
    for mode, out in outcomes.items():
        assert out["errors"] == [], (mode, out["errors"][:3])
        assert len(out["seen"]) > 10, mode
        for meta_rows, table_rows, data_through, newest_session_day in out["seen"]:
            assert meta_rows == table_rows, (mode, meta_rows, table_rows)  # one whole snapshot
            assert data_through == newest_session_day, mode
    # The held connection keeps its snapshot; the reconnecting reader moves from the old one to the new one.
    assert {row[2] for row in outcomes["held"]["seen"]} == {"2026-01-10"}
    assert [row[2] for row in outcomes["fresh"]["seen"]][0] == "2026-01-10"
    assert [row[2] for row in outcomes["fresh"]["seen"]][-1] == "2026-01-11"
    assert {row[2] for row in outcomes["fresh"]["seen"]} == {"2026-01-10", "2026-01-11"}

    # 3. A tracking outage on day 12: the checks block the publish and the last good snapshot stays.
    _copy_day(generated, landing, date(2026, 1, 12))
    _cut_events_at_nine(landing / "events_2026-01-12.jsonl.gz")
    before = serving.read_bytes()
    third = _run(env, "2026-01-12")
    assert third.returncode == 1, third.stdout[-3000:]
    assert "Quality checks failed: not publishing" in third.stdout
    assert "volume" in third.stdout
    assert serving.read_bytes() == before
    with duckdb.connect(str(serving), read_only=True) as con:
        assert str(con.execute("select max(data_through) from northstar_meta").fetchone()[0]) == "2026-01-11"
