"""`northstar report`: one self-contained HTML KPI report, read from the serving file only.

Everything is inline (CSS, a small hand-written script, SVG charts, the data as embedded JSON) and a
Content-Security-Policy forbids fetching anything, so the file opens offline, by e-mail, from a share.
Numbers come from the marts as published; the report only sums additive columns over days or channels and
takes ratios of those sums with the definitions of MARTS.md (never averages of daily ratios).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from northstar.cli import UserError
from northstar.config import ATTRIBUTION_MODELS, Settings
from northstar.db import WarehouseMissingError, connect_serving
from northstar.serve import fmt
from northstar.serve.query import channel_kpis
from northstar.serve.report_assets import CSS as _CSS
from northstar.serve.report_assets import JS as _JS

SECTIONS = [
    ("north-star", "North star"),
    ("scorecard", "Scorecard"),
    ("funnel", "Funnel"),
    ("channels", "Channels"),
    ("campaigns", "Campaigns"),
    ("trends", "Trends & alerts"),
    ("attribution", "Attribution"),
    ("definitions", "Definitions"),
]

# KPI definitions shown in the report (MARTS.md, "Definitions").
KPI_DEFINITIONS: dict[str, str] = {
    "sessions": "A visitor's events with no gap longer than the session timeout (default 30 min); a session "
    "belongs to the day it starts and takes the traffic source of its first event.",
    "visitors": "One person: the user_id an anonymous id was last seen with, else the anonymous id "
    "(sessions before a login belong to the same visitor).",
    "engagement_rate": "Engaged sessions / sessions. A session is engaged when it lasts ≥ 10 s, has ≥ 2 page "
    "views or has any conversion. Bounce rate = 1 − engagement rate.",
    "conversion_rate": "Sessions with at least one macro conversion / sessions.",
    "micro_conversion_rate": "Sessions with at least one micro conversion / sessions.",
    "goal_score": "Weighted goal score: Σ weight × conversions over the goals of conversion_goals.",
    "leads": "Conversions of a goal marked is_lead, and CRM lead rows.",
    "orders": "Completed orders from the orders feed (events' purchases only when there is no orders feed).",
    "revenue": "Completed − refunded order revenue, in the reporting currency. In the scorecard and campaign "
    "table it is attributed with the configured model; in daily KPIs it counts in the session of the order.",
    "gross_margin": "Revenue − cost of goods (when known). The default north star is attributed gross margin: "
    "money actually earned, credited to the touchpoints that earned it.",
    "aov": "Average order value: revenue / orders.",
    "spend": "Ad spend in the reporting currency (restated rows replace earlier ones); joins to sessions by "
    "date, utm_source, utm_medium and utm_campaign.",
    "impressions": "Ad impressions reported by the platforms.",
    "clicks": "Ad clicks reported by the platforms.",
    "ctr": "Click-through rate: clicks / impressions.",
    "cpc": "Cost per click: spend / clicks.",
    "cpm": "Cost per thousand impressions: 1000 × spend / impressions.",
    "cpa": "Cost per acquisition: spend / macro conversions. Target CPA comes from kpi_targets; break-even "
    "CPA = AOV × margin rate, the most one acquisition may cost and still make a profit.",
    "cpl": "Cost per lead: spend / leads.",
    "cac": "Customer acquisition cost: spend / new customers.",
    "roas": "Return on ad spend: attributed revenue / spend.",
    "roi": "(Attributed gross margin − spend) / spend.",
    "prr": "Project rate of return: the ROI of a campaign over its whole flight.",
    "clv": "Customer lifetime value. Historical: a customer's gross margin to date. Predicted: AOV × purchase "
    "frequency × margin rate × expected lifetime (default 3 years).",
    "close_rate": "Leads that reach won / leads.",
}

OTHER_DEFINITIONS: list[tuple[str, str]] = [
    (
        "Conversions",
        "An event (or session) that matches a goal of conversion_goals, counted per the goal's counting rule. "
        "Macro goals are the outcomes the business is paid for (purchase, demo request, contact form …); micro "
        'goals are steps towards them. "Conversions" in the tables are macro conversions; attributed '
        "conversions are the same conversions credited to touchpoints by an attribution model (fractions of "
        "one conversion add up to whole conversions).",
    ),
    (
        "Attribution models",
        "For each macro conversion the touchpoints are the visitor's sessions that start within the lookback "
        "window (default 30 days) before it, up to and including the converting session. first_touch and "
        "last_touch give all credit to the first / last session; last_non_direct to the last session whose "
        "channel is not Direct (else Direct); linear 1/n each; position_based 40 % first, 40 % last, 20 % split "
        "over the middle (n = 2: 50/50); time_decay weights 2^(−Δt / 7 days), normalised. Credits of a "
        "conversion sum to 1 in every model.",
    ),
    (
        "Recommendation",
        "Per campaign and month, from attributed CPA against target and break-even CPA: scale (cheaper than "
        "target, room to grow), keep, fix (above target or break-even), cut (far above break-even), or not "
        "enough data (too few attributed conversions for a verdict). The reason says which rule applied.",
    ),
    (
        "Alert",
        "Fires only on a change that is both large (default ≥ 20 %) and statistically significant "
        "(two-proportion z-test for rates, Poisson test for counts, p < 0.01): the last 7 days against the "
        "28 days before. Conversion-rate alerts name the funnel step whose conversion fell most.",
    ),
    (
        "Closed and open funnel",
        "Closed: sessions that reached every earlier stage first, in order, within the session. Open: sessions "
        "that have the stage at all (robust to events recorded out of order). Step conversion = sessions at a "
        "stage / sessions at the stage before; drop-off = 1 − step conversion.",
    ),
    (
        "Where a conversion counts",
        "In daily and channel KPIs a conversion and its revenue count on the day, channel and campaign of the "
        "session in which it happens (last touch). Multi-touch numbers (attributed conversions, attributed "
        "revenue, the scorecard's money KPIs) use the configured attribution model.",
    ),
]

# Nothing may be fetched when the report is viewed: inline styles and scripts only, images only as data: URLs.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
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
# Alerts listed: those of the last ALERT_DAYS days up to the last day with data, at most MAX_ALERTS.
ALERT_DAYS = 28
MAX_ALERTS = 40
VERDICT_ORDER = {"cut": 0, "fix": 1, "scale": 2, "keep": 3, "not enough data": 4}
MODEL_COLOURS = {
    "first_touch": "#0ea5e9",
    "last_touch": "#f97316",
    "last_non_direct": "#4f46e5",
    "linear": "#10b981",
    "position_based": "#eab308",
    "time_decay": "#db2777",
}
# The trend charts, in order (report_assets.JS computes each from the daily sums).
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
    meta: dict
    month: date | None
    month_note: str = ""
    scorecard: list[dict] = field(default_factory=list)
    previous: dict[tuple[str, str, str], float | None] = field(default_factory=dict)
    channels: list[dict] = field(default_factory=list)
    campaigns: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    attribution: list[dict] = field(default_factory=list)
    daily: dict = field(default_factory=dict)
    funnel: dict = field(default_factory=dict)


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


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> set[str]:
    return {r[0] for r in con.execute(f"describe {view}").fetchall()}


def load_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    """Everything the report shows, from the serving file's views and northstar_meta."""
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
    data = ReportData(meta=meta_row, month=month, month_note=month_note)
    if month is None:
        data.month_note = "The published marts hold no data yet: run the pipeline (northstar run), then report again."
        return data

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
        data.channels = channel_kpis(con, month, meta_row["attribution_model"])

    if _has(con, "campaigns"):
        data.campaigns = _rows(con, "select * from campaigns where month = ?", [month])
        data.campaigns.sort(
            key=lambda r: (VERDICT_ORDER.get(r.get("recommendation"), 9), -(r.get("spend") or 0), r["campaign_key"])
        )

    if _has(con, "alerts"):
        data.alerts = _rows(con, "select * from alerts order by alert_date desc, abs(change) desc")

    if _has(con, "attribution"):
        data.attribution = _rows(
            con,
            "select model, channel, sum(conversions) as conversions, sum(attributed_revenue) as revenue "
            "from attribution where month = ? group by all",
            [month],
        )

    if _has(con, "kpi_daily"):
        have = _columns(con, "kpi_daily")
        cols = [c for c in DAILY_COLUMNS if c in have]
        sums = ", ".join(f"sum({c}) as {c}" for c in cols)
        rows = con.execute(
            f"select strftime(date, '%Y-%m-%d') as d, channel, {sums} from kpi_daily group by all order by 1, 2"
        ).fetchall()
        data.daily = {"columns": ["date", "channel", *cols], "rows": [_json_row(r) for r in rows]}

    if _has(con, "funnel"):
        data.funnel = _funnel_data(con)
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


