"""Helpers of the source adapter tests: load samples into a warehouse, read what landed.

Import as `from sourcetest import SAMPLES, load, rows` (pytest puts this directory on sys.path).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.config import Settings
from northstar.ingest.load import LoadReport, load_paths

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "sources"


def load(settings: Settings, *paths: Path | str, source: str | None = None, kind: str | None = None) -> LoadReport:
    """northstar load of the given files (no progress bar)."""
    return load_paths(settings, [str(p) for p in paths], kind=kind, source=source, progress=False)


def rows(settings: Settings, sql: str) -> list[tuple]:
    """Query the warehouse read-only (what an analyst would see)."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()
