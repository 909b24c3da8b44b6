"""The hand-written DuckDB baseline: baseline.sql run over raw.* and the seed CSVs on a warehouse connection."""

from __future__ import annotations

import re
from pathlib import Path

from northstar.bench.results import RESULT_SETS, Params, Results, normalise

SQL_PATH = Path(__file__).with_name("baseline.sql")


def _literal(value: str) -> str:
    return value.replace("'", "''")


def render_sql(params: Params) -> str:
    """baseline.sql with its dollar-brace placeholders filled in (an unknown placeholder is an error)."""
    tz = _literal(params.reporting_timezone)
    values = {
        "to_local": "ts" if params.is_utc else f"((ts at time zone 'UTC') at time zone '{tz}')",
        "seeds_dir": _literal(str(params.seeds_dir)),
        "currency": _literal(params.reporting_currency),
        "timeout_us": str(int(params.session_timeout_minutes) * 60 * 1_000_000),
        "lookback_days": str(int(params.attribution_lookback_days)),
        "engaged_min_duration_s": repr(float(params.engaged_min_duration_s)),
        "engaged_min_pageviews": str(int(params.engaged_min_pageviews)),
    }
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], SQL_PATH.read_text(encoding="utf-8"))


def compute(con, params: Params) -> Results:
    """Run the script (it leaves temp tables res_<name>) and fetch every result set."""
    con.execute(render_sql(params))
    return {
        name: normalise(con.execute(f"select {', '.join(rs.columns)} from res_{name}").fetchall())
        for name, rs in RESULT_SETS.items()
    }
