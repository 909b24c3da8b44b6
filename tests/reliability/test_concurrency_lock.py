"""A command that finds the build warehouse locked by another process waits for it (bounded) instead of failing.

The lock is held by a plain Python process with a read-write DuckDB connection, as a dying dbt or a second
northstar holds it. load, build (before dbt starts) and publish wait for it, say so in one line, and go on once it
is released; a lock held past the wait ends the command with one line naming the holder's PID; dbt's own lock error
(another process took the lock between the wait and dbt's open) is that same line.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from reliability_procs import cli_env, one_line_error, wait_for

from northstar import build
from northstar.config import Settings
from northstar.db import WarehouseLockedError
from northstar.ingest.schema import ensure_raw_schema

HOLDER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(600)"
# The CLI with a 1 s wait instead of 60 s, so a lock held past the wait is quick to test.
SHORT_WAIT = "import northstar.db as d; d.LOCK_WAIT_S = 1.0; from northstar.cli import main; main()"


# A stand-in dbt (the real one takes a minute to parse the project on this machine): it opens the warehouse
# read-write as dbt-duckdb does and, when DuckDB refuses, logs the event the real dbt 1.11 logs and exits 2.
FAKE_DBT = """#!{python}
import json, os, sys
import duckdb

path = os.path.join(os.environ["NORTHSTAR_WAREHOUSE_DIR"], "northstar.duckdb")
try:
    duckdb.connect(path).close()
except duckdb.IOException as exc:
    info = {{"name": "MainEncounteredError", "level": "error", "msg": "Encountered an error:\\n" + str(exc)}}
    print(json.dumps({{"data": {{"exc": str(exc)}}, "info": info}}), flush=True)
    sys.exit(2)
"""


@pytest.fixture
def fake_dbt(tmp_path: Path) -> Path:
    script = tmp_path / "dbt"
    script.write_text(FAKE_DBT.format(python=sys.executable))
    script.chmod(0o755)
    return script


def hold_lock(db: Path) -> subprocess.Popen:
    """A process holding db's write lock (until killed); returns once it holds it."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from northstar.sample.generate import generate

    out = tmp_path_factory.mktemp("landing")
    generate(out, days=1, start=date(2026, 1, 1), visitors=50, seed=3, progress=False)
    return out


def _raw_warehouse(root: Path) -> Path:
    import duckdb

    root.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(root / "northstar.duckdb")) as con:
        ensure_raw_schema(con)
    return root


def run_while_locked(
    db: Path, env: dict[str, str], *args: str, prelude: str = ""
) -> tuple[subprocess.CompletedProcess, int]:
    """Run `northstar *args` while another process holds db's lock, released once the command says it waits (or
    has ended: it did not wait). The completed command and the holder's PID."""
    holder = hold_lock(db)
    out, err = db.with_name("cli.out"), db.with_name("cli.err")
    with out.open("w") as fo, err.open("w") as fe:
        cmd = [sys.executable, "-c", prelude + "from northstar.cli import main; main()", *args]
        proc = subprocess.Popen(cmd, env=env, stdout=fo, stderr=fe, text=True)
        wait_for(lambda: "waiting up to" in err.read_text() or proc.poll() is not None, 120)
        holder.kill()
        holder.wait()
        proc.wait(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.read_text(), err.read_text()), holder.pid


def _waited(proc: subprocess.CompletedProcess, holder_pid: int) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    waits = [ln for ln in proc.stderr.splitlines() if ln.startswith("waiting up to")]
    assert len(waits) == 1, proc.stderr
    assert f"PID {holder_pid}" in waits[0], waits[0]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_load_waits_for_a_lock_that_is_released(tmp_path: Path, landing: Path) -> None:
    wh = _raw_warehouse(tmp_path / "wh")
    proc, holder = run_while_locked(
        wh / "northstar.duckdb", cli_env(wh), "load", str(landing / "ad_spend_2026-01-01.csv")
    )
    _waited(proc, holder)
    assert "ad_spend_2026-01-01.csv" in proc.stdout


def test_publish_waits_for_a_lock_that_is_released(sample_marts_settings) -> None:
    settings = sample_marts_settings("lock_publish")
    proc, holder = run_while_locked(settings.warehouse_path, cli_env(settings.warehouse_dir), "publish")
    _waited(proc, holder)
    assert settings.serving_path.exists()


def test_build_waits_for_the_lock_before_it_starts_dbt(tmp_path: Path, fake_dbt: Path) -> None:
    """The build runs the stand-in dbt, which fails if the lock is still held when it starts."""
    wh = _raw_warehouse(tmp_path / "wh")
    prelude = f"import pathlib, northstar.build as b; b.dbt_executable = lambda: pathlib.Path({str(fake_dbt)!r}); "
    proc, holder = run_while_locked(wh / "northstar.duckdb", cli_env(wh), "build", prelude=prelude)
    _waited(proc, holder)
    assert "build succeeded" in proc.stdout


@pytest.mark.parametrize("command", ["load", "build", "publish"])
def test_a_lock_held_past_the_wait_is_one_line_naming_the_holder(
    command: str, tmp_path: Path, landing: Path, sample_marts_settings
) -> None:
    if command == "publish":
        wh = sample_marts_settings("lock_publish_timeout").warehouse_dir
    else:
        wh = _raw_warehouse(tmp_path / "wh")
    args = {"load": [str(landing / "orders_2026-01-01.csv")], "build": [], "publish": []}[command]
    holder = hold_lock(wh / "northstar.duckdb")
    try:
        proc = subprocess.run(
            [sys.executable, "-c", SHORT_WAIT, command, *args],
            env=cli_env(wh),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.kill()
        holder.wait()
    line = one_line_error(proc, "is locked by", f"PID {holder.pid}", f"kill {holder.pid}")
    assert str(wh / "northstar.duckdb") in line
    assert "dbt build" not in proc.stdout  # the build gave up before starting dbt


def test_dbt_finding_the_warehouse_locked_is_the_same_one_line(tmp_path: Path, fake_dbt: Path, monkeypatch) -> None:
    """Another process takes the lock after the build's wait and before dbt opens the file: dbt's own error is
    reported as the lock line, not as a failed build."""
    wh = _raw_warehouse(tmp_path / "wh")
    settings = Settings(warehouse_dir=wh, landing_dir=tmp_path / "landing", threads=1, memory_limit="1GB")
    monkeypatch.setattr(build, "_ensure_raw_schema", lambda s: None)  # the wait is over; the lock is taken now
    monkeypatch.setattr(build, "dbt_executable", lambda: fake_dbt)
    holder = hold_lock(settings.warehouse_path)
    try:
        with pytest.raises(WarehouseLockedError) as caught:
            build.run_dbt_build(settings)
    finally:
        holder.kill()
        holder.wait()
    assert f"PID {holder.pid}" in str(caught.value)
    assert "\n" not in str(caught.value)
