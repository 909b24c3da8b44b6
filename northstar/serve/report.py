"""`northstar report`: one self-contained HTML KPI report, read from the serving file only.

Everything is inline (CSS, a small hand-written script, SVG charts, the data as embedded JSON) and a
Content-Security-Policy forbids fetching anything, so the file opens offline, by e-mail, from a share.
Numbers come from the marts as published; the report only sums additive columns over days or channels and
takes ratios of those sums with the definitions of MARTS.md (never averages of daily ratios).

This module reads the serving file (load_report_data); report_view turns what it read into the values each
section shows; the Jinja2 templates under serve/templates/ write the page (report_assets).

One month filter (in the header) applies to every section: the page holds each section once per month (the
latest MAX_MONTHS months), the filter shows one of them, and the funnel and trend charts redraw for it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from northstar.config import Settings
from northstar.db import connect_serving
from northstar.errors import UserError
from northstar.serve.query import channel_kpis
from northstar.serve.report_assets import KPI_DEFINITIONS, OTHER_DEFINITIONS  # noqa: F401  (re-exported)

SECTIONS = [
    ("north-star", "North star"),
    ("scorecard", "Scorecard"),
    ("funnel", "Funnel"),
    ("channels", "Channels"),
    ("campaigns", "Campaigns"),
    ("trends", "Trends & alerts"),
    ("tracking", "Tracking health"),
    ("reconciliation", "Reconciliation"),
    ("attribution", "Attribution"),
    ("definitions", "Definitions"),
]

# KPIs that are sums over days (the scorecard pro-rates their targets; the report pro-rates comparisons).
ADDITIVE_KPIS = {
    "sessions",
    "visitors",
    "goal_score",
    "leads",
    "orders",
    "revenue",
    "gross_margin",
    "spend",
    "impressions",
    "clicks",
}
# A month with fewer days of data than this is too young to report on (see _report_month).
MIN_DAYS_FOR_MONTH = 7
# The month filter offers the latest MAX_MONTHS months with data (older ones: the serving file's views).
MAX_MONTHS = 12
# Alerts listed: those fired in the month shown, at most MAX_ALERTS.
MAX_ALERTS = 40
VERDICT_ORDER = {"cut": 0, "fix": 1, "scale": 2, "keep": 3, "not enough data": 4}
# The trend charts, in order (templates/report.js computes each from the daily sums).
TREND_KPIS = [
    "gross_margin",
    "revenue",
    "spend",
    "sessions",
    "engagement_rate",
    "conversion_rate",
    "micro_conversion_rate",
    "orders",
    "aov",
    "leads",
    "cpa",
    "roas",
]
# Additive columns of kpi_daily summed per day and channel for the trend charts.
DAILY_COLUMNS = [
    "spend",
    "sessions",
    "engaged_sessions",
    "converting_sessions",
    "micro_converting_sessions",
    "macro_conversions",
    "leads",
    "orders",
    "revenue",
    "gross_margin",
]


@dataclass
class ReportData:
    """What the report shows for one month. The per-day data (alerts, daily, funnel, tracking, reconciliation) is
    the same for every month; the views pick the month's days (through: its last day with data)."""

    meta: dict
    month: date | None
    month_note: str = ""
    through: date | None = None
    # the report's default month (the one shown before the reader picks another)
    is_default: bool = True
    scorecard: list[dict] = field(default_factory=list)
    previous: dict[tuple[str, str, str], float | None] = field(default_factory=dict)
    channels: list[dict] = field(default_factory=list)
    campaigns: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    attribution: list[dict] = field(default_factory=list)
    # what markov and shapley learned from (fct_attribution_channel_weights), the same for every month
    attribution_training: dict | None = None
    daily: dict = field(default_factory=dict)
    funnel: dict = field(default_factory=dict)
    # fct_revenue_reconciliation rows with the names of RECONCILIATION_FIELDS; None: the mart is not published
    reconciliation: list[dict] | None = None
    # per day from kpi_daily (and fct_sessions): sessions, events, orders, untracked orders
    tracking: list[dict] = field(default_factory=list)
    # the alerts mart's columns, to tell "no such column" from "no such alert"
    alert_columns: set[str] = field(default_factory=set)

    def shows(self, day: date) -> bool:
        """The day is in the month shown, up to its last day with data."""
        if self.month is None:
            return False
        same_month = (day.year, day.month) == (self.month.year, self.month.month)
        return same_month and (self.through is None or day <= self.through)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> list[dict]:
    rel = con.execute(sql, params) if params is not None else con.execute(sql)
    columns = [d[0] for d in rel.description]
    return [dict(zip(columns, row, strict=True)) for row in rel.fetchall()]