# ---------------------------------------------------------------------------------------------- HTML pieces

e = html.escape


def _pill(text: str, kind: str) -> str:
    return f'<span class="pill pill-{kind}">{e(text)}</span>'


def _status_pill(on_track: bool | None, has_target: bool) -> str:
    if not has_target or on_track is None:
        return _pill("no target", "muted")
    return _pill("on track", "good") if on_track else _pill("off track", "bad")


def _verdict_pill(verdict: str | None) -> str:
    kinds = {"scale": "good", "keep": "info", "fix": "warn", "cut": "bad"}
    return _pill(verdict or "–", kinds.get(verdict or "", "muted"))


def _bar(fraction: float | None, kind: str) -> str:
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return ""
    width = max(0.0, min(fraction, 1.5)) / 1.5 * 100
    return (
        f'<div class="attain"><div class="attain-fill attain-{kind}" style="width:{width:.1f}%"></div>'
        '<div class="attain-target" title="target" style="left:66.67%"></div></div>'
    )


def _change(current: float | None, previous: float | None, kpi: str) -> str:
    if current is None or previous in (None, 0):
        return '<span class="muted">–</span>'
    change = current / previous - 1
    better = (change < 0) if kpi in fmt.LOWER_IS_BETTER else (change > 0)
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "•")
    cls = "good" if better else ("bad" if abs(change) > 0.0005 else "muted")
    return f'<span class="delta {cls}">{arrow} {fmt.pct(abs(change))}</span>'


