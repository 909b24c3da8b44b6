"""`northstar query` can read the serving file and nothing else (issue 13).

Before the lockdown, `COPY ... TO`, `EXPORT DATABASE` and a read-write ATTACH of another DuckDB file were all
accepted (the last modified a copy of the build warehouse), INSTALL was attempted and any local file could be
read with read_csv. Each statement below must fail with one line and leave every file as it was; `--out` is still
written, by northstar itself.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from northstar.config import Settings
from northstar.errors import UserError
from northstar.serve.publish import publish
from northstar.serve.query import run_query


@pytest.fixture(scope="module")
def settings(sample_marts_settings) -> Settings:
    s = sample_marts_settings("lockdown")
    publish(s)
    return s


@pytest.fixture()
def other_db(tmp_path: Path) -> Path:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table t as select 1 as a")
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(settings: Settings, sql: str) -> str:
    with pytest.raises(UserError) as info:
        run_query(settings, sql, console=Console(quiet=True))
    message = str(info.value)
    assert message.startswith("query failed:") and "\n" not in message
    return message


def test_copy_out_and_export_are_refused(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "copy.csv"
    assert "disabled by configuration" in _refused(settings, f"copy (select * from kpi_daily) to '{target}'")
    assert "disabled by configuration" in _refused(settings, f"export database '{tmp_path / 'export'}'")
    assert not target.exists() and not (tmp_path / "export").exists()


def test_attach_of_another_duckdb_file_is_refused_and_the_file_is_unchanged(settings: Settings, other_db: Path) -> None:
    before = _digest(other_db)
    _refused(settings, f"attach '{other_db}' as other (read_only false)")
    assert _digest(other_db) == before
    with duckdb.connect(str(other_db), read_only=True) as con:
        assert con.execute("select count(*) from t").fetchone() == (1,)


def test_local_files_extensions_and_settings_are_out_of_reach(settings: Settings, other_db: Path) -> None:
    assert "disabled by configuration" in _refused(settings, "select * from read_csv('/etc/passwd')")
    assert "disabled by configuration" in _refused(settings, f"select * from read_csv('{other_db}')")
    _refused(settings, "install httpfs")
    _refused(settings, "load httpfs")
    assert "locked" in _refused(settings, "set enable_external_access = true")
    assert "locked" in _refused(settings, "set memory_limit = '64GB'")


def test_out_is_still_written_by_northstar(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "kpis.parquet"
    assert run_query(settings, "select * from kpi_daily", out=out, console=Console(quiet=True)) == 177  # 59 x 3
    with duckdb.connect() as con:
        assert con.execute(f"select count(*) from read_parquet('{out}')").fetchone() == (177,)
