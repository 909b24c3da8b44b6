"""The serving file from the outside: readers in other processes during publishes, and a DuckDB 1.x client."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.serve.publish import publish
from northstar.serve.sample_marts import build_sample_marts

VIEWS = ["kpi_daily", "funnel", "campaigns", "scorecard", "alerts", "attribution"]

# A reader in its own process. mode "held": one connection opened at the start and queried in a loop;
# mode "fresh": a new connection per query. Every observation must be one whole snapshot: the row count
# northstar_meta records equals what the tables hold, and fct_funnel_daily has 9 rows per fct_kpi_daily row
# (the test deletes the same days from both between publishes). Parquet: the reader resolves the `parquet`
# link once, then reads both files of that version.
READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb

    serving, parquet, mode, workdir = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    check = '''
        select
            (select row_count from northstar_meta where mart = 'fct_kpi_daily') as meta_rows,
            (select count(*) from marts.fct_kpi_daily) as kpi_rows,
            (select count(*) from kpi_daily) as view_rows,
            (select count(*) from marts.fct_funnel_daily) as funnel_rows,
            (select count(*) from funnel) as funnel_view_rows
    '''
    held = duckdb.connect(serving, read_only=True) if mode == "held" else None
    seen, parquet_seen, errors = [], [], []
    open(os.path.join(workdir, "ready-" + mode), "w").close()
    deadline = time.time() + 120
    while not os.path.exists(os.path.join(workdir, "stop")) and time.time() < deadline:
        try:
            if held is not None:
                seen.append(held.execute(check).fetchone())
            else:
                with duckdb.connect(serving, read_only=True) as con:
                    seen.append(con.execute(check).fetchone())
                version = os.path.realpath(parquet)
                parquet_seen.append(duckdb.execute(
                    f"select (select count(*) from read_parquet('{version}/fct_kpi_daily.parquet')), "
                    f"(select count(*) from read_parquet('{version}/fct_funnel_daily.parquet'))"
                ).fetchone())
        except Exception as exc:  # any error at all fails the test
            errors.append(repr(exc))
        time.sleep(0.005)
    print(json.dumps({"seen": seen, "parquet": parquet_seen, "errors": errors}))
    """
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path / "landing", threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)
    return s


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if time.time() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)