def _table(headers: list[tuple[str, str]], rows: list[list[str]], cls: str = "") -> str:
    """headers: (label, 'num' | 'text'); cells are already HTML."""
    head = "".join(f'<th class="{k}">{label}</th>' for label, k in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="{k}">{c}</td>' for c, (_, k) in zip(row, headers, strict=True)) + "</tr>"
        for row in rows
    )
    table = f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    return f'<div class="table-wrap">{table}</div>'


def _month_label(month: date | None) -> str:
    return month.strftime("%B %Y") if month else "no data"


def _model_label(model: str) -> str:
    return model.replace("_", " ")


def _north_star_section(data: ReportData) -> str:
    cur = data.meta["currency"]
    all_scope = [r for r in data.scorecard if r["scope"] == "all"]
    star = next((r for r in all_scope if r.get("is_north_star")), None)
    if star is None:
        return '<section id="north-star"><h2>North star</h2><p class="muted">No scorecard published yet.</p></section>'
    kpi = star["kpi"]
    target = star.get("target_to_date", star.get("target"))
    attained = star.get("attainment")
    prev = data.previous.get((kpi, star["scope"], star["scope_value"]))
    days = ""
    if star.get("days_with_data") and star.get("days_in_month") and star["days_with_data"] < star["days_in_month"]:
        days = f" · {star['days_with_data']} of {star['days_in_month']} days, target pro-rated"
    model = star.get("attribution_model")
    model_note = f" (attributed, {_model_label(model)})" if model else ""
    ns = f"""
    <div class="ns-card">
      <div class="ns-label">North star · {e(fmt.kpi_label(kpi))}{e(model_note)} · {e(_month_label(data.month))}</div>
      <div class="ns-value">{e(fmt.kpi_value(kpi, star["actual"], cur))}</div>
      <div class="ns-sub">
        {_status_pill(star.get("on_track"), target is not None)}
        <span>target to date <b>{e(fmt.kpi_value(kpi, target, cur))}</b></span>
        <span>attainment <b>{e(fmt.pct(attained, 0))}</b></span>
        <span>vs previous month {_change(star["actual"], prev, kpi)}</span>
      </div>
      {_bar(attained, "good" if star.get("on_track") else "bad")}
      <div class="ns-foot">{e(KPI_DEFINITIONS.get(kpi, ""))}{e(days)}</div>
    </div>"""
    tiles = []
    headline = ["revenue", "spend", "conversion_rate", "cpa", "roas", "sessions"]
    by_kpi = {r["kpi"]: r for r in all_scope}
    for k in headline:
        r = by_kpi.get(k)
        if r is None or r["actual"] is None:
            continue
        tgt = r.get("target_to_date", r.get("target"))
        target_text = f"target {fmt.kpi_value(k, tgt, cur, compact=True)}" if tgt is not None else "no target"
        tiles.append(
            f"""<div class="tile"><div class="tile-label">{e(fmt.kpi_label(k))}</div>
            <div class="tile-value">{e(fmt.kpi_value(k, r["actual"], cur, compact=True))}</div>
            <div class="tile-sub">{_status_pill(r.get("on_track"), tgt is not None)}
            <span class="muted">{e(target_text)}</span></div>
            <div class="tile-sub">{_change(r["actual"], data.previous.get((k, "all", r["scope_value"])), k)}
            <span class="muted">vs prev. month</span></div></div>"""
        )
    return f"""<section id="north-star" data-section="north-star">
      <h2>North star <span class="h-sub">{e(_month_label(data.month))}</span></h2>
      <div class="ns-grid">{ns}<div class="tiles">{"".join(tiles)}</div></div>
    </section>"""


