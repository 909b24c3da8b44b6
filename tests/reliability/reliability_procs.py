"""Helpers of the fault and concurrency tests: the CLI as a process, kill -9, a full disk, table digests, readers.

Not a test module: test_faults*.py and test_concurrency*.py import it (pytest puts this directory on sys.path).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb

NORTHSTAR = str(Path(sys.executable).parent / "northstar")
# dbt's data tests only read the marts: leaving them out of these builds changes nothing they test (what is
# written, who holds the lock) and saves ~15 s a build on this 2-core machine.
NO_DBT_TESTS = {"DBT_EXCLUDE_RESOURCE_TYPES": "test unit_test"}


def cli_env(warehouse: Path, landing: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NORTHSTAR_", "DBT_"))}
    env.update(NORTHSTAR_WAREHOUSE_DIR=str(warehouse), NORTHSTAR_THREADS="1", COLUMNS="120", **extra)
    if landing is not None:
        env["NORTHSTAR_LANDING_DIR"] = str(landing)
    return env


def full_disk(limit_bytes: int):
    """A preexec_fn: no file of the process (and its children) may grow past limit_bytes.

    How a full disk is simulated without root: RLIMIT_FSIZE makes a write past the limit fail with EFBIG (File too
    large) as ENOSPC would, at the same places; SIGXFSZ is ignored (as Python does itself) so the write fails
    instead of killing the process. Both are inherited by dbt.
    """

    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return preexec


def start(env: dict[str, str], *args: str, preexec_fn=None) -> subprocess.Popen:
    return subprocess.Popen(
        [NORTHSTAR, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec_fn,
    )


def run(env: dict[str, str], *args: str, preexec_fn=None, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = start(env, *args, preexec_fn=preexec_fn)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def children(pid: int) -> list[int]:
    """Direct children of pid, from /proc (psutil is not a dependency)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """True while pid runs (a zombie, dead but not yet reaped by its parent, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def dbt_child(pid: int) -> int | None:
    """pid's child running dbt (`python .../bin/dbt build ...`), if any."""
    return next((c for c in children(pid) if any(arg.endswith("/dbt") for arg in cmdline(c).split(" ")[:2])), None)


def wait_for(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def kill9(proc: subprocess.Popen) -> bool:
    """kill -9 proc; True when it was still running (a fault was injected), False when it had finished.
    What it wrote to stderr is kept as proc.stderr_text."""
    hit = proc.poll() is None
    if hit:
        os.kill(proc.pid, signal.SIGKILL)
    proc.stderr_text = proc.communicate()[1] or ""
    return hit


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]


def one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    """The command failed with exit 2 and one line on stderr, `error: ...`, holding every word."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    no_traceback(proc)
    lines = [ln for ln in proc.stderr.strip().splitlines() if not ln.startswith("waiting up to")]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def digest(db: Path, schemas: tuple[str, ...]) -> dict[str, tuple]:
    """Per table of the schemas: row count and the rounded sum of every numeric column (timestamps and ids left
    out: they differ between two clean runs too)."""
    out: dict[str, tuple] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in "
            f"({', '.join('?' for _ in schemas)}) order by 1, 2",
            list(schemas),
        ).fetchall()
        for schema, table in tables:
            cols = [
                name
                for name, dtype in con.execute(
                    "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ?",
                    [schema, table],
                ).fetchall()
                if dtype.split("(")[0] in {"BIGINT", "INTEGER", "DOUBLE", "DECIMAL", "HUGEINT", "SMALLINT", "FLOAT"}
            ]
            sums = ", ".join(f'round(sum("{c}")::double, 4)' for c in cols)
            row = con.execute(f'select count(*){", " + sums if sums else ""} from {schema}."{table}"').fetchone()
            out[f"{schema}.{table}"] = tuple(row)
    return out


def half_committed(db: Path) -> list[str]:
    """Loads that are in raw.* but not whole: a manifest row whose rows are not all there, or rows without one."""
    problems = []
    with duckdb.connect(str(db), read_only=True) as con:
        manifest = con.execute("select load_id, kind, rows_loaded, rows_quarantined from raw.load_manifest").fetchall()
        known = {m[0] for m in manifest}
        for load_id, kind, rows_loaded, rows_quarantined in manifest:
            table = {"events": "events", "ad_spend": "ad_spend", "orders": "orders", "leads": "leads"}.get(kind)
            if table is None:
                continue
            n = con.execute(f"select count(*) from raw.{table} where load_id = ?", [load_id]).fetchone()[0]
            q = con.execute("select count(*) from raw.quarantine where load_id = ?", [load_id]).fetchone()[0]
            if (n, q) != (rows_loaded, rows_quarantined):
                problems.append(f"{load_id}: {n} of {rows_loaded} rows, {q} of {rows_quarantined} quarantined")
        for table in ("events", "ad_spend", "orders", "leads", "quarantine"):
            ids = {r[0] for r in con.execute(f"select distinct load_id from raw.{table}").fetchall()}
            problems += [f"raw.{table} has rows of {i} without a manifest row" for i in ids - known]
    return problems


def file_state(warehouse: Path) -> tuple[bytes, dict[str, bytes]]:
    """The serving file's bytes and the Parquet files the `parquet` link points at, by name."""
    serving = (warehouse / "serving.duckdb").read_bytes()
    parquet = {p.name: p.read_bytes() for p in sorted((warehouse / "parquet").glob("*.parquet"))}
    return serving, parquet


# A BI tool reading the serving file: opens it read-only and queries in a loop until told to stop, either on one
# connection it keeps ("held", a dashboard) or on a new one each time ("fresh", a notebook). Every read checks that
# it saw one whole publish (northstar_meta's row count is the table's); any exception is an error.
READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb

    serving, mode, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    check = '''
        select (select row_count from northstar_meta where mart = 'fct_kpi_daily'),
               (select count(*) from marts.fct_kpi_daily), (select sum(sessions) from kpi_daily)
    '''
    reads, errors, torn, held = 0, [], 0, None
    open(os.path.join(workdir, "ready-" + mode), "w").close()
    while not os.path.exists(os.path.join(workdir, "stop")):
        if not os.path.exists(serving) and reads == 0:
            time.sleep(0.05)  # nothing published yet: a BI tool is pointed at the file once it exists
            continue
        try:
            if mode == "held":
                held = held or duckdb.connect(serving, read_only=True)
                row = held.execute(check).fetchone()
            else:
                with duckdb.connect(serving, read_only=True) as con:
                    row = con.execute(check).fetchone()
            reads += 1
            torn += row[0] != row[1]
        except Exception as exc:  # any error at all fails the test
            errors.append(repr(exc))
        time.sleep(0.05)
    with open(os.path.join(workdir, "out-" + mode + ".json"), "w") as fh:
        json.dump({"reads": reads, "errors": errors, "torn": torn}, fh)
    """
)


def start_readers(serving: Path, workdir: Path, modes: tuple[str, ...] = ("held", "fresh")) -> list:
    workdir.mkdir(parents=True, exist_ok=True)
    procs = [subprocess.Popen([sys.executable, "-c", READER, str(serving), m, str(workdir)]) for m in modes]
    assert wait_for(lambda: all((workdir / f"ready-{m}").exists() for m in modes), 60)
    return procs


def stop_readers(procs: list, workdir: Path, modes: tuple[str, ...] = ("held", "fresh")) -> dict[str, dict]:
    (workdir / "stop").touch()
    for p in procs:
        p.wait(timeout=60)
    return {m: json.loads((workdir / f"out-{m}.json").read_text()) for m in modes}
