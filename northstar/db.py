"""Opening the DuckDB files: the build file read-write (one writer), the serving file read-only."""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.config import Settings
from northstar.errors import UserError


class WarehouseMissingError(UserError, FileNotFoundError):
    """The warehouse or serving file a read needs is not there yet; the message names the command that makes it."""


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


# The serving and query paths can read the serving file and nothing else: no other file (read_csv, glob, ATTACH),
# no copy-out (COPY ... TO, EXPORT DATABASE), no extension install or load, no settings change (locked after
# these). `northstar query --out` writes its file itself, from the fetched result (serve/query.py).
SERVING_LOCKDOWN = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


def connect_serving(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The published serving file, read-only (a running build never blocks readers) and locked down as above."""
    path = settings.serving_path
    if not path.exists():
        raise WarehouseMissingError(f"No serving file at {path}: run `northstar publish` (or `make demo`) first.")
    config = {**SERVING_LOCKDOWN, "memory_limit": settings.memory_limit, "threads": int(settings.threads)}
    return duckdb.connect(str(path), read_only=True, config=config)