def _scorecard_section(data: ReportData) -> str:
    cur = data.meta["currency"]
    names = {c["campaign_key"]: c.get("campaign_name") or c["campaign_key"] for c in data.campaigns}
    rows = [r for r in data.scorecard if r["actual"] is not None or r.get("target") is not None]
    rows.sort(
        key=lambda r: (
            r["scope"] != "all",
            r["scope"],
            r["scope_value"] or "",
            not r.get("is_north_star"),
            r.get("target") is None,
            fmt.kpi_label(r["kpi"]),
        )
    )
    body = []
    for r in rows:
        kpi = r["kpi"]
        target = r.get("target_to_date", r.get("target"))
        scope = "All" if r["scope"] == "all" else f"{r['scope']}: {names.get(r['scope_value'], r['scope_value'])}"
        label = e(fmt.kpi_label(kpi)) + (
            ' <span class="star" title="north star">★</span>' if r.get("is_north_star") else ""
        )
        model = r.get("attribution_model")
        if model:
            label += f' <span class="muted small">({e(_model_label(model))})</span>'
        kind = "good" if r.get("on_track") else "bad"
        body.append(
            [
                label,
                e(scope),
                e(fmt.kpi_value(kpi, r["actual"], cur)),
                e(fmt.kpi_value(kpi, target, cur)) if target is not None else '<span class="muted">–</span>',
                (_bar(r.get("attainment"), kind) + f'<span class="small">{e(fmt.pct(r.get("attainment"), 0))}</span>')
                if target is not None
                else "",
                _status_pill(r.get("on_track"), target is not None),
                _change(r["actual"], data.previous.get((kpi, r["scope"], r["scope_value"])), kpi),
            ]
        )
    table = _table(
        [
            ("KPI", "text"),
            ("scope", "text"),
            ("actual", "num"),
            ("target to date", "num"),
            ("attainment", "text"),
            ("status", "text"),
            ("vs prev. month", "num"),
        ],
        body,
        "scorecard",
    )
    return f"""<section id="scorecard" data-section="scorecard">
      <h2>Scorecard against targets <span class="h-sub">{e(_month_label(data.month))}</span></h2>
      <p class="lede">Targets come from <code>kpi_targets</code>; counts and money are compared with the target
      pro-rated to the days with data (and, while a month is in progress, with the previous month pro-rated to as
      many days). Cost KPIs (CPA, spend …) are on track when at or below target.</p>
      {table}
    </section>"""


def _funnel_section(data: ReportData) -> str:
    if not data.funnel:
        body = '<p class="muted">No funnel data published.</p>'
    else:
        body = """
      <div class="controls">
        <div class="seg" id="funnel-pick" role="group" aria-label="funnel"></div>
        <label>Channel <select id="funnel-channel"></select></label>
        <label>Month <select id="funnel-month"></select></label>
        <div class="seg" id="funnel-mode" role="group" aria-label="funnel type">
          <button type="button" data-mode="closed" class="on">closed</button>
          <button type="button" data-mode="open">open</button>
        </div>
      </div>
      <div id="funnel-chart" class="funnel-chart"></div>
      <p class="note" id="funnel-note"></p>"""
    return f"""<section id="funnel" data-section="funnel">
      <h2>Funnel</h2>
      <p class="lede">Sessions reaching each stage, with the step conversion from the stage before and the
      drop-off. Closed: stages reached in order; open: the stage reached at all. Tip: open the report as
      <code>index.html?channel=Email</code> (also <code>funnel=</code>, <code>month=</code>, <code>mode=open</code>)
      to share it with the filters set.</p>
      {body}
    </section>"""


