"""The one workaround that makes Great Expectations 1.x run on DuckDB (through duckdb-engine / SQLAlchemy).

Why: GX opens a fresh SQLAlchemy connection per query for most dialects and closes it before the result
is read; with duckdb-engine that returns nothing, so every expectation fails or raises IndexError
(GX issues 10738 and 11579). GX already keeps one persisted connection for the dialects listed in
`_PERSISTED_CONNECTION_DIALECTS` (sqlite, mssql, ...). We add "duckdb" to that list.

Second rule, also checked by tests/unit/test_gx_duckdb.py: GX's column reflection ignores the schema of
a table asset on DuckDB, so we validate *query* assets (`select * from raw.events`), never table assets.

If a GX upgrade renames or removes the attribute, `apply()` raises and the test fails: re-check the
upstream issues and delete this module if GX supports DuckDB natively.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

_MODULE = "great_expectations.execution_engine.sqlalchemy_execution_engine"
_ATTRIBUTE = "_PERSISTED_CONNECTION_DIALECTS"


class _DuckDBDialect(StrEnum):
    # GX compares entries with `dialect_name in ...` (a str) and reads `.value` on each: a str Enum does both.
    DUCKDB = "duckdb"


def apply() -> None:
    """Make GX keep one connection open for DuckDB. Idempotent; raises if GX changed its internals."""
    import importlib

    engine_module = importlib.import_module(_MODULE)
    dialects = getattr(engine_module, _ATTRIBUTE, None)
    if dialects is None:
        raise RuntimeError(
            f"{_MODULE}.{_ATTRIBUTE} is gone: this Great Expectations version changed how it keeps connections; "
            "update northstar/quality/gx_duckdb.py"
        )
    if any(getattr(d, "value", d) == "duckdb" for d in dialects):
        return
    setattr(engine_module, _ATTRIBUTE, type(dialects)([*dialects, _DuckDBDialect.DUCKDB]))


def is_applied() -> bool:
    import importlib

    dialects = getattr(importlib.import_module(_MODULE), _ATTRIBUTE, ())
    return any(getattr(d, "value", d) == "duckdb" for d in dialects)


def close_datasource(datasource: Any) -> None:
    """Close every connection GX holds for a datasource, so the DuckDB file is free for the next writer.

    GX keeps two SQLAlchemy engines: the datasource's own (used to test the connection) and the execution
    engine's, which with `apply()` also holds one persisted connection.
    """
    execution_engine = getattr(datasource, "_execution_engine", None)
    if execution_engine is not None:
        connection = getattr(execution_engine, "_connection", None)
        if connection is not None:
            connection.close()
            execution_engine._connection = None
        execution_engine.engine.dispose()
    engine = getattr(datasource, "_engine", None)
    if engine is not None:
        engine.dispose()
