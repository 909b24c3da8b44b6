"""One benchmark step in its own process, so its peak RSS is its own: `python -m northstar.bench.worker SPEC.json`.

The spec names the step, the settings, the landing files (load steps) and where to write the outcome: wall seconds
of the work (interpreter start and library imports excluded; dbt steps include the dbt subprocess), the events the
step handled, a note, and for the implementations their result sets.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import fields
from pathlib import Path

from northstar.config import Settings
from northstar.terminal import make_console

IMPLEMENTATIONS = ("sql", "pandas", "polars")
MODULES = {
    "sql": "northstar.bench.baseline",
    "pandas": "northstar.bench.pandas_impl",
    "polars": "northstar.bench.polars_impl",
}


def settings_to_json(settings: Settings) -> dict[str, object]:
    return {f.name: str(v) if isinstance(v := getattr(settings, f.name), Path) else v for f in fields(settings)}


def settings_from_json(data: dict[str, object]) -> Settings:
    kwargs = dict(data)
    for key in ("warehouse_dir", "landing_dir"):
        kwargs[key] = Path(str(kwargs[key]))
    return Settings(**kwargs)  # type: ignore[arg-type]


def _count_events(settings: Settings) -> int:
    from northstar.db import connect_warehouse

    con = connect_warehouse(settings, read_only=True)
    try:
        return int(con.execute("select count(*) from raw.events").fetchone()[0])  # type: ignore[index]
    finally:
        con.close()


def _load(settings: Settings, paths: list[str]) -> dict[str, object]:
    from northstar.ingest.load import load_paths

    t0 = time.perf_counter()
    report = load_paths(settings, paths, progress=False)
    wall = time.perf_counter() - t0
    if report.errors:
        raise RuntimeError("load failed: " + "; ".join(report.errors[:3]))
    totals = report.totals()
    note = f"{len(paths)} files, {totals['rows_loaded']:,} rows loaded, {totals['rows_quarantined']:,} quarantined"
    return {"wall_s": wall, "events_total": _count_events(settings), "note": note}


def _dbt_note(nodes: list, wall: float, threads: int) -> str:
    """Where a build's time went: node time per kind (summed over threads); the rest is dbt's start-up, parse and
    compile, plus stretches where one thread waits for the other (a chain of models that depend on each other)."""
    per_kind: dict[str, float] = {}
    for node in nodes:
        per_kind[node.resource_type] = per_kind.get(node.resource_type, 0.0) + node.execution_time
    labels = {"seed": "seeds", "model": "models", "test": "data tests", "unit_test": "unit tests"}
    parts = [f"{labels.get(k, k)} {v:.1f}s" for k, v in sorted(per_kind.items(), key=lambda kv: -kv[1])]
    total = sum(per_kind.values())
    overhead = max(wall - total / max(threads, 1), 0.0)
    return (
        f"node time {', '.join(parts) or 'none'}; ~{overhead:.0f}s of {wall:.0f}s is outside the nodes' time over "
        f"{threads} threads (dbt start-up, parse, compile, one thread waiting for the other)"
    )


def _build(settings: Settings, full_refresh: bool, log_path: Path) -> dict[str, object]:

    from northstar.build import run_dbt_build

    with log_path.open("w", encoding="utf-8") as log:
        t0 = time.perf_counter()
        result = run_dbt_build(settings, full_refresh=full_refresh, console=make_console(file=log, width=200))
        wall = time.perf_counter() - t0
    if not result.success:
        failed = ", ".join(f"{n.resource_type} {n.name}" for n in result.failures[:3])
        raise RuntimeError(f"dbt build failed ({failed or result.error}); log {log_path}")
    return {"wall_s": wall, "note": _dbt_note(result.nodes, wall, settings.threads)}


def _implementation(step: str, settings: Settings, params_json: dict[str, object]) -> dict[str, object]:
    import importlib

    from northstar.bench.results import Params
    from northstar.db import connect_warehouse

    module = importlib.import_module(MODULES[step])
    if step == "pandas":
        import pandas  # noqa: F401  (import time is not the work being measured)
    elif step == "polars":
        import polars  # noqa: F401
    params = Params.from_json(params_json)
    t0 = time.perf_counter()
    con = connect_warehouse(settings, read_only=True)  # the threads and memory_limit of every northstar connection
    try:
        results = module.compute(con, params)
    finally:
        con.close()
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "results": results, "note": ""}


def run_step(spec: dict) -> dict[str, object]:
    step = spec["step"]
    settings = settings_from_json(spec["settings"])
    if step in ("load", "load_day"):
        return _load(settings, list(spec["paths"]))
    if step in ("build_full", "build_incremental", "build_noop"):
        return _build(settings, full_refresh=step == "build_full", log_path=Path(spec["log"]))
    if step in IMPLEMENTATIONS:
        return _implementation(step, settings, spec["params"])
    raise ValueError(f"unknown bench step {step!r}")


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        outcome = run_step(spec)
        outcome["error"] = None
    except Exception as exc:  # reported in the bench table, not as a traceback
        outcome = {"wall_s": None, "note": "", "error": f"{type(exc).__name__}: {exc}"}
    Path(spec["out"]).write_text(json.dumps(outcome), encoding="utf-8")
    return 0 if outcome["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