def _channels_section(data: ReportData) -> str:
    cur = data.meta["currency"]
    model = data.meta["attribution_model"]
    verdicts: dict[str, dict[str, int]] = {}
    reasons: dict[str, list[str]] = {}
    for c in data.campaigns:
        ch = c.get("channel") or "(unknown)"
        v = c.get("recommendation") or "–"
        verdicts.setdefault(ch, {})[v] = verdicts.setdefault(ch, {}).get(v, 0) + 1
        if v in ("cut", "fix", "scale") and c.get("recommendation_reason"):
            name = c.get("campaign_name") or c["campaign_key"]
            reasons.setdefault(ch, []).append(f"<b>{e(name)}</b>: {e(c['recommendation_reason'])}")
    last_day = data.meta.get("data_through")
    ch_alerts: dict[str, list[str]] = {}
    for a in data.alerts:
        if a["scope"] == "channel" and (last_day is None or (last_day - a["alert_date"]).days < 7):
            change = a.get("change") or 0
            good = (change < 0) if a["kpi"] in fmt.LOWER_IS_BETTER else (change > 0)
            arrow = "▲" if change > 0 else "▼"
            text = f"{arrow} {fmt.kpi_label(a['kpi'])} {fmt.signed_pct(change)} ({a['alert_date']:%b %d})"
            html_text = f'<span class="alert-text {"good" if good else "bad"}">{e(text)}</span>'
            if html_text not in ch_alerts.get(a["scope_value"], []):
                ch_alerts.setdefault(a["scope_value"], []).append(html_text)
    rows = []
    for r in data.channels:
        ch = r["channel"]
        is_total = ch == "Total"
        v = verdicts.get(ch, {})
        verdict_html = " ".join(
            f'<span class="nowrap">{_verdict_pill(k)}<span class="small"> ×{n}</span></span>'
            for k, n in sorted(v.items(), key=lambda kv: VERDICT_ORDER.get(kv[0], 9))
        )
        why = reasons.get(ch, [])[:3] + ch_alerts.get(ch, [])[:2]
        rows.append(
            [
                f"<b>{e(ch)}</b>" if is_total else e(ch),
                e(fmt.money(r["spend"], cur)),
                e(fmt.count(r["sessions"])),
                _two(fmt.count(r["conversions"]), f"{fmt.pct(r['conversion_rate'], 2)} of sessions"),
                e(fmt.money(r["cpa"], cur, 2) if r["spend"] else "–"),
                _two(fmt.money(r["revenue"], cur), f"ROAS {fmt.ratio(r['roas'])}"),
                _two(fmt.count(_round1(r["attributed_conversions"])), fmt.money(r["attributed_revenue"], cur)),
                "" if is_total else verdict_html,
                "" if is_total else "<br>".join(why) or '<span class="muted">–</span>',
            ]
        )
    table = _table(
        [
            ("channel", "text"),
            ("spend", "num"),
            ("sessions", "num"),
            ("conversions", "num"),
            ("CPA", "num"),
            ("revenue", "num"),
            ("attributed conv.", "num"),
            ("recommendation", "text"),
            ("why", "text wide"),
        ],
        rows,
        "channels with-total",
    )
    return f"""<section id="channels" data-section="channels">
      <h2>Channels <span class="h-sub">{e(_month_label(data.month))}</span></h2>
      <p class="lede">Conversions, revenue and ROAS count in the session where they happen (last touch);
      the attributed columns credit every touchpoint with the <b>{e(_model_label(model))}</b> model. A channel's
      recommendation is the verdicts of its campaigns; "why" gives their reasons and the channel's alerts of the
      last 7 days.</p>
      {table}
    </section>"""


def _two(main: str, sub: str) -> str:
    """A number with a smaller second line under it."""
    return f'{e(main)}<div class="sub">{e(sub)}</div>'


def _round1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _campaigns_section(data: ReportData) -> str:
    cur = data.meta["currency"]
    rows = []
    for c in data.campaigns:
        name = c.get("campaign_name") or c["campaign_key"]
        lo, hi = c.get("attributed_conversions_min"), c.get("attributed_conversions_max")
        spread = f"{fmt.count(_round1(lo))}–{fmt.count(_round1(hi))} across models" if lo is not None else ""
        cpa = c.get("attributed_cpa", c.get("cpa"))
        roas = c.get("attributed_roas", c.get("roas"))
        limits = (
            f'<div class="sub">target {e(fmt.money(c.get("target_cpa"), cur, 2))}</div>'
            f'<div class="sub">break-even {e(fmt.money(c.get("break_even_cpa"), cur, 2))}</div>'
        )
        sub = " · ".join(x for x in (c.get("channel"), c.get("platform"), c["campaign_key"]) if x)
        rows.append(
            [
                f'{e(name)}<div class="sub">{e(sub)}</div>',
                e(fmt.money(c.get("spend"), cur)),
                _two(fmt.count(_round1(c.get("attributed_conversions", c.get("macro_conversions")))), spread),
                e(fmt.money(cpa, cur, 2) if c.get("spend") else "–") + limits,
                e(fmt.ratio(roas)),
                e(fmt.pct(c.get("prr"))),
                _verdict_pill(c.get("recommendation")),
                e(c.get("recommendation_reason") or ""),
            ]
        )
    counts: dict[str, int] = {}
    for c in data.campaigns:
        counts[c.get("recommendation") or "–"] = counts.get(c.get("recommendation") or "–", 0) + 1
    summary = " ".join(
        _verdict_pill(k) + f" {n}" for k, n in sorted(counts.items(), key=lambda kv: VERDICT_ORDER.get(kv[0], 9))
    )
    table = _table(
        [
            ("campaign", "text"),
            ("spend", "num"),
            ("attr. conv.", "num"),
            ("attr. CPA", "num"),
            ("attr. ROAS", "num"),
            ("PRR", "num"),
            ("verdict", "text"),
            ("reason", "text wide"),
        ],
        rows,
        "campaigns",
    )
    return f"""<section id="campaigns" data-section="campaigns">
      <h2>Campaigns <span class="h-sub">{e(_month_label(data.month))}</span></h2>
      <p class="lede">Most urgent first. Attributed with the <b>{e(_model_label(data.meta["attribution_model"]))}</b>
      model; "conv. across models" is the lowest and highest attributed conversions over all six models.
      PRR is the ROI over the campaign's whole flight. {summary}</p>
      {table}
    </section>"""