def _has(con: duckdb.DuckDBPyConnection, view: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_views() where view_name = ? and schema_name = 'main' and not internal",
            [view],
        ).fetchone()[0]
    )


def _has_mart(con: duckdb.DuckDBPyConnection, mart: str) -> bool:
    """A table of schema marts in the serving file (publish copies every mart, with or without a view)."""
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' and table_name = ?", [mart]
        ).fetchone()[0]
    )


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> set[str]:
    return {r[0] for r in con.execute(f"describe {view}").fetchall()}


def load_report_data(con: duckdb.DuckDBPyConnection) -> list[ReportData]:
    """Everything the report shows, from the serving file's views and northstar_meta: one ReportData per month
    the month filter offers, newest first (is_default marks the month shown first)."""
    meta_row = _rows(
        con,
        """
        select
            max(published_at) as published_at,
            max(data_through) as data_through,
            any_value(code_revision) as code_revision,
            any_value(reporting_currency) as currency,
            any_value(reporting_timezone) as timezone,
            any_value(attribution_model) as attribution_model,
            sum(row_count) as rows_published
        from northstar_meta
        """,
    )[0]
    meta_row["currency"] = meta_row["currency"] or "USD"
    meta_row["attribution_model"] = meta_row["attribution_model"] or "last_non_direct"
    month, month_note = _report_month(con)
    shared = ReportData(meta=meta_row, month=month, month_note=month_note, through=meta_row["data_through"])
    if month is None:
        shared.month_note = "The published marts hold no data yet: run the pipeline (northstar run), then report again."
        return [shared]

    # the per-day data, the same for every month
    if _has(con, "alerts"):
        shared.alert_columns = _columns(con, "alerts")
        shared.alerts = _rows(con, "select * from alerts order by alert_date desc, abs(change) desc")
    if _has(con, "kpi_daily"):
        have = _columns(con, "kpi_daily")
        cols = [c for c in DAILY_COLUMNS if c in have]
        sums = ", ".join(f"sum({c}) as {c}" for c in cols)
        rows = con.execute(
            f"select strftime(date, '%Y-%m-%d') as d, channel, {sums} from kpi_daily group by all order by 1, 2"
        ).fetchall()
        shared.daily = {"columns": ["date", "channel", *cols], "rows": [_json_row(r) for r in rows]}
        shared.tracking = _tracking_data(con)
    if _has(con, "funnel"):
        shared.funnel = _funnel_data(con)
    shared.reconciliation = _reconciliation_data(con)
    if _has_mart(con, "fct_attribution_channel_weights"):
        training = _rows(
            con,
            "select min(training_start) as start, max(training_end) as end, max(training_journeys) as journeys, "
            "max(training_conversions) as conversions, max(case when model = 'shapley' then method end) as shapley, "
            "count(distinct channel) as channels from marts.fct_attribution_channel_weights",
        )
        shared.attribution_training = training[0] if training and training[0]["journeys"] else None

    months = _months(con) or [(month, meta_row["data_through"])]
    if month not in {m for m, _ in months}:
        months = sorted([*months, (month, meta_row["data_through"])], reverse=True)[:MAX_MONTHS]
    return [_month_data(con, shared, m, through, is_default=m == month) for m, through in months]


