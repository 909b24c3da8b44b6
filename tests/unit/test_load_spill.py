"""Loading after another connection of the same process has spilled to disk (issue 9).

DuckDB shares one database instance between the connections a process opens on a file, and refuses any
`set temp_directory` once that instance has spilled: the loader must not set it (Dagster runs steps in-process).
"""

from __future__ import annotations

from pathlib import Path

from northstar.config import Settings
from northstar.db import connect_warehouse
from northstar.ingest.load import load_paths

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "landing"


def test_load_after_a_spill_in_the_same_process(tmp_path: Path) -> None:
    settings = Settings(warehouse_dir=tmp_path, landing_dir=FIXTURES, memory_limit="64MB", threads=2)
    con = connect_warehouse(settings)
    try:
        # A sort of ~100 MB under a 64 MB limit has to spill.
        con.execute("create temp table sorted as select i, md5(i::varchar) as s from range(2000000) r(i) order by s")
        spilled = con.execute("select count(*) from duckdb_temporary_files()").fetchone()[0]
        assert spilled > 0, "the sort did not spill: raise the row count"
        report = load_paths(settings, [str(FIXTURES / "events_2026-01-05.jsonl")], progress=False)
    finally:
        con.close()
    assert report.errors == [], report.errors
    assert report.totals()["rows_loaded"] > 0
