"""The report's tracking-health and reconciliation sections: ReportData -> plain values for the templates.

Tracking health reads the alerts of kind `tracking` (when the alerts mart has a kind column) and, per day from
kpi_daily, sessions (and events) per feed order and the share of feed orders credited to `(untracked)`.
Reconciliation reads fct_revenue_reconciliation: the orders feed (the revenue truth) against what tracking
saw, and what each ad platform claims against what northstar attributes to it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import date

from northstar.serve import fmt
from northstar.serve.report import ReportData
from northstar.serve.report_charts import line_chart

# Values of fct_revenue_reconciliation.platform that mean "the whole shop, no ad platform".
SHOP_PLATFORMS = {"", "all", "(all)", "(none)", "none", "feed", "(feed)", "orders_feed", "shop", "total", "(total)"}
# Tracking-health reading aid (not an alert rule): a day whose sessions fell below this share of the median
# day while the feed's orders did not is listed under "days to look at".
LOW_TRACKING_SHARE = 0.5


def alert_kind(a: dict) -> str:
    return a.get("kind") or a.get("alert_kind") or "business"


def is_tracking(a: dict) -> bool:
    return alert_kind(a) == "tracking"


def is_decline(a: dict) -> bool:
    """A fall of the KPI (direction 'decline'; older marts say 'down', which for a cost is no decline)."""
    direction = (a.get("direction") or "").lower()
    return direction == "decline" or (direction == "down" and a["kpi"] not in fmt.LOWER_IS_BETTER)


def tracking_value(kpi: str, value: float | None) -> str:
    """Tracking KPIs (fct_kpi_alerts: sessions_per_order, events_per_order, match_rate) and the usual ones."""
    if kpi == "match_rate":
        return fmt.pct(value)
    if kpi.endswith("_per_order"):
        return fmt.count(None if value is None else round(value, 1))
    return fmt.kpi_value(kpi, value)


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _iso(day: date) -> str:
    return day.isoformat()


def _tick_count(v: float, step: float) -> str:
    return f"{v:,.1f}" if step < 1 else f"{v:,.0f}"


def _tick_pct(v: float, step: float) -> str:
    return f"{v * 100:.{0 if step >= 0.01 else 1}f}%"


def _chart(
    title: str,
    note: str,
    days: list[str],
    series: list,
    tick: Callable,
    value: Callable,
    markers: dict,
    at_least: float,
    size: tuple[int, int] = (420, 170),
) -> dict:
    return {
        "title": title,
        "note": note,
        "svg": line_chart(days, series, tick, value, f"{title}, daily", markers, at_least, size),
        "legend": [{"cls": cls, "name": name} for cls, name, _ in series] if len(series) > 1 else [],
    }


# ---------------------------------------------------------------------------------------------- tracking


def tracking_view(data: ReportData) -> dict:
    """The month's tracking alerts and days; the tiles read its last 7 days with data."""
    has_kind = bool({"kind", "alert_kind"} & data.alert_columns)
    alerts = sorted(
        (a for a in data.alerts if is_tracking(a) and data.shows(a["alert_date"])),
        key=lambda a: a["alert_date"],
        reverse=True,
    )
    alert_rows = [
        {
            "date": _iso(a["alert_date"]),
            "kpi": fmt.kpi_label(a["kpi"]),
            "scope": "All" if a["scope"] == "all" else f"{a['scope']}: {a['scope_value']}",
            "actual": tracking_value(a["kpi"], a.get("actual")),
            "baseline": tracking_value(a["kpi"], a.get("baseline")),
            "change": fmt.signed_pct(a.get("change")),
            "severity": a.get("severity") or "alert",
            "message": a.get("message") or "",
        }
        for a in alerts
    ]
    view = {"has_kind": has_kind, "alerts": alert_rows, "days": [], "charts": [], "tiles": []}
    rows = [r for r in data.tracking if data.shows(r["day"])]
    if not rows:
        return view
    match = {r["day"]: _div(r["matched_orders"], r["feed_orders"]) for r in shop_days(data.reconciliation or [])}
    days = [_iso(r["day"]) for r in rows]
    per_order = [_div(r["sessions"], r["orders"]) for r in rows]
    untracked = [_div(r["untracked_orders"], r["orders"]) for r in rows]
    match_rate = [match.get(r["day"]) for r in rows]
    median_sessions = statistics.median([r["sessions"] or 0 for r in rows])
    median_orders = statistics.median([r["orders"] or 0 for r in rows])
    markers = {r["date"]: r["message"] or f"{r['kpi']} {r['change']}" for r in alert_rows}
    # the reading aid: sessions fell to under half the median day while the feed's orders held
    low = {
        _iso(r["day"]): f"sessions {fmt.count(r['sessions'])} against {fmt.count(median_sessions)} on the median "
        f"day, while feed orders held ({fmt.count(r['orders'])}, median {fmt.count(median_orders)})"
        for r in rows
        if (r["sessions"] or 0) < LOW_TRACKING_SHARE * median_sessions
        and (r["orders"] or 0) >= LOW_TRACKING_SHARE * median_orders
    }
    dots = markers or low
    pct = lambda v: fmt.pct(v)  # noqa: E731
    charts = [
        _chart(
            "Sessions per feed order",
            "falls when tracking loses visits while orders keep coming",
            days,
            [("avg", "sessions per order", per_order)],
            _tick_count,
            lambda v: fmt.count(v),
            dots,
            1.0,
        ),
        _chart(
            "Feed orders no session carries",
            "share of the feed's orders in the channel (untracked)",
            days,
            [("avg", "untracked share", untracked)],
            _tick_pct,
            pct,
            dots,
            0.1,
        ),
    ]
    if any(v is not None for v in match_rate):
        charts.append(
            _chart(
                "Match rate",
                "feed orders a tracked purchase matches (reconciliation)",
                days,
                [("avg", "match rate", match_rate)],
                _tick_pct,
                pct,
                dots,
                0.1,
            )
        )
    view["charts"] = charts
    index = {d: i for i, d in enumerate(days)}
    view["days"] = [
        {
            "date": d,
            "sessions": fmt.count(rows[index[d]]["sessions"]) if d in index else "–",
            "orders": fmt.count(rows[index[d]]["orders"]) if d in index else "–",
            "per_order": fmt.count(per_order[index[d]]) if d in index else "–",
            "untracked": fmt.pct(untracked[index[d]]) if d in index else "–",
            "match_rate": fmt.pct(match_rate[index[d]]) if d in index else "–",
            "why": markers.get(d) or low.get(d) or "",
            "alert": d in markers,
        }
        for d in sorted(set(markers) | set(low), reverse=True)
    ]
    last = rows[-7:]
    sessions, orders = sum(r["sessions"] or 0 for r in last), sum(r["orders"] or 0 for r in last)
    untracked_7 = sum(r["untracked_orders"] or 0 for r in last)
    events = sum(r.get("events") or 0 for r in last)
    view["tiles"] = [
        {
            "label": "Sessions per order",
            "value": fmt.count(_div(sessions, orders)),
            "sub": f"last 7 days of {data.month:%B}"
            + (f" · {fmt.count(_div(events, orders))} events per order" if events else ""),
        },
        {
            "label": "Untracked orders",
            "value": fmt.pct(_div(untracked_7, orders)),
            "sub": f"last 7 days of {data.month:%B} · {fmt.count(untracked_7)} of {fmt.count(orders)} feed orders",
        },
        {
            "label": "Tracking alerts",
            "value": fmt.count(len(alerts)) if has_kind else "–",
            "sub": f"in {data.month:%B %Y}" if has_kind else "the alerts mart has no tracking kind yet",
        },
    ]
    view["low_share"] = fmt.pct(LOW_TRACKING_SHARE, 0)
    return view