def _months(con: duckdb.DuckDBPyConnection) -> list[tuple[date, date]]:
    """(month, its last day with data) of the latest MAX_MONTHS months with daily KPIs, newest first."""
    if not _has(con, "kpi_daily"):
        return []
    return con.execute(
        "select cast(date_trunc('month', date) as date) as month, max(date) from kpi_daily "
        "group by 1 order by 1 desc limit ?",
        [MAX_MONTHS],
    ).fetchall()


def _month_data(
    con: duckdb.DuckDBPyConnection, shared: ReportData, month: date, through: date | None, is_default: bool
) -> ReportData:
    """The month's scorecard, channels, campaigns and attribution on top of the shared per-day data."""
    data = dataclasses.replace(
        shared,
        month=month,
        through=through,
        is_default=is_default,
        scorecard=[],
        previous={},
        channels=[],
        campaigns=[],
        attribution=[],
    )
    if _has(con, "scorecard"):
        data.scorecard = _rows(con, "select * from scorecard where month = ? order by kpi", [month])
        # days with data in the report month, for months still in progress only
        days_now = {
            (r["kpi"], r["scope"], r["scope_value"]): r.get("days_with_data")
            for r in data.scorecard
            if r.get("days_with_data") and r.get("days_in_month") and r["days_with_data"] < r["days_in_month"]
        }
        for r in _rows(
            con,
            "select * from scorecard where month = (select max(month) from scorecard where month < ?)",
            [month],
        ):
            key = (r["kpi"], r["scope"], r["scope_value"])
            previous, now_days, then_days = r["actual"], days_now.get(key), r.get("days_with_data")
            # A month still in progress is compared with the previous month pro-rated to as many days (sums only).
            if previous is not None and r["kpi"] in ADDITIVE_KPIS and now_days and then_days:
                previous = previous * now_days / then_days
            data.previous[key] = previous

    if _has(con, "kpi_daily") and _has(con, "attribution"):
        data.channels = channel_kpis(con, month, data.meta["attribution_model"])

    if _has(con, "campaigns"):
        data.campaigns = _rows(con, "select * from campaigns where month = ?", [month])
        data.campaigns.sort(
            key=lambda r: (VERDICT_ORDER.get(r.get("recommendation"), 9), -(r.get("spend") or 0), r["campaign_key"])
        )

    if _has(con, "attribution"):
        data.attribution = _rows(
            con,
            "select model, channel, sum(conversions) as conversions, sum(attributed_revenue) as revenue "
            "from attribution where month = ? group by all",
            [month],
        )
    return data


def _report_month(con: duckdb.DuckDBPyConnection) -> tuple[date | None, str]:
    """The month the report is about: the latest one with at least MIN_DAYS_FOR_MONTH days of data.

    A month that has just begun (say one day) would make every monthly number noise, so the report shows the
    month before it and says so; the trend charts still run to the last day.
    """
    if not _has(con, "kpi_daily"):
        latest = con.execute("select max(month) from scorecard").fetchone()[0] if _has(con, "scorecard") else None
        return latest, ""
    months = con.execute(
        "select cast(date_trunc('month', date) as date) as month, count(distinct date) as days "
        "from kpi_daily group by 1 order by 1 desc"
    ).fetchall()
    if not months:
        return None, ""
    latest, latest_days = months[0]
    for month, days in months:
        if days >= MIN_DAYS_FOR_MONTH:
            if month != latest:
                plural = "s" if latest_days != 1 else ""
                return month, f"{latest:%B %Y} has {latest_days} day{plural} of data so far: showing {month:%B %Y}."
            return month, ""
    return latest, ""


def _funnel_data(con: duckdb.DuckDBPyConnection) -> dict:
    """Sessions per month, funnel, stage and channel, closed and open (the JS sums and divides)."""
    have = _columns(con, "funnel")
    closed = next((c for c in ("closed_sessions", "sessions_closed") if c in have), None)
    opened = next((c for c in ("open_sessions", "sessions_open") if c in have), None)
    date_col = next((c for c in ("session_date", "date", "funnel_date") if c in have), None)
    if not (closed and opened and date_col and "stage_name" in have):
        return {}
    rows = con.execute(
        f"""
        select
            strftime(date_trunc('month', {date_col}), '%Y-%m') as month,
            funnel_id,
            stage_order,
            stage_name,
            channel,
            sum({closed}) as closed,
            sum({opened}) as open
        from funnel
        group by all
        order by funnel_id, stage_order, month, channel
        """
    ).fetchall()
    return {"columns": ["month", "funnel", "order", "stage", "channel", "closed", "open"], "rows": rows}