def _alerts_table(data: ReportData) -> str:
    """Alerts of the last ALERT_DAYS days, one row per KPI and scope (the latest firing, and since when)."""
    if not data.alerts:
        return '<p class="muted">No alerts: no KPI moved both a lot and significantly.</p>'
    cur = data.meta["currency"]
    through = data.meta.get("data_through") or max(a["alert_date"] for a in data.alerts)
    recent = [a for a in data.alerts if (through - a["alert_date"]).days < ALERT_DAYS]
    if not recent:
        return f'<p class="muted">No alerts in the last {ALERT_DAYS} days.</p>'
    groups: dict[tuple, list[dict]] = {}
    for a in recent:
        groups.setdefault((a["kpi"], a["scope"], a["scope_value"]), []).append(a)
    latest = []
    for firings in groups.values():
        firings.sort(key=lambda a: (a["alert_date"], a.get("window_days") or 0))
        latest.append((firings[-1], firings[0]["alert_date"], len({f["alert_date"] for f in firings})))
    latest.sort(
        key=lambda x: (x[0]["alert_date"], x[0].get("severity") == "critical", abs(x[0].get("change") or 0)),
        reverse=True,
    )
    rows = []
    for a, since, days in latest[:MAX_ALERTS]:
        scope = "All" if a["scope"] == "all" else f"{a['scope']}: {a['scope_value']}"
        kind = "bad" if a.get("severity") == "critical" else "warn"
        window = a.get("window_days") or 7
        fired = f"fired on {days} days since {since:%b %d}" if days > 1 else "first time"
        rows.append(
            [
                _two(f"{a['alert_date']:%Y-%m-%d}", fired),
                e(fmt.kpi_label(a["kpi"])),
                e(scope),
                _two(fmt.kpi_value(a["kpi"], a.get("actual"), cur), f"last {window} day{'s' if window != 1 else ''}"),
                e(fmt.kpi_value(a["kpi"], a.get("baseline"), cur)),
                _signed_change(a.get("change"), a["kpi"]),
                e(_p_value(a.get("significance"))),
                _pill(a.get("severity") or "alert", kind),
                e(a.get("suspected_step") or ""),
            ]
        )
    more = (
        f'<p class="note">{len(latest)} KPI and scope combinations alerted in the last {ALERT_DAYS} days '
        f"({len(recent)} alerts; {len(data.alerts)} in all): the <code>alerts</code> view has every one.</p>"
    )
    return (
        _table(
            [
                ("last fired", "text"),
                ("KPI", "text"),
                ("scope", "text"),
                ("actual", "num"),
                ("baseline", "num"),
                ("change", "num"),
                ("p-value", "num"),
                ("severity", "text"),
                ("suspected funnel step", "text"),
            ],
            rows,
            "alerts",
        )
        + more
    )


def _signed_change(change: float | None, kpi: str) -> str:
    good = (change or 0) < 0 if kpi in fmt.LOWER_IS_BETTER else (change or 0) > 0
    return f'<span class="delta {"good" if good else "bad"}">{e(fmt.signed_pct(change))}</span>'