# ---------------------------------------------------------------------------------------------- reconciliation


def _is_shop(row: dict) -> bool:
    return row["platform"] is None or str(row["platform"]).strip().lower() in SHOP_PLATFORMS


def shop_days(rows: list[dict]) -> list[dict]:
    """One row per day with the feed-vs-tracking numbers: the shop-wide row, else (when every platform row
    repeats them) the platform row with the most feed orders."""
    best: dict[date, dict] = {}
    for r in rows:
        if r["feed_orders"] is None:
            continue
        current = best.get(r["day"])
        if (
            current is None
            or (_is_shop(r) and not _is_shop(current))
            or (_is_shop(r) == _is_shop(current) and (r["feed_orders"] or 0) > (current["feed_orders"] or 0))
        ):
            best[r["day"]] = r
    return [best[d] for d in sorted(best)]


def _sum(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r[key] is not None]
    return sum(values) if values else None


def reconciliation_view(data: ReportData) -> dict:
    """The month's days: tiles, the chart, the per-day and per-platform tables."""
    if data.reconciliation is None:
        return {"built": False}
    cur = data.meta["currency"]
    rows = [r for r in data.reconciliation if data.shows(r["day"])]
    shop = shop_days(rows)
    platform_rows = [
        r
        for r in rows
        if not _is_shop(r) and (r["platform_conversions"] is not None or r["attributed_conversions"] is not None)
    ]
    claimed_by_day: dict[date, float] = {}
    for r in platform_rows:
        claimed_by_day[r["day"]] = claimed_by_day.get(r["day"], 0.0) + (r["platform_conversions"] or 0)
    month = data.month
    feed, matched = _sum(shop, "feed_orders"), _sum(shop, "matched_orders")
    feed_rev, tracked_rev = _sum(shop, "feed_revenue"), _sum(shop, "tracked_revenue")
    month_platforms = platform_rows
    claimed = _sum(month_platforms, "platform_conversions")
    attributed = _sum(month_platforms, "attributed_conversions")
    attributed = None if attributed is None else round(attributed, 1)
    tiles = [
        {"label": "Feed orders", "value": fmt.count(feed), "sub": fmt.money(feed_rev, cur) + " net revenue"},
        {
            "label": "Matched by tracking",
            "value": fmt.pct(_div(matched, feed)),
            "sub": f"{fmt.count(matched)} orders · {fmt.money(tracked_rev, cur)} tracked revenue",
        },
        {
            "label": "Not matched",
            "value": fmt.count(None if feed is None or matched is None else feed - matched),
            "sub": f"{fmt.count(_sum(shop, 'via_customer'))} via the customer's session · "
            f"{fmt.count(_sum(shop, 'untracked_orders'))} untracked",
        },
        {
            "label": "Tracked, not in the feed",
            "value": fmt.count(_sum(shop, "unmatched_purchases")),
            "sub": "tracked purchases with no feed order",
        },
        {
            "label": "Platforms claim",
            "value": fmt.count(claimed),
            "sub": f"{fmt.ratio(_div(claimed, attributed))} the {fmt.count(attributed)} purchases northstar gives them"
            if claimed is not None
            else "no platform claims",
        },
    ]
    days = [_iso(r["day"]) for r in shop]
    chart = None
    if shop:
        series = [
            ("avg", "feed orders", [r["feed_orders"] for r in shop]),
            ("daily", "matched by tracking", [r["matched_orders"] for r in shop]),
        ]
        if claimed_by_day:
            series.append(("claimed", "claimed by platforms", [claimed_by_day.get(r["day"]) for r in shop]))
        chart = _chart(
            "Orders per day: feed, tracked, claimed",
            "",
            days,
            series,
            _tick_count,
            lambda v: fmt.count(v),
            {},
            1.0,
            (1180, 220),
        )
    rates = [_div(r["matched_orders"], r["feed_orders"]) for r in shop]
    median_rate = statistics.median([v for v in rates if v is not None] or [0.0])
    daily = []
    for r, rate in list(zip(shop, rates, strict=True))[::-1]:
        both = r["feed_revenue"] is not None and r["tracked_revenue"] is not None
        gap = r["feed_revenue"] - r["tracked_revenue"] if both else None
        daily.append(
            {
                "date": _iso(r["day"]),
                "feed_orders": fmt.count(r["feed_orders"]),
                "matched": fmt.count(r["matched_orders"]),
                "match_rate": fmt.pct(rate),
                "low": rate is not None and median_rate > 0 and rate < LOW_TRACKING_SHARE * median_rate,
                "via_customer": fmt.count(r["via_customer"]),
                "untracked": fmt.count(r["untracked_orders"]),
                "tracked_purchases": fmt.count(r["tracked_purchases"]),
                "unmatched": fmt.count(r["unmatched_purchases"]),
                "feed_revenue": fmt.money(r["feed_revenue"], cur),
                "tracked_revenue": fmt.money(r["tracked_revenue"], cur),
                "gap": fmt.money(gap, cur),
                "claimed": fmt.count(claimed_by_day.get(r["day"])),
            }
        )
    return {
        "built": True,
        "month": month.strftime("%B %Y") if month else "no data",
        "tiles": tiles,
        "chart": chart,
        "daily": daily,
        "median_rate": fmt.pct(median_rate),
        "platforms": _platforms(month_platforms, feed, cur),
        "per_day_platform": _per_day_platform(platform_rows),
    }


