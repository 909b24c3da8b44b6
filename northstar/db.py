"""Opening the DuckDB files: the build file read-write (one writer), the serving file read-only."""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.config import Settings


class WarehouseMissingError(FileNotFoundError):
    pass


def connect_warehouse(settings: Settings, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The build warehouse. Creates the directory on write; explains a missing file on read."""
    path: Path = settings.warehouse_path
    if read_only and not path.exists():
        raise WarehouseMissingError(f"No warehouse at {path}: run `northstar load` (or `make demo`) first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute(f"set memory_limit = '{settings.memory_limit}'")
    con.execute(f"set threads = {int(settings.threads)}")
    return con


def connect_serving(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The published serving file, always read-only so a running build never blocks readers."""
    path = settings.serving_path
    if not path.exists():
        raise WarehouseMissingError(f"No serving file at {path}: run `northstar publish` (or `make demo`) first.")
    return duckdb.connect(str(path), read_only=True)
