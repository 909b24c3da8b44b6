"""The one result every benchmark implementation computes, written three ways: DuckDB SQL, pandas and polars.

The result: sessions (a device's events, i.e. one anonymous_id, with no gap longer than the timeout; a gap of
exactly the timeout stays in the session; events ordered by occurred_at then event_id) and the sessions with at
least one macro-conversion event, per day the session starts (UTC) and medium of the session's first event
(raw utm_medium, NULL -> '(none)'). Rows are `(day 'YYYY-MM-DD', medium, sessions, macro_sessions)`, sorted.

It is deliberately simpler than the dbt models (no source session_id, no page_url tag parsing, no consent rules):
what is compared is the cost of the same sessionization, not the business rules on top of it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from northstar.config import PROJECT_DIR

Row = tuple[str, str, int, int]

# Only the columns the result needs are read, the same in every implementation.
EVENTS_QUERY = "select anonymous_id, occurred_at, event_id, event_name, utm_medium from raw.events"


def macro_event_names(goals_csv: Path | None = None) -> list[str]:
    """Event names of the macro goals matched by event (seeds/conversion_goals.csv), sorted."""
    path = goals_csv or PROJECT_DIR / "seeds" / "conversion_goals.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    names = {r["match_value"] for r in rows if r["goal_type"] == "macro" and r["match_type"] == "event"}
    return sorted(names)


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "null"


def baseline_sql(timeout_minutes: int, macro_events: list[str]) -> str:
    """The hand-written baseline query over raw.events."""
    return f"""
with

events as (
    {EVENTS_QUERY}
),

flagged as (
    select
        *,
        case
            when lag(occurred_at) over by_device is null then 1
            when occurred_at - lag(occurred_at) over by_device > interval '{int(timeout_minutes)} minutes' then 1
            else 0
        end as is_session_start
    from events
    window by_device as (partition by anonymous_id order by occurred_at, event_id)
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by anonymous_id order by occurred_at, event_id rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

sessions as (
    select
        anonymous_id,
        session_number,
        cast(min(occurred_at) as date) as session_date,
        max(case when is_session_start = 1 then coalesce(utm_medium, '(none)') end) as medium,
        max(case when event_name in ({_sql_list(macro_events)}) then 1 else 0 end) as has_macro
    from numbered
    group by anonymous_id, session_number
),

final as (
    select
        strftime(session_date, '%Y-%m-%d') as day,
        medium,
        count(*) as sessions,
        cast(sum(has_macro) as bigint) as macro_sessions
    from sessions
    group by session_date, medium
)

select * from final order by day, medium
"""


def sessions_sql(con: duckdb.DuckDBPyConnection, timeout_minutes: int, macro_events: list[str]) -> list[Row]:
    """The baseline: one DuckDB query."""
    rows = con.execute(baseline_sql(timeout_minutes, macro_events)).fetchall()
    return [(str(d), str(m), int(s), int(c)) for d, m, s, c in rows]


def sessions_pandas(con: duckdb.DuckDBPyConnection, timeout_minutes: int, macro_events: list[str]) -> list[Row]:
    """raw.events into a pandas DataFrame, sessionized with sort + shift + cumsum."""
    import pandas as pd

    df = con.execute(EVENTS_QUERY).df()
    df = df.sort_values(["anonymous_id", "occurred_at", "event_id"], kind="stable", ignore_index=True)
    # After the sort a device's events are contiguous: a session starts at a new device or after a long gap.
    new_device = df["anonymous_id"].ne(df["anonymous_id"].shift())
    long_gap = (df["occurred_at"] - df["occurred_at"].shift()) > pd.Timedelta(minutes=timeout_minutes)
    is_start = new_device | long_gap
    session = is_start.cumsum()
    starts = df.loc[is_start, ["occurred_at", "utm_medium"]]
    sessions = pd.DataFrame(
        {
            "day": starts["occurred_at"].dt.strftime("%Y-%m-%d").to_numpy(),
            "medium": starts["utm_medium"].astype(object).where(starts["utm_medium"].notna(), "(none)").to_numpy(),
            "has_macro": df["event_name"].isin(macro_events).groupby(session).any().to_numpy(),
        }
    )
    out = sessions.groupby(["day", "medium"], sort=True).agg(
        sessions=("has_macro", "size"), macro_sessions=("has_macro", "sum")
    )
    counts = zip(out.index, out["sessions"], out["macro_sessions"], strict=True)
    return [(str(d), str(m), int(s), int(c)) for (d, m), s, c in counts]


def sessions_polars(con: duckdb.DuckDBPyConnection, timeout_minutes: int, macro_events: list[str]) -> list[Row]:
    """raw.events into a polars DataFrame (via Arrow), sessionized in a lazy query."""
    import polars as pl

    df = con.sql(EVENTS_QUERY).pl()
    new_device = (pl.col("anonymous_id") != pl.col("anonymous_id").shift()).fill_null(True)
    gap = pl.col("occurred_at") - pl.col("occurred_at").shift()
    long_gap = (gap > pl.duration(minutes=timeout_minutes)).fill_null(False)
    out = (
        df.lazy()
        .sort(["anonymous_id", "occurred_at", "event_id"])
        .with_columns((new_device | long_gap).cum_sum().alias("session"))
        .group_by("session")
        .agg(
            pl.col("occurred_at").first().dt.strftime("%Y-%m-%d").alias("day"),
            pl.col("utm_medium").first().fill_null("(none)").alias("medium"),
            pl.col("event_name").is_in(macro_events).any().alias("has_macro"),
        )
        .group_by(["day", "medium"])
        .agg(pl.len().alias("sessions"), pl.col("has_macro").sum().alias("macro_sessions"))
        .sort(["day", "medium"])
        .collect()
    )
    return [(str(d), str(m), int(s), int(c)) for d, m, s, c in out.iter_rows()]


IMPLEMENTATIONS = {"sql": sessions_sql, "pandas": sessions_pandas, "polars": sessions_polars}


def per_day(rows: list[Row]) -> dict[str, tuple[int, int]]:
    """(sessions, macro_sessions) per day, over all media."""
    out: dict[str, tuple[int, int]] = {}
    for day, _medium, s, c in rows:
        s0, c0 = out.get(day, (0, 0))
        out[day] = (s0 + s, c0 + c)
    return out
