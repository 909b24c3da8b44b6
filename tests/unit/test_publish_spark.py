"""publish on the spark target: the serving file built from the Parquet Spark writes equals the one built from the
DuckDB warehouse, table by table, column by column (types, comments), row by row. No Spark here: DuckDB writes
the marts in Spark's layout (a folder per mart of part-*.parquet files, _SUCCESS, .crc files), with one timestamp
column as an instant (Spark's TIMESTAMP) and one integer column as a double, and dbt's manifest is written from
the warehouse's own comments and types (dbt writes both from the models' YAML)."""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.errors import UserError
from northstar.serve.publish import publish
from northstar.serve.sample_marts import build_sample_marts
from northstar.spark.marts_source import write_marts_source

TIMESTAMP_AS_INSTANT = ("fct_sessions", "started_at")  # Spark's TIMESTAMP: DuckDB reads it as TIMESTAMPTZ
BIGINT_AS_DOUBLE = ("fct_kpi_daily", "sessions")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comment_like_dbt(con: duckdb.DuckDBPyConnection) -> None:
    """Table and column comments as dbt-duckdb's persist_docs writes them: quotes, an empty description,
    one mart without a description (no table comment)."""
    tables = [
        r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
    ]
    for table in tables:
        if table != "dim_channels":
            con.execute(f"comment on table marts.{table} is {_literal(f'The mart {table!r}: one row per thing.')}")
        columns = [r[0] for r in con.execute(f"describe marts.{table}").fetchall()]
        for i, column in enumerate(columns):
            text = "" if i == 1 else f"{column} of {table}, in the reporting currency's 'units'"
            con.execute(f'comment on column marts.{table}."{column}" is {_literal(text)}')


def _manifest_from(con: duckdb.DuckDBPyConnection) -> dict:
    """dbt's manifest.json, as far as the marts source reads it, for the marts of the warehouse."""
    nodes: dict[str, dict] = {
        "model.northstar.int_x": {"resource_type": "model", "name": "int_x", "schema": "intermediate", "config": {}},
        "seed.northstar.channel_rules": {"resource_type": "seed", "name": "channel_rules", "schema": "seeds"},
        "model.northstar.fct_disabled": {
            "resource_type": "model",
            "name": "fct_disabled",
            "schema": "marts",
            "config": {"enabled": False},
        },
    }
    tables = con.execute(
        "select table_name, coalesce(comment, '') from duckdb_tables() where schema_name = 'marts'"
    ).fetchall()
    for table, comment in tables:
        columns = con.execute(
            "select column_name, lower(data_type), comment from duckdb_columns() "
            "where schema_name = 'marts' and table_name = ? order by column_index",
            [table],
        ).fetchall()
        nodes[f"model.northstar.{table}"] = {
            "resource_type": "model",
            "name": table,
            "alias": table,
            "schema": "marts",
            "config": {"enabled": True, "contract": {"enforced": True}},
            "description": comment,
            "columns": {c: {"name": c, "data_type": t, "description": d or ""} for c, t, d in columns},
        }
    return {"nodes": nodes}