def _platforms(rows: list[dict], feed_orders: float | None, cur: str) -> dict:
    """Per ad platform for the month: what it claims, what northstar attributes to it, and the total."""
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(str(r["platform"]), []).append(r)

    def line(name: str, rs: list[dict]) -> dict:
        claimed, attributed = _sum(rs, "platform_conversions"), _sum(rs, "attributed_conversions")
        return {
            "platform": name,
            "spend": fmt.money(_sum(rs, "spend"), cur),
            "claimed": fmt.count(claimed),
            "claimed_value": fmt.money(_sum(rs, "platform_value"), cur),
            "attributed": fmt.count(None if attributed is None else round(attributed, 1)),
            "attributed_revenue": fmt.money(_sum(rs, "attributed_revenue"), cur),
            "over": fmt.ratio(_div(claimed, attributed)),
        }

    lines = sorted((line(p, rs) for p, rs in by.items()), key=lambda x: x["platform"])
    total = line("All platforms", rows) if rows else None
    return {"rows": lines, "total": total, "feed_orders": fmt.count(feed_orders)}


def _per_day_platform(rows: list[dict]) -> dict:
    """The month's days (newest first) x platforms: claimed / attributed conversions."""
    platforms = sorted({str(r["platform"]) for r in rows})
    days = sorted({r["day"] for r in rows})[::-1]
    cell = {(r["day"], str(r["platform"])): r for r in rows}
    out = []
    for d in days:
        cells = []
        for p in platforms:
            r = cell.get((d, p))
            cells.append(
                "–"
                if r is None
                else f"{fmt.count(r['platform_conversions'])} / "
                f"{fmt.count(None if r['attributed_conversions'] is None else round(r['attributed_conversions'], 1))}"
            )
        out.append({"date": _iso(d), "cells": cells})
    return {"platforms": platforms, "rows": out}
