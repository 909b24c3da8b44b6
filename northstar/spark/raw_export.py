"""Export the loader's raw.* tables from the DuckDB warehouse to Parquet, where the spark target reads them.

The loader (contract checks, quarantine, manifest) stays on DuckDB: Spark starts from the same validated raw
rows, so both engines build the marts from identical input. The on-run-start hook `register_raw_tables`
(macros/spark.sql) points Spark's raw.* tables at these folders.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from northstar.config import Settings
from northstar.db import connect_warehouse

RAW_TABLES = ("events", "ad_spend", "orders", "leads", "quarantine", "load_manifest")


def export_raw_tables(settings: Settings, on_table: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write each raw table to <warehouse>/spark/raw/<table>/data.parquet (replaced whole); rows per table.

    on_table(name) is called as each table starts (a progress line)."""
    out = settings.spark_raw_path
    counts: dict[str, int] = {}
    with connect_warehouse(settings, read_only=True) as con:
        for table in RAW_TABLES:
            if on_table:
                on_table(table)
            folder = out / table
            staging = out / f".{table}.writing"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            target = str(staging / "data.parquet").replace("'", "''")
            # COPY returns the rows it wrote: no second scan to count them
            counts[table] = con.execute(f"copy raw.{table} to '{target}' (format parquet)").fetchone()[0]
            # Swap in whole, so Spark never reads a half-written table.
            shutil.rmtree(folder, ignore_errors=True)
            staging.rename(folder)
    return counts


def export_line(counts: dict[str, int], seconds: float) -> str:
    """One line for the console and Dagster's log: `raw.* exported for Spark in 1.2 s: events 1,234 · ...`."""
    tables = " · ".join(f"{table} {rows:,}" for table, rows in counts.items())
    return f"raw.* exported to Parquet for Spark in {seconds:.1f} s: {tables}"
