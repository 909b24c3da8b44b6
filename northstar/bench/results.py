"""The result sets every bench implementation computes, how the marts give them, and how two versions are compared.

Each result set is a small table (one row per key) that an implementation (hand-written DuckDB SQL, pandas,
polars) computes from raw.* and the seed CSVs, and that the dbt marts give by the queries below. The marts are the
reference: after the bench's incremental day, every implementation must give the same rows (money and credits
within a relative 1e-9; counts exactly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from northstar.config import PROJECT_DIR, Settings

Row = tuple[object, ...]
Results = dict[str, list[Row]]


@dataclass(frozen=True)
class ResultSet:
    name: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    description: str
    reference_sql: str  # over the marts; columns keys + values

    @property
    def columns(self) -> tuple[str, ...]:
        return self.keys + self.values


RESULT_SETS: dict[str, ResultSet] = {
    r.name: r
    for r in (
        ResultSet(
            "sessions",
            ("session_date", "channel"),
            ("sessions", "visitors", "page_views"),
            "sessions, distinct visitors and page views per day and channel (fct_sessions)",
            """
            select session_date, channel, count(*), count(distinct visitor_id), sum(page_views)
            from marts.fct_sessions group by all
            """,
        ),
        ResultSet(
            "conversions",
            ("conversion_date", "goal_id"),
            ("conversions", "orders", "revenue"),
            "conversions, orders and revenue per goal and day (fct_conversions)",
            # the day the conversion happened (the implementations' conversion_date); the mart's conversion_date
            # is its session's day
            """
            select cast(occurred_at as date), goal_id, count(*), count(*) filter (where is_order),
                sum(coalesce(revenue, 0))
            from marts.fct_conversions group by all
            """,
        ),
        ResultSet(
            "kpi_daily",
            ("date", "channel"),
            (
                "sessions",
                "engaged_sessions",
                "converting_sessions",
                "macro_conversions",
                "micro_conversions",
                "leads",
                "orders",
                "revenue",
                "spend",
                "impressions",
                "clicks",
            ),
            "daily KPIs per channel (fct_kpi_daily summed over campaigns; the orders the tracked sessions carry)",
            # The implementations count tracked conversions on the session's day; fct_kpi_daily counts the orders
            # feed on the order's day and adds the orders tracking missed (untracked_purchases, '(untracked)'), which
            # they do not implement: the reference takes the tracked side (fct_sessions' orders, macro conversions
            # without untracked_purchases, only days and channels with sessions or spend).
            """
            with kpis as (
                select date, channel, sum(sessions) as sessions, sum(engaged_sessions) as engaged,
                    sum(converting_sessions) as converting, sum(macro_conversions - untracked_purchases) as macro,
                    sum(micro_conversions) as micro, sum(leads) as leads, sum(spend) as spend,
                    sum(impressions) as impressions, sum(clicks) as clicks
                from marts.fct_kpi_daily group by all
                having sum(sessions) > 0 or sum(spend) <> 0 or sum(impressions) > 0 or sum(clicks) > 0
            ),
            tracked as (
                select session_date as date, channel, sum(orders) as orders, sum(revenue) as revenue
                from marts.fct_sessions group by all
            )
            select kpis.date, kpis.channel, sessions, engaged, converting, macro, micro, leads,
                coalesce(tracked.orders, 0), coalesce(tracked.revenue, 0), spend, impressions, clicks
            from kpis left join tracked on kpis.date = tracked.date and kpis.channel = tracked.channel
            """,
        ),
        ResultSet(
            "funnel",
            ("session_date", "funnel_id", "stage_order", "channel"),
            ("closed_sessions", "open_sessions"),
            "sessions reaching each funnel stage, closed and open, per day and channel (fct_funnel_daily)",
            """
            select session_date, funnel_id, stage_order, channel, closed_sessions, open_sessions
            from marts.fct_funnel_daily
            """,
        ),
        ResultSet(
            "attribution",
            ("month", "model", "channel"),
            ("conversions", "revenue"),
            "last-touch and linear credit (conversions, revenue) per channel and month (fct_attributed_conversions)",
            """
            select cast(date_trunc('month', converting_session_date) as date), model, channel, sum(credit),
                sum(attributed_revenue)
            from marts.fct_attributed_conversions where model in ('last_touch', 'linear') and is_tracked group by all
            """,
        ),
    )
}


@dataclass(frozen=True)
class Params:
    """The settings the business rules depend on (dbt vars), as the implementations need them."""

    seeds_dir: Path = field(default_factory=lambda: PROJECT_DIR / "seeds")
    session_timeout_minutes: int = 30
    attribution_lookback_days: int = 30
    reporting_currency: str = "USD"
    reporting_timezone: str = "UTC"
    engaged_min_duration_s: float = 10.0  # dbt_project.yml vars
    engaged_min_pageviews: int = 2

    @classmethod
    def from_settings(cls, settings: Settings) -> Params:
        return cls(
            session_timeout_minutes=settings.session_timeout_minutes,
            attribution_lookback_days=settings.attribution_lookback_days,
            reporting_currency=settings.reporting_currency.upper(),
            reporting_timezone=settings.reporting_timezone,
        )

    @property
    def is_utc(self) -> bool:
        return self.reporting_timezone.upper() == "UTC"

    def to_json(self) -> dict[str, object]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Params:
        return cls(**{**data, "seeds_dir": Path(str(data["seeds_dir"]))})  # type: ignore[arg-type]


def _plain(value: object) -> object:
    """A JSON-able, comparable scalar: dates as ISO strings, numbers as int or float."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bool):
        return value
    if hasattr(value, "item"):  # numpy / pandas scalars
        return _plain(value.item())
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def normalise(rows: list[tuple] | list[list]) -> list[Row]:
    """Rows as plain tuples, sorted (None sorts first)."""
    out = [tuple(_plain(v) for v in r) for r in rows]
    return sorted(out, key=lambda r: tuple((v is not None, v) for v in r))