def _p_value(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


def _trends_section(data: ReportData) -> str:
    charts = "".join(
        f'<figure class="chart" data-kpi="{k}"><figcaption>{e(fmt.kpi_label(k))}</figcaption>'
        f'<div class="chart-body"></div></figure>'
        for k in TREND_KPIS
    )
    return f"""<section id="trends" data-section="trends">
      <h2>KPI trends &amp; alerts</h2>
      <div class="controls"><label>Channel <select id="trend-channel"></select></label>
        <span class="legend"><i class="lg-daily"></i> daily <i class="lg-avg"></i> 7-day average
        (per day for counts and money)
        <i class="lg-alert"></i> alert (hover for details)</span></div>
      <div class="charts" id="trend-charts">{charts}</div>
      <h3>Alerts</h3>
      <p class="lede">The last 7 days (or a single day, for counts) against the 28 days before; only changes
      both large and significant. Green: the good direction for that KPI.</p>
      {_alerts_table(data)}
    </section>"""


def _attribution_svg(channels: list[str], matrix: dict[tuple[str, str], float], chosen: str) -> str:
    """A dot plot: one row per channel, one dot per model, a line from the lowest to the highest credit."""
    if not channels:
        return ""
    width, left, right, row_h, top = 1180, 170, 40, 30, 34
    height = top + row_h * len(channels) + 10
    vmax = max([v for v in matrix.values()] + [1e-9])
    nice = _nice_max(vmax)
    scale = (width - left - right) / nice
    parts = [
        f'<svg class="dotplot" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Conversions credited to each channel by attribution model">'
    ]
    for i in range(5):
        x = left + scale * nice * i / 4
        parts.append(f'<line x1="{x:.1f}" y1="{top - 8}" x2="{x:.1f}" y2="{height - 6}" class="grid"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{top - 14}" class="axis" text-anchor="middle">'
            f"{fmt.count(round(nice * i / 4, 2))}</text>"
        )
    for row, ch in enumerate(channels):
        y = top + row_h * row + row_h / 2
        values = [(m, matrix.get((ch, m), 0.0)) for m in ATTRIBUTION_MODELS]
        lo, hi = min(v for _, v in values), max(v for _, v in values)
        parts.append(f'<text x="{left - 10}" y="{y + 4:.1f}" class="label" text-anchor="end">{e(ch)}</text>')
        parts.append(
            f'<line x1="{left + lo * scale:.1f}" y1="{y:.1f}" x2="{left + hi * scale:.1f}" y2="{y:.1f}" class="range"/>'
        )
        for m, v in values:
            r = 7 if m == chosen else 5
            stroke = ' stroke="#111827" stroke-width="1.5"' if m == chosen else ""
            parts.append(
                f'<circle cx="{left + v * scale:.1f}" cy="{y:.1f}" r="{r}" fill="{MODEL_COLOURS[m]}"{stroke}>'
                f"<title>{e(ch)} · {e(_model_label(m))}: {fmt.count(_round1(v))} conversions</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def _attribution_section(data: ReportData) -> str:
    chosen = data.meta["attribution_model"]
    cur = data.meta["currency"]
    matrix = {(r["channel"], r["model"]): r["conversions"] or 0.0 for r in data.attribution}
    revenue = {(r["channel"], r["model"]): r["revenue"] for r in data.attribution}
    totals: dict[str, float] = {}
    for (ch, m), v in matrix.items():
        if m == chosen:
            totals[ch] = totals.get(ch, 0) + v
    channels = sorted({ch for ch, _ in matrix}, key=lambda ch: (-totals.get(ch, 0), ch))
    if not channels:
        return """<section id="attribution" data-section="attribution"><h2>Attribution models</h2>
        <p class="muted">No attributed conversions published.</p></section>"""
    legend = "".join(
        f'<span class="lg-model"><i style="background:{MODEL_COLOURS[m]}"></i>{e(_model_label(m))}'
        f"{' (used)' if m == chosen else ''}</span>"
        for m in ATTRIBUTION_MODELS
    )
    rows = []
    for ch in channels:
        values = [matrix.get((ch, m), 0.0) for m in ATTRIBUTION_MODELS]
        lo, hi = min(values), max(values)
        cells = [
            f'<span class="{"chosen" if m == chosen else ""}">{e(fmt.count(_round1(v)))}</span>'
            for m, v in zip(ATTRIBUTION_MODELS, values, strict=True)
        ]
        rows.append(
            [e(ch), *cells, e(fmt.pct((hi - lo) / hi if hi else None, 0)), e(fmt.money(revenue.get((ch, chosen)), cur))]
        )
    table = _table(
        [("channel", "text")]
        + [(e(_model_label(m)) + (" ✓" if m == chosen else ""), "num") for m in ATTRIBUTION_MODELS]
        + [("spread", "num"), (f"revenue ({e(_model_label(chosen))})", "num")],
        rows,
        "attribution",
    )
    return f"""<section id="attribution" data-section="attribution">
      <h2>Attribution-model comparison <span class="h-sub">{e(_month_label(data.month))}</span></h2>
      <p class="lede">Macro conversions credited to each channel under each model. A wide spread means the
      channel's value depends on how you count: upper-funnel channels gain under first touch, closers under last
      touch. Spread = (highest − lowest) / highest.</p>
      <div class="legend models">{legend}</div>
      {_attribution_svg(channels, matrix, chosen)}
      {table}
    </section>"""


def _definitions_section(data: ReportData) -> str:
    shown = {r["kpi"] for r in data.scorecard} | set(TREND_KPIS) | {"spend", "cpa", "roas", "prr", "revenue"}
    items = "".join(
        f'<dt id="def-{k}">{e(fmt.kpi_label(k))} <code>{k}</code></dt><dd>{e(KPI_DEFINITIONS[k])}</dd>'
        for k in KPI_DEFINITIONS
        if k in shown
    )
    others = "".join(f"<dt>{e(t)}</dt><dd>{e(d)}</dd>" for t, d in OTHER_DEFINITIONS)
    return f"""<section id="definitions" data-section="definitions">
      <h2>Definitions</h2>
      <p class="lede">Every ratio divides with a safe division: a zero denominator shows as "–". All money in
      {e(data.meta["currency"])}, all days in {e(data.meta.get("timezone") or "UTC")}.</p>
      <dl class="defs">{items}</dl>
      <dl class="defs">{others}</dl>
    </section>"""


def render_html(data: ReportData) -> str:
    """The whole page as one string."""
    meta = data.meta
    through = meta.get("data_through")
    published = meta.get("published_at")
    payload = {
        "currency": meta["currency"],
        "month": data.month.strftime("%Y-%m") if data.month else None,
        "dataThrough": through.isoformat() if through else None,
        "daily": data.daily,
        "funnel": data.funnel,
        "alerts": [
            {
                "date": a["alert_date"].isoformat(),
                "kpi": a["kpi"],
                "scope": a["scope"],
                "scopeValue": a["scope_value"],
                "change": a.get("change"),
                "actual": a.get("actual"),
                "baseline": a.get("baseline"),
                "p": a.get("significance"),
                "severity": a.get("severity"),
                "step": a.get("suspected_step"),
                "window": a.get("window_days"),
                "message": a.get("message"),
            }
            for a in data.alerts
        ],
        "kpiLabels": {k: fmt.kpi_label(k) for k in TREND_KPIS},
        "kpiKinds": {k: fmt.KPI_KIND.get(k, "count") for k in TREND_KPIS},
        "lowerIsBetter": sorted(fmt.LOWER_IS_BETTER),
    }
    data_json = json.dumps(payload, default=_json_default, separators=(",", ":")).replace("<", "\\u003c")
    nav = "".join(f'<a href="#{sid}">{e(label)}</a>' for sid, label in SECTIONS)
    revision = (meta.get("code_revision") or "unknown")[:12]
    sub = " · ".join(
        x
        for x in [
            f"data through <b>{through:%b %d, %Y}</b>" if through else "no data",
            f"published {published:%Y-%m-%d %H:%M} UTC" if published else "",
            f"currency {e(meta['currency'])}",
            f"attribution model <b>{e(_model_label(meta['attribution_model']))}</b>",
            f"revision <code>{e(revision)}</code>",
        ]
        if x
    )
    note = f'<div class="meta meta-note">{e(data.month_note)}</div>' if data.month_note else ""
    body = "".join(
        [
            _north_star_section(data),
            _scorecard_section(data),
            _funnel_section(data),
            _channels_section(data),
            _campaigns_section(data),
            _trends_section(data),
            _attribution_section(data),
            _definitions_section(data),
        ]
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>northstar KPI report · {e(_month_label(data.month))}</title>
<script>
// Record script errors on the page so a headless check (and a curious reader) can see them.
window.addEventListener("error", function (ev) {{
  var el = document.documentElement;
  el.setAttribute("data-errors", (el.getAttribute("data-errors") || "") + String(ev.message) + "\\n");
}});
</script>
<style>{_CSS}</style>
</head>
<body>
<header class="top">
  <div class="wrap">
    <div class="brand"><span class="logo">✦</span> northstar <span class="muted-inv">KPI report</span></div>
    <div class="meta">{sub}</div>{note}
    <nav>{nav}</nav>
  </div>
</header>
<main class="wrap">
{body}
</main>
<footer class="wrap foot">Generated {datetime.now():%Y-%m-%d %H:%M} from the read-only serving file.
Self-contained: no network access is needed or allowed when viewing.</footer>
<script type="application/json" id="report-data">{data_json}</script>
<script>{_JS}</script>
</body>
</html>
"""


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def write_report(settings: Settings, out: Path | None = None) -> Path:
    """Write the self-contained HTML report from the serving file; returns its path."""
    out = out or settings.report_dir / "index.html"
    try:
        con = connect_serving(settings)
    except WarehouseMissingError as exc:
        raise UserError(str(exc)) from None
    try:
        data = load_report_data(con)
    except duckdb.Error as exc:
        raise UserError(
            f"The serving file {settings.serving_path} lacks what the report needs ({exc}); re-run `northstar publish`."
        ) from None
    finally:
        con.close()
    page = render_html(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)  # readers never see half a report
    return out
