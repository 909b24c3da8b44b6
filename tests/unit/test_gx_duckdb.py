"""The GX-on-DuckDB workaround (northstar/quality/gx_duckdb.py): fails when a GX upgrade breaks it."""

from __future__ import annotations

import importlib

import duckdb
import pytest

from northstar.quality import gx_duckdb

gx = pytest.importorskip("great_expectations")


def test_gx_still_has_the_persisted_connection_list() -> None:
    module = importlib.import_module(gx_duckdb._MODULE)
    dialects = getattr(module, gx_duckdb._ATTRIBUTE)
    # Entries must have a `.value` (GX calls str.startswith(d.value)) and compare equal to dialect names.
    assert all(hasattr(d, "value") for d in dialects)
    gx_duckdb.apply()
    gx_duckdb.apply()  # idempotent
    dialects = getattr(module, gx_duckdb._ATTRIBUTE)
    assert gx_duckdb.is_applied()
    assert sum(1 for d in dialects if d.value == "duckdb") == 1
    assert "duckdb" in dialects  # what SqlAlchemyExecutionEngine.get_connection checks


def test_real_expectations_pass_and_fail_on_duckdb(tmp_path) -> None:
    path = tmp_path / "tiny.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.t as select * from (values (1, 0.5), (2, 0.25), (3, 1.0)) as v(id, rate)")
    con.close()

    gx_duckdb.apply()
    context = gx.get_context(mode="ephemeral")
    datasource = context.data_sources.add_sql(
        name="wh", connection_string=f"duckdb:///{path}", kwargs={"connect_args": {"read_only": True}}
    )
    batch = datasource.add_query_asset(name="t", query="select * from marts.t").add_batch_definition_whole_table("all")
    batch = batch.get_batch()
    try:
        between = gx.expectations.ExpectColumnValuesToBeBetween
        passing = batch.validate(between(column="rate", min_value=0, max_value=1))
        violated = batch.validate(between(column="rate", min_value=0, max_value=0.9))
        rows = batch.validate(
            gx.expectations.UnexpectedRowsExpectation(unexpected_rows_query="select * from {batch} where id > 2")
        )
    finally:
        gx_duckdb.close_datasource(datasource)

    assert passing.success is True
    assert passing.result["element_count"] == 3
    assert violated.success is False
    assert violated.result["unexpected_count"] == 1  # rate 1.0 > 0.9
    assert rows.success is False
    assert rows.result["observed_value"] == 1
    # The persisted connection is closed: a writer can open the file again in this process.
    duckdb.connect(str(path)).close()