def test_readers_see_whole_snapshots_while_publishes_replace_the_file(settings: Settings, tmp_path: Path) -> None:
    publish(settings)
    first_rows = 59 * 3
    script = tmp_path / "reader.py"
    script.write_text(READER)
    readers = {
        mode: subprocess.Popen(
            [sys.executable, str(script), str(settings.serving_path), str(settings.parquet_dir), mode, str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("held", "fresh")
    }
    try:
        for mode in readers:
            _wait_for(tmp_path / f"ready-{mode}")
        publishes = 6
        for _ in range(publishes):
            # new data in the build file (the last day goes from both marts), then publish it
            with duckdb.connect(str(settings.warehouse_path)) as con:
                con.execute("delete from marts.fct_kpi_daily where date = (select max(date) from marts.fct_kpi_daily)")
                con.execute(
                    "delete from marts.fct_funnel_daily where session_date = (select max(session_date) from "
                    "marts.fct_funnel_daily)"
                )
            publish(settings)
            time.sleep(0.3)
    finally:
        (tmp_path / "stop").touch()
        outputs = {mode: p.communicate(timeout=120) for mode, p in readers.items()}

    results = {}
    for mode, (out, err) in outputs.items():
        assert readers[mode].returncode == 0, err
        results[mode] = json.loads(out)
        assert results[mode]["errors"] == [], results[mode]["errors"][:3]
        assert len(results[mode]["seen"]) > 20, f"{mode} reader barely ran"
        for meta_rows, kpi_rows, view_rows, funnel_rows, funnel_view_rows in results[mode]["seen"]:
            assert meta_rows == kpi_rows == view_rows, "a read mixed two snapshots"
            assert funnel_rows == funnel_view_rows == 9 * kpi_rows, "a read mixed two snapshots"

    # the held connection keeps the snapshot it opened, whatever is published meanwhile
    held_snapshot = (first_rows, first_rows, first_rows, 9 * first_rows, 9 * first_rows)
    assert {tuple(r) for r in results["held"]["seen"]} == {held_snapshot}
    # fresh connections move on to the new snapshots as they are published
    fresh_snapshots = {r[1] for r in results["fresh"]["seen"]}
    assert len(fresh_snapshots) >= 3 and fresh_snapshots <= {first_rows - 3 * i for i in range(publishes + 1)}
    # and so do Parquet readers, always with a matching pair of files
    assert all(f == 9 * k for k, f in results["fresh"]["parquet"])
    assert len({k for k, _ in results["fresh"]["parquet"]}) >= 3


def _duckdb_1x_cli() -> Path | None:
    """The DuckDB 1.x command-line client from PyPI `duckdb-cli` (the native binary, not its wrapper)."""
    candidates = []
    try:
        import duckdb_cli

        candidates.append(Path(duckdb_cli.__file__).parent / "duckdb")
    except ImportError:
        pass
    candidates.append(Path(sys.executable).parent / "duckdb")
    if which := shutil.which("duckdb"):
        candidates.append(Path(which))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            version = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=60).stdout
            if version.startswith("v1."):
                return path
    return None


def _cli_json(cli: Path, db: Path, sql: str) -> list[dict]:
    proc = subprocess.run(
        [str(cli), "-readonly", "-json", str(db), "-c", sql], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else []


def test_every_view_reads_in_the_duckdb_1x_command_line_client(settings: Settings, tmp_path: Path) -> None:
    cli = _duckdb_1x_cli()
    if cli is None:
        pytest.skip("no DuckDB 1.x command-line client (PyPI duckdb-cli) installed")
    result = publish(settings)
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True).stdout

    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        expected = {v: con.execute(f"select count(*) from {v}").fetchone()[0] for v in VIEWS}
    for view in VIEWS:
        # every row and column is decoded and bound by the 1.x reader, views included
        rows = _cli_json(cli, settings.serving_path, f"select * from {view}")
        assert len(rows) == expected[view], (view, version)
    meta = _cli_json(cli, settings.serving_path, "select mart, row_count from northstar_meta order by mart")
    assert {m["mart"]: m["row_count"] for m in meta} == result.row_counts
    paid = _cli_json(
        cli,
        settings.serving_path,
        "select sum(spend) as spend, any_value(campaign_name) as name from kpi_daily "
        "where channel = 'Paid Search' and date < date '2026-02-01'",
    )
    assert paid == [{"spend": 3100.0, "name": "Brand search"}]

    # the same client refuses a file in DuckDB 2.x's default storage format: what the setting avoids
    default_format = tmp_path / "default.duckdb"
    duckdb.connect(str(default_format)).execute("create table t as select 1 as x").close()
    proc = subprocess.run(
        [str(cli), "-readonly", str(default_format), "-c", "select 1"], capture_output=True, text=True
    )
    if duckdb.__version__.startswith("2."):
        assert proc.returncode != 0 and "version number" in (proc.stderr + proc.stdout)


def _as_a_plain_user() -> list[str]:
    """A command prefix that makes file modes bind: root ignores them unless it drops CAP_DAC_OVERRIDE."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux): file modes do not bind root")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]


WRITE_INTO = (
    "import sys, duckdb\n"
    "con = duckdb.connect(sys.argv[1])\n"  # a plain read-write open, as `duckdb serving.duckdb` does
    "con.execute('create table main.scratch as select 1 as x')\n"
    "con.close()\n"
)


def test_serving_file_is_read_only_on_disk_and_publish_still_replaces_it(settings: Settings) -> None:
    first = publish(settings)
    assert stat.S_IMODE(settings.serving_path.stat().st_mode) == 0o444
    before = settings.serving_path.read_bytes()

    proc = subprocess.run(
        [*_as_a_plain_user(), sys.executable, "-c", WRITE_INTO, str(settings.serving_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0, "a plain read-write open wrote into the serving file"
    assert "Permission denied" in proc.stderr, proc.stderr
    assert settings.serving_path.read_bytes() == before

    # the next publish still swaps a new file in, read-only again
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from marts.fct_kpi_daily where date = (select max(date) from marts.fct_kpi_daily)")
    time.sleep(1.1)  # published_at has whole seconds
    second = publish(settings)
    assert stat.S_IMODE(settings.serving_path.stat().st_mode) == 0o444
    assert second.published_at > first.published_at
    assert second.row_counts["fct_kpi_daily"] == first.row_counts["fct_kpi_daily"] - 3
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        in_file = con.execute("select count(*) from marts.fct_kpi_daily").fetchone()[0]
    assert in_file == second.row_counts["fct_kpi_daily"]
    assert not list(settings.serving_path.parent.glob(".serving.duckdb.tmp-*"))


def _newest_publish(con: duckdb.DuckDBPyConnection) -> tuple:
    sql = "select max(published_at), (select count(*) from marts.fct_kpi_daily) from northstar_meta"
    return con.execute(sql).fetchone()


def test_a_notebook_sees_the_newest_publish_the_way_docs_bi_md_says(settings: Settings) -> None:
    publish(settings)
    path = str(settings.serving_path)
    held = duckdb.connect(path, read_only=True)  # a notebook's connection, still open
    old = _newest_publish(held)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from marts.fct_kpi_daily where date = (select max(date) from marts.fct_kpi_daily)")
    time.sleep(1.1)
    publish(settings)

    # What does not work: DuckDB keeps one database instance per path and process, so a second connect()
    # while the first is open returns the snapshot that instance opened.
    again = duckdb.connect(path, read_only=True)
    assert _newest_publish(again) == old
    again.close()

    # docs/bi.md, way 1: an in-memory connection that attaches the file opens the file as it is now.
    fresh = duckdb.connect()
    fresh.execute(f"attach '{path}' as serving (read_only)")
    fresh.execute("use serving")
    newest = _newest_publish(fresh)
    assert newest[0] > old[0] and newest[1] == old[1] - 3
    fresh.close()
    assert _newest_publish(held) == old  # the open connection kept its whole, older snapshot

    # docs/bi.md, way 2: close every connection to the file, then connect again.
    held.close()
    with duckdb.connect(path, read_only=True) as reconnected:
        assert _newest_publish(reconnected) == newest


def test_readme_names_the_oldest_duckdb_that_reads_the_serving_file_as_docs_bi_md_does() -> None:
    # docs/bi.md says which clients read the storage version publish writes (the 1.x CLI test above checks a
    # reader); the README's outputs table must not promise more (DuckDB 1.1.3 refuses a v1.2.0 file).
    root = Path(__file__).parents[2]
    bi = re.search(r"any DuckDB client from (\d+\.\d+) on reads it", (root / "docs" / "bi.md").read_text())
    row = next(line for line in (root / "README.md").read_text().splitlines() if "`warehouse/serving.duckdb`" in line)
    default = Settings(warehouse_dir=root, landing_dir=root).serving_storage_version
    assert bi and default == f"v{bi.group(1)}.0", (default, bi)
    assert f"DuckDB {bi.group(1)} and later" in row and "1.x" not in row, row


def test_the_python_example_of_docs_bi_md_sees_the_newest_publish_while_a_connection_is_open(
    settings: Settings,
) -> None:
    # Issue 12, 8.3: docs/bi.md's Python example, run as written in a notebook that still holds a connection to
    # the file (its query swapped for the one that says which publish it sees). A plain second connect() would
    # return the held snapshot.
    bi = (Path(__file__).parents[2] / "docs" / "bi.md").read_text()
    example = re.search(r"### Python\n\n```python\n(.*?)```", bi, re.S)
    assert example, "docs/bi.md has no Python example"
    code = example.group(1).replace("/srv/northstar/warehouse/serving.duckdb", str(settings.serving_path))
    which = 'con.sql("select max(published_at) as p from northstar_meta")'
    code, swapped = re.subn(r'con\.sql\("[^"]*"\)', which, code)
    assert swapped == 1, example.group(1)

    publish(settings)
    held = duckdb.connect(str(settings.serving_path), read_only=True)
    old = _newest_publish(held)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("delete from marts.fct_kpi_daily where date = (select max(date) from marts.fct_kpi_daily)")
    time.sleep(1.1)  # published_at has whole seconds
    publish(settings)

    notebook: dict = {}
    exec(code, notebook)
    held.close()
    assert notebook["df"]["p"].iloc[0].to_pydatetime() > old[0], "the example returned the held, older snapshot"
