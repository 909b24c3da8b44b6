"""The marts Spark wrote, as a small DuckDB file of views, so publish and the quality checks read them as they
read the build file on DuckDB (Settings.marts_db_path).

Spark writes each mart as a folder of part-*.parquet files under NORTHSTAR_SPARK_EXPORT_PATH (dbt_project.yml,
`location_root` of the marts). The file holds one view per mart over its folder, in schema `marts`, one per
raw table over the Parquet Spark read, in schema `raw`, and one per seed Spark loaded, in schema `seeds` (the
checks join to them). Each mart view has the column order and types of the model's contract (the types the DuckDB
build gives the mart) and the model's descriptions as comments (what persist_docs writes on DuckDB), both from
dbt's manifest. Views only: writing the file copies no data.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from northstar.config import Settings
from northstar.errors import UserError
from northstar.spark.raw_export import RAW_TABLES


@dataclass
class MartModel:
    """One mart as dbt's manifest describes it: its relation name, description and contract columns in order."""

    name: str
    description: str
    columns: list[tuple[str, str, str]] = field(default_factory=list)  # (name, data_type, description)


@dataclass
class MartsSource:
    path: Path
    marts: list[str]
    missing: list[str]  # marts of the project with no Parquet folder (not built on Spark yet)


def _manifest_nodes(manifest_path: Path) -> list[dict]:
    if not manifest_path.exists():
        raise UserError(f"No dbt manifest at {manifest_path}: run `northstar build --target spark` first.")
    return list(json.loads(manifest_path.read_text(encoding="utf-8")).get("nodes", {}).values())


def mart_models(manifest_path: Path) -> list[MartModel]:
    """The enabled models of schema `marts` in a dbt manifest.json, sorted by name."""
    models = []
    for node in _manifest_nodes(manifest_path):
        config = node.get("config") or {}
        if node.get("resource_type") != "model" or node.get("schema") != "marts" or not config.get("enabled", True):
            continue
        columns = [
            (c["name"], c.get("data_type") or "", c.get("description") or "")
            for c in (node.get("columns") or {}).values()
        ]
        models.append(MartModel(node.get("alias") or node["name"], node.get("description") or "", columns))
    return sorted(models, key=lambda m: m.name)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _duckdb_type(con: duckdb.DuckDBPyConnection, data_type: str) -> str | None:
    """DuckDB's name for a contract data_type (`string` -> VARCHAR), or None when DuckDB does not know it."""
    if not data_type:
        return None
    try:
        return con.execute(f"select typeof(cast(null as {data_type}))").fetchone()[0]
    except duckdb.Error:
        return None


def _column_sql(name: str, parquet_type: str, wanted: str | None) -> str:
    """A column of the view with the contract's type. Spark writes timestamps as instants (session timezone
    UTC, profiles.yml); one read back as TIMESTAMP WITH TIME ZONE becomes UTC wall time, whatever the reader's
    timezone, as the DuckDB build stores it."""
    ident = _quote_ident(name)
    if wanted is None or parquet_type == wanted:
        return ident
    if parquet_type == "TIMESTAMP WITH TIME ZONE" and wanted.startswith("TIMESTAMP"):
        return f"cast(timezone('UTC', {ident}) as {wanted}) as {ident}"
    return f"cast({ident} as {wanted}) as {ident}"


def _mart_view(con: duckdb.DuckDBPyConnection, model: MartModel, folder: Path) -> str:
    """The select of one mart's view: its Parquet files, columns in the contract's order and types."""
    wanted = {name: _duckdb_type(con, data_type) for name, data_type, _ in model.columns}
    files = sorted(folder.glob("part-*.parquet"))
    if not files:  # Spark wrote no data file (an empty result): an empty view of the contract's columns
        if not model.columns or None in wanted.values():
            raise UserError(f"{folder} has no part-*.parquet files and {model.name} has no typed contract")
        cols = ", ".join(f"cast(null as {wanted[n]}) as {_quote_ident(n)}" for n, _, _ in model.columns)
        return f"select {cols} where false"
    source = f"read_parquet({_quote_str(str(folder / 'part-*.parquet'))})"
    found = dict(con.execute(f"select column_name, column_type from (describe select * from {source})").fetchall())
    order = [n for n, _, _ in model.columns if n in found] + [n for n in found if n not in wanted]
    return f"select {', '.join(_column_sql(n, found[n], wanted.get(n)) for n in order)} from {source}"


def _newest_manifest(settings: Settings) -> Path:
    """`northstar build`'s manifest or Dagster's (orchestration/resources.py parses into dagster/), the newer."""
    candidates = [settings.dbt_target_dir / "manifest.json", settings.dbt_target_dir / "dagster" / "manifest.json"]
    found = [p for p in candidates if p.exists()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else candidates[0]


def write_marts_source(settings: Settings, manifest_path: Path | None = None) -> MartsSource:
    """(Re)write settings.marts_db_path: views over the marts Spark wrote and the raw tables it read.

    Replaced whole by one rename, so a reader never opens a half-written file.
    """
    manifest_path = manifest_path or _newest_manifest(settings)
    models = mart_models(manifest_path)
    # seeds (Spark's managed tables) too: the checks join marts to seeds.channel_rules and seeds.conversion_goals
    seeds = sorted(
        (n["schema"], n.get("alias") or n["name"])
        for n in _manifest_nodes(manifest_path)
        if n.get("resource_type") == "seed" and (n.get("config") or {}).get("enabled", True)
    )
    path = settings.marts_db_path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    marts, missing = [], []
    try:
        with duckdb.connect() as con:
            # attached under a fixed name: a file's own catalog name (its stem) could clash with schema `marts`
            con.execute(f"attach {_quote_str(str(tmp))} as spark_source")
            con.execute("use spark_source")
            con.execute("create schema raw")
            for table in RAW_TABLES:
                folder = settings.spark_raw_path / table
                if any(folder.glob("*.parquet")):
                    glob = _quote_str(str(folder / "*.parquet"))
                    con.execute(f"create view raw.{_quote_ident(table)} as select * from read_parquet({glob})")
            for schema, seed in seeds:
                folder = settings.spark_tables_dir / f"{schema}.db" / seed
                if any(folder.glob("part-*.parquet")):
                    glob = _quote_str(str(folder / "part-*.parquet"))
                    con.execute(f"create schema if not exists {_quote_ident(schema)}")
                    relation = f"{_quote_ident(schema)}.{_quote_ident(seed)}"
                    con.execute(f"create view {relation} as select * from read_parquet({glob})")
            con.execute("create schema marts")
            for model in models:
                folder = settings.spark_marts_dir / model.name
                if not folder.is_dir():
                    missing.append(model.name)
                    continue
                relation = f"marts.{_quote_ident(model.name)}"
                con.execute(f"create view {relation} as {_mart_view(con, model, folder)}")
                if model.description:
                    con.execute(f"comment on view {relation} is {_quote_str(model.description)}")
                # as dbt-duckdb's persist_docs: every YAML column the relation has, an empty description too
                in_view = {r[0] for r in con.execute(f"describe {relation}").fetchall()}
                for column, _, description in model.columns:
                    if column in in_view:
                        con.execute(f"comment on column {relation}.{_quote_ident(column)} is {_quote_str(description)}")
                marts.append(model.name)
            con.execute("use memory")
            con.execute("detach spark_source")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return MartsSource(path=path, marts=marts, missing=missing)