def _write_spark_layout(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """Each mart as Spark writes it: <out>/<mart>/part-0000N-<uuid>-c000.snappy.parquet (rows split in two)."""
    con.execute("set TimeZone = 'America/New_York'")  # instants must come back as UTC wall time anyway
    tables = [
        r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
    ]
    for table in tables:
        folder = out / table
        folder.mkdir(parents=True)
        columns = [r[0] for r in con.execute(f"describe marts.{table}").fetchall()]
        select = []
        for column in columns:
            if (table, column) == TIMESTAMP_AS_INSTANT:
                select.append(f"timezone('UTC', {column}) as {column}")
            elif (table, column) == BIGINT_AS_DOUBLE:
                select.append(f"cast({column} as double) as {column}")
            else:
                select.append(f'"{column}"')
        numbered = f"select {', '.join(select)}, row_number() over () % 2 as _part from marts.{table}"
        for part in (0, 1):
            path = folder / f"part-0000{part}-1b2c3d4e-aaaa-bbbb-cccc-000000000000-c000.snappy.parquet"
            con.execute(
                f"copy (select * exclude (_part) from ({numbered}) where _part = {part}) "
                f"to '{path}' (format parquet, compression snappy)"
            )
            (folder / f".{path.name}.crc").write_bytes(b"crc")
        (folder / "_SUCCESS").write_text("")
    con.execute("reset TimeZone")


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Settings]:
    """(the DuckDB warehouse with the sample marts, the spark settings whose export holds the same marts)."""
    root = tmp_path_factory.mktemp("spark_publish")
    duck = Settings(warehouse_dir=root / "duck", landing_dir=root / "landing", threads=1, memory_limit="1GB")
    duck.warehouse_dir.mkdir()
    build_sample_marts(duck.warehouse_path)
    spark = replace(duck, warehouse_dir=root / "spark_wh", target="spark", spark_export_dir=root / "export" / "marts")
    with duckdb.connect(str(duck.warehouse_path)) as con:
        _comment_like_dbt(con)
        _write_spark_layout(con, spark.spark_marts_dir)
        manifest = _manifest_from(con)
    spark.dbt_target_dir.mkdir(parents=True)
    (spark.dbt_target_dir / "manifest.json").write_text(json.dumps(manifest))
    seed = spark.spark_tables_dir / "seeds.db" / "channel_rules"  # a managed table of Spark's
    seed.mkdir(parents=True)
    with duckdb.connect() as con:
        part = seed / "part-00000-x-c000.parquet"
        con.execute(f"copy (select 'Paid Search' as channel, 3 as rule_order) to '{part}'")
    return duck, spark


def _relations(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, object]:
    """Every table and view of a catalog: kind, comment, and its columns in order (name, type, comment)."""
    out: dict[str, object] = {}
    for schema, name, kind, comment in con.execute(
        """
        select schema_name, table_name, 'table', comment from duckdb_tables() where database_name = ?
        union all
        select schema_name, view_name, 'view', comment from duckdb_views() where database_name = ? and not internal
        """,
        [catalog, catalog],
    ).fetchall():
        columns = con.execute(
            "select column_name, data_type, comment from duckdb_columns() "
            "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
            [catalog, schema, name],
        ).fetchall()
        out[f"{schema}.{name}"] = (kind, comment, columns)
    return out


def test_the_serving_file_from_spark_parquet_equals_the_one_from_duckdb(
    warehouses: tuple[Settings, Settings], tmp_path: Path
) -> None:
    duck, spark = warehouses
    from_duckdb = publish(duck)
    kept = tmp_path / "from_duckdb.duckdb"
    shutil.copyfile(duck.serving_path, kept)
    from_spark = publish(spark)

    assert from_spark.row_counts == from_duckdb.row_counts and len(from_spark.row_counts) == 10
    assert from_spark.views == from_duckdb.views and from_spark.skipped_views == []
    assert from_spark.data_through == from_duckdb.data_through
    assert "Spark's Parquet" in from_spark.source and "build file" in from_duckdb.source
    headers = [path.read_bytes()[12:20] for path in (kept, spark.serving_path)]
    assert headers[0] == headers[1] and 64 <= struct.unpack("<Q", headers[0])[0] <= 68  # same storage version
    with duckdb.connect() as con:
        con.execute(f"attach '{kept}' as a (read_only)")
        con.execute(f"attach '{spark.serving_path}' as b (read_only)")
        a, b = _relations(con, "a"), _relations(con, "b")
        assert a == b  # the same tables and views, columns, types and comments
        assert a["marts.fct_sessions"][2][2] == (
            "started_at",
            "TIMESTAMP",
            "started_at of fct_sessions, in the reporting currency's 'units'",
        )
        assert a["marts.fct_kpi_daily"][1] == "The mart 'fct_kpi_daily': one row per thing."
        for relation in a:
            if relation == "main.northstar_meta":
                continue
            for x, y in (("a", "b"), ("b", "a")):
                diff = con.execute(f"select count(*) from (from {x}.{relation} except all from {y}.{relation})")
                assert diff.fetchone()[0] == 0, relation
        meta = "select * exclude (published_at) from {}.northstar_meta order by mart"
        assert con.execute(meta.format("a")).fetchall() == con.execute(meta.format("b")).fetchall()


