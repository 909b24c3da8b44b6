"""One benchmark step in its own process, so its peak RSS is its own: `python -m northstar.bench.worker SPEC.json`.

The spec names the step (load, sql, pandas, polars, dbt), the settings and where to write the outcome: wall seconds
of the work (imports and interpreter start excluded; for dbt the whole dbt subprocess), and the result rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

from northstar.config import Settings

# What `northstar build` would run for fct_sessions: its upstream models, seeds and the tests and unit tests whose
# parents are all selected (cautious: a relationships test to an unselected mart would fail on a fresh warehouse).
DBT_BUILD_ARGS = ("build", "--select", "+fct_sessions", "--indirect-selection", "cautious", "--no-use-colors")

# The dbt path's result, per day only: its medium comes from parsed page_url tags and referrers, not raw utm_medium.
DBT_RESULT_SQL = """
select
    strftime(session_date, '%Y-%m-%d') as day,
    '(all)' as medium,
    count(*) as sessions,
    cast(sum(case when macro_conversions > 0 then 1 else 0 end) as bigint) as macro_sessions
from marts.fct_sessions
group by session_date
order by day
"""


def settings_to_json(settings: Settings) -> dict[str, object]:
    return {f.name: str(v) if isinstance(v := getattr(settings, f.name), Path) else v for f in fields(settings)}


def settings_from_json(data: dict[str, object]) -> Settings:
    kwargs = dict(data)
    for key in ("warehouse_dir", "landing_dir"):
        kwargs[key] = Path(str(kwargs[key]))
    return Settings(**kwargs)  # type: ignore[arg-type]


def _connect(settings: Settings):
    from northstar.db import connect_warehouse

    return connect_warehouse(settings, read_only=True)


def _dbt_node_times(settings: Settings, wall: float) -> str:
    """Where dbt's time went, from run_results.json: node time per kind (summed over threads), the rest overhead."""
    path = settings.dbt_target_dir / "run_results.json"
    if not path.exists():
        return ""
    per_kind: dict[str, float] = {}
    for r in json.loads(path.read_text(encoding="utf-8")).get("results", []):
        kind = str(r.get("unique_id", "")).split(".")[0]
        per_kind[kind] = per_kind.get(kind, 0.0) + float(r.get("execution_time") or 0.0)
    labels = {"seed": "seeds", "model": "models", "test": "data tests", "unit_test": "unit tests"}
    parts = [f"{labels.get(k, k)} {v:.1f}s" for k, v in sorted(per_kind.items(), key=lambda kv: -kv[1])]
    total = sum(per_kind.values())
    # With perfect use of the threads the nodes take total/threads; the rest of the wall time is dbt itself.
    overhead = max(wall - total / max(settings.threads, 1), 0.0)
    return (
        f"node time {', '.join(parts)} = {total:.1f}s over {settings.threads} threads; "
        f"up to {overhead:.0f}s of the {wall:.0f}s wall time is dbt start-up, parse and compile"
    )


def run_step(step: str, settings: Settings, macro_events: list[str], log_path: Path) -> dict[str, object]:
    """Do one step; return {'wall_s', 'rows', 'note'}."""
    if step == "load":
        from northstar.ingest.load import load_paths

        t0 = time.perf_counter()
        report = load_paths(settings, [str(settings.landing_dir)], progress=False)
        wall = time.perf_counter() - t0
        if report.errors:
            raise RuntimeError("load failed: " + "; ".join(report.errors[:3]))
        totals = report.totals()
        return {"wall_s": wall, "rows": [], "note": f"{totals['rows_loaded']:,} rows loaded"}
    if step == "dbt":
        from northstar.build import dbt_args, dbt_subprocess_env

        cmd = dbt_args(settings, *DBT_BUILD_ARGS)
        with log_path.open("w", encoding="utf-8") as log:
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, env=dbt_subprocess_env(settings), stdout=log, stderr=subprocess.STDOUT)
            wall = time.perf_counter() - t0
        if proc.returncode != 0:
            tail = "\n".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-8:])
            raise RuntimeError(f"dbt build failed (log {log_path}):\n{tail}")
        con = _connect(settings)
        try:
            rows = con.execute(DBT_RESULT_SQL).fetchall()
        finally:
            con.close()
        return {"wall_s": wall, "rows": [list(r) for r in rows], "note": _dbt_node_times(settings, wall)}

    from northstar.bench.core import IMPLEMENTATIONS

    impl = IMPLEMENTATIONS[step]
    if step == "pandas":
        import pandas  # noqa: F401  (import time is not the work being measured)
    elif step == "polars":
        import polars  # noqa: F401
    t0 = time.perf_counter()
    con = _connect(settings)  # the same threads and memory_limit as every northstar connection
    try:
        rows = impl(con, settings.session_timeout_minutes, macro_events)
    finally:
        con.close()
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "rows": [list(r) for r in rows], "note": ""}


def main(argv: list[str]) -> int:
    spec_path = Path(argv[0])
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    out_path = Path(spec["out"])
    try:
        outcome = run_step(
            spec["step"], settings_from_json(spec["settings"]), list(spec["macro_events"]), Path(spec["log"])
        )
        outcome["error"] = None
    except Exception as exc:  # reported in the bench table, not as a traceback
        outcome = {"wall_s": None, "rows": [], "note": "", "error": f"{type(exc).__name__}: {exc}"}
    out_path.write_text(json.dumps(outcome), encoding="utf-8")
    return 0 if outcome["error"] is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