def reference_results(con) -> Results:
    """The result sets as the marts give them."""
    return {name: normalise(con.execute(rs.reference_sql).fetchall()) for name, rs in RESULT_SETS.items()}


def _same(a: object, b: object) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return a == b


@dataclass(frozen=True)
class Diff:
    """How one result set of an implementation differs from the reference."""

    reference_rows: int
    rows: int
    missing: int  # keys in the reference only
    extra: int  # keys in the implementation only
    changed: int  # same key, a value differs
    examples: tuple[str, ...] = ()

    @property
    def differing(self) -> int:
        return self.missing + self.extra + self.changed

    @property
    def equal(self) -> bool:
        return self.differing == 0


def compare(name: str, reference: list[Row], rows: list[Row], max_examples: int = 3) -> Diff:
    """Rows matched by key; values equal (floats within a relative 1e-9)."""
    n = len(RESULT_SETS[name].keys)
    ref = {tuple(r[:n]): r[n:] for r in reference}
    got = {tuple(r[:n]): r[n:] for r in rows}
    missing = [k for k in ref if k not in got]
    extra = [k for k in got if k not in ref]
    changed = [k for k in ref if k in got and not all(_same(a, b) for a, b in zip(ref[k], got[k], strict=True))]
    examples = [f"{k}: marts {ref[k]} vs {got[k]}" for k in changed[:max_examples]]
    examples += [f"{k}: only in the marts {ref[k]}" for k in missing[: max(0, max_examples - len(examples))]]
    examples += [f"{k}: not in the marts {got[k]}" for k in extra[: max(0, max_examples - len(examples))]]
    return Diff(len(ref), len(got), len(missing), len(extra), len(changed), tuple(examples))


def compare_all(reference: Results, results: Results) -> dict[str, Diff]:
    return {name: compare(name, reference.get(name, []), results.get(name, [])) for name in RESULT_SETS}