def test_instants_come_back_as_utc_wall_time_whatever_the_readers_timezone(
    warehouses: tuple[Settings, Settings],
) -> None:
    duck, spark = warehouses
    source = write_marts_source(spark)
    query = "select min(started_at), max(started_at) from {}marts.fct_sessions"
    with duckdb.connect(str(duck.warehouse_path), read_only=True) as con:
        expected = con.execute(query.format("")).fetchone()
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'Asia/Tokyo'")
        con.execute(f"attach '{source.path}' as s (read_only)")
        assert con.execute(query.format("s.")).fetchone() == expected
    assert source.missing == [] and "fct_disabled" not in source.marts


def test_a_mart_spark_wrote_no_file_for_is_an_empty_table_of_its_contract(
    warehouses: tuple[Settings, Settings], tmp_path: Path
) -> None:
    _, spark = warehouses
    export = tmp_path / "marts"
    shutil.copytree(spark.spark_marts_dir, export)
    for part in (export / "fct_kpi_alerts").glob("part-*"):
        part.unlink()
    empty = replace(spark, warehouse_dir=tmp_path / "wh", spark_export_dir=export)
    empty.dbt_target_dir.mkdir(parents=True)
    shutil.copyfile(spark.dbt_target_dir / "manifest.json", empty.dbt_target_dir / "manifest.json")
    result = publish(empty)
    assert result.row_counts["fct_kpi_alerts"] == 0 and result.row_counts["fct_kpi_daily"] == 177
    with duckdb.connect(str(empty.serving_path), read_only=True) as con:
        types = con.execute("select data_type from duckdb_columns() where table_name = 'fct_kpi_alerts'").fetchall()
    assert types and ("VARCHAR",) in types


def test_a_mart_spark_has_not_written_stops_publish_with_one_line(
    warehouses: tuple[Settings, Settings], tmp_path: Path
) -> None:
    _, spark = warehouses
    export = tmp_path / "marts"
    shutil.copytree(spark.spark_marts_dir, export, ignore=shutil.ignore_patterns("fct_kpi_scorecard"))
    partial = replace(spark, warehouse_dir=tmp_path / "wh", spark_export_dir=export)
    partial.dbt_target_dir.mkdir(parents=True)
    shutil.copyfile(spark.dbt_target_dir / "manifest.json", partial.dbt_target_dir / "manifest.json")
    with pytest.raises(UserError, match=r"Spark has not written fct_kpi_scorecard .*--target spark"):
        publish(partial)
    assert not partial.serving_path.exists()


def test_without_a_spark_build_publish_says_what_to_run(tmp_path: Path) -> None:
    settings = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path / "landing", target="spark")
    with pytest.raises(UserError, match=r"No dbt manifest .*northstar build --target spark"):
        publish(settings)


def test_the_checks_can_join_the_marts_to_the_seeds_spark_loaded(warehouses: tuple[Settings, Settings]) -> None:
    _, spark = warehouses
    source = write_marts_source(spark)
    with duckdb.connect(str(source.path), read_only=True) as con:
        assert con.execute("select * from seeds.channel_rules").fetchall() == [("Paid Search", 3)]
        joined = "select count(*) from marts.fct_sessions join seeds.channel_rules using (channel)"
        assert con.execute(joined).fetchone()[0] > 0