def _json_row(row: tuple) -> list:
    return [None if isinstance(v, float) and math.isnan(v) else v for v in row]


# What the report reads from fct_revenue_reconciliation (its yml describes each): the name used here -> the mart's
# column. A column the published mart lacks reads NULL and shows as "–".
RECONCILIATION_FIELDS: dict[str, str] = {
    "day": "date",
    "platform": "platform",
    "feed_orders": "orders_in_feed",
    "feed_revenue": "feed_net_revenue",
    "matched_orders": "orders_matched_to_tracked_purchase",
    "via_customer": "orders_credited_via_customer",
    "untracked_orders": "orders_untracked",
    "tracked_purchases": "tracked_purchases",
    "unmatched_purchases": "tracked_purchases_without_feed_order",
    "tracked_revenue": "tracked_revenue",
    "spend": "spend",
    "platform_conversions": "platform_conversions",
    "platform_value": "platform_conversion_value",
    "attributed_conversions": "attributed_purchases",
    "attributed_revenue": "attributed_revenue",
}


def _reconciliation_data(con: duckdb.DuckDBPyConnection) -> list[dict] | None:
    """The reconciliation mart's rows in the names of RECONCILIATION_FIELDS; None when it is not published."""
    if not _has_mart(con, "fct_revenue_reconciliation"):
        return None
    have = _columns(con, "marts.fct_revenue_reconciliation")
    if not {"date", "platform"} <= have:
        return None
    picked = []
    for name, column in RECONCILIATION_FIELDS.items():
        # numbers as DOUBLE (a DECIMAL would print as a whole number), the day as a DATE
        kind = {"day": "date", "platform": "varchar"}.get(name, "double")
        picked.append(f'cast("{column}" as {kind}) as {name}' if column in have else f"cast(null as {kind}) as {name}")
    return _rows(con, f"select {', '.join(picked)} from marts.fct_revenue_reconciliation order by 1, 2")


def _tracking_data(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per day: sessions, orders (the feed's, wherever they are credited), orders of channel (untracked), events."""
    have = _columns(con, "kpi_daily")
    if not {"sessions", "orders"} <= have:
        return []
    rows = _rows(
        con,
        """
        select
            date as day,
            sum(sessions) as sessions,
            sum(orders) as orders,
            coalesce(sum(orders) filter (where channel = '(untracked)'), 0) as untracked_orders
        from kpi_daily
        group by date
        order by date
        """,
    )
    if _has_mart(con, "fct_sessions") and {"events", "session_date"} <= _columns(con, "marts.fct_sessions"):
        events = dict(con.execute("select session_date, sum(events) from marts.fct_sessions group by 1").fetchall())
        for r in rows:
            r["events"] = events.get(r["day"])
    return rows


def render_html(months: list[ReportData]) -> str:
    """The whole page as one string (months: load_report_data's, newest first)."""
    # imported here: report_view imports this module's constants
    from northstar.serve.report_view import render

    return render(months)


def write_report(settings: Settings, out: Path | None = None) -> Path:
    """Write the self-contained HTML report from the serving file; returns its path."""
    out = out or settings.report_dir / "index.html"
    con = connect_serving(settings)  # a missing file is a WarehouseMissingError, itself a UserError
    try:
        months = load_report_data(con)
    except duckdb.Error as exc:
        raise UserError(
            f"The serving file {settings.serving_path} lacks what the report needs ({exc}); re-run `northstar publish`."
        ) from None
    finally:
        con.close()
    page = render_html(months)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # readers never see half a report
    return out
