"""What each section of the report shows: ReportData -> plain values (text, numbers, flags) for the templates.

No HTML here: numbers are formatted for humans (serve.fmt) and the templates under serve/templates/ put them in
the page, escaped. Reconciliation and tracking health are in report_health.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from northstar.config import ATTRIBUTION_MODELS, LEARNED_ATTRIBUTION_MODELS
from northstar.serve import fmt
from northstar.serve.report import (
    MAX_ALERTS,
    SECTIONS,
    TREND_KPIS,
    VERDICT_ORDER,
    ReportData,
)
from northstar.serve.report_assets import KPI_DEFINITIONS, OTHER_DEFINITIONS, PAGE_TEMPLATE, environment
from northstar.serve.report_charts import MODEL_COLOURS, dotplot, model_label, round1
from northstar.serve.report_health import is_decline, is_tracking, reconciliation_view, tracking_view

HEADLINE_TILES = ["revenue", "spend", "conversion_rate", "cpa", "roas", "sessions"]


def month_label(month: date | None) -> str:
    return month.strftime("%B %Y") if month else "no data"


def change(current: float | None, previous: float | None, kpi: str) -> dict | None:
    """This month against the previous one: arrow, size and whether that is good for this KPI."""
    if current is None or previous in (None, 0):
        return None
    delta = current / previous - 1
    better = (delta < 0) if kpi in fmt.LOWER_IS_BETTER else (delta > 0)
    arrow = "▲" if delta > 0 else ("▼" if delta < 0 else "•")
    cls = "good" if better else ("bad" if abs(delta) > 0.0005 else "muted")
    return {"arrow": arrow, "text": fmt.pct(abs(delta)), "cls": cls}


def bar(fraction: float | None, on_track: bool | None) -> dict | None:
    """Attainment bar: 150 % fills it, the target mark sits at two thirds."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return None
    return {"width": f"{max(0.0, min(fraction, 1.5)) / 1.5 * 100:.1f}", "kind": "good" if on_track else "bad"}


def status(on_track: bool | None, has_target: bool) -> str:
    if not has_target or on_track is None:
        return "no target"
    return "on track" if on_track else "off track"


def verdict_counts(campaigns: list[dict]) -> list[dict]:
    counts: dict[str, int] = {}
    for c in campaigns:
        counts[c.get("recommendation") or "–"] = counts.get(c.get("recommendation") or "–", 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: VERDICT_ORDER.get(kv[0], 9))
    return [{"verdict": k, "n": n} for k, n in ordered]


def north_star_view(data: ReportData) -> dict:
    cur = data.meta["currency"]
    all_scope = [r for r in data.scorecard if r["scope"] == "all"]
    star = next((r for r in all_scope if r.get("is_north_star")), None)
    if star is None:
        return {"star": None, "tiles": []}
    kpi = star["kpi"]
    target = star.get("target_to_date", star.get("target"))
    days = ""
    if star.get("days_with_data") and star.get("days_in_month") and star["days_with_data"] < star["days_in_month"]:
        days = f" · {star['days_with_data']} of {star['days_in_month']} days, target pro-rated"
    model = star.get("attribution_model")
    model_note = f" (attributed, {model_label(model)})" if model else ""
    tiles = []
    by_kpi = {r["kpi"]: r for r in all_scope}
    for k in HEADLINE_TILES:
        r = by_kpi.get(k)
        if r is None or r["actual"] is None:
            continue
        tgt = r.get("target_to_date", r.get("target"))
        tiles.append(
            {
                "label": fmt.kpi_label(k),
                "value": fmt.kpi_value(k, r["actual"], cur, compact=True),
                "status": status(r.get("on_track"), tgt is not None),
                "target": f"target {fmt.kpi_value(k, tgt, cur, compact=True)}" if tgt is not None else "no target",
                "change": change(r["actual"], data.previous.get((k, "all", r["scope_value"])), k),
            }
        )
    return {
        "star": {
            "label": f"North star · {fmt.kpi_label(kpi)}{model_note} · {month_label(data.month)}",
            "value": fmt.kpi_value(kpi, star["actual"], cur),
            "status": status(star.get("on_track"), target is not None),
            "target": fmt.kpi_value(kpi, target, cur),
            "attainment": fmt.pct(star.get("attainment"), 0),
            "change": change(star["actual"], data.previous.get((kpi, star["scope"], star["scope_value"])), kpi),
            "bar": bar(star.get("attainment"), star.get("on_track")),
            "foot": KPI_DEFINITIONS.get(kpi, "") + days,
        },
        "tiles": tiles,
    }


def scorecard_view(data: ReportData) -> list[dict]:
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
    out = []
    for r in rows:
        kpi = r["kpi"]
        target = r.get("target_to_date", r.get("target"))
        model = r.get("attribution_model")
        scope = r["scope"] if r["scope"] == "all" else f"{r['scope']}: {names.get(r['scope_value'], r['scope_value'])}"
        out.append(
            {
                "kpi": fmt.kpi_label(kpi),
                "is_star": bool(r.get("is_north_star")),
                "model": model_label(model) if model else "",
                "scope": "All" if r["scope"] == "all" else scope,
                "actual": fmt.kpi_value(kpi, r["actual"], cur),
                "target": fmt.kpi_value(kpi, target, cur) if target is not None else None,
                "bar": bar(r.get("attainment"), r.get("on_track")),
                "attainment": fmt.pct(r.get("attainment"), 0),
                "status": status(r.get("on_track"), target is not None),
                "change": change(r["actual"], data.previous.get((kpi, r["scope"], r["scope_value"])), kpi),
            }
        )
    return out


def channels_view(data: ReportData) -> list[dict]:
    cur = data.meta["currency"]
    verdicts: dict[str, list[dict]] = {}
    reasons: dict[str, list[dict]] = {}
    for c in data.campaigns:
        ch = c.get("channel") or "(unknown)"
        verdicts.setdefault(ch, []).append(c)
        if c.get("recommendation") in ("cut", "fix", "scale") and c.get("recommendation_reason"):
            name = c.get("campaign_name") or c["campaign_key"]
            reasons.setdefault(ch, []).append({"name": name, "text": c["recommendation_reason"]})
    last_day = data.through
    ch_alerts: dict[str, list[dict]] = {}
    for a in data.alerts:
        if a["scope"] == "channel" and (last_day is None or (last_day - a["alert_date"]).days < 7):
            delta = a.get("change") or 0
            good = (delta < 0) if a["kpi"] in fmt.LOWER_IS_BETTER else (delta > 0)
            arrow = "▲" if delta > 0 else "▼"
            item = {
                "text": f"{arrow} {fmt.kpi_label(a['kpi'])} {fmt.signed_pct(delta)} ({a['alert_date']:%b %d})",
                "cls": "good" if good else "bad",
            }
            if item not in ch_alerts.get(a["scope_value"], []):
                ch_alerts.setdefault(a["scope_value"], []).append(item)
    out = []
    for r in data.channels:
        ch = r["channel"]
        out.append(
            {
                "channel": ch,
                "is_total": ch == "Total",
                "spend": fmt.money(r["spend"], cur),
                "sessions": fmt.count(r["sessions"]),
                "conversions": fmt.count(r["conversions"]),
                "conversion_rate": f"{fmt.pct(r['conversion_rate'], 2)} of sessions",
                "cpa": fmt.money(r["cpa"], cur, 2) if r["spend"] else "–",
                "revenue": fmt.money(r["revenue"], cur),
                "roas": f"ROAS {fmt.ratio(r['roas'])}",
                "attributed_conversions": fmt.count(round1(r["attributed_conversions"])),
                "attributed_revenue": fmt.money(r["attributed_revenue"], cur),
                "verdicts": verdict_counts(verdicts.get(ch, [])),
                "reasons": reasons.get(ch, [])[:3],
                "alerts": ch_alerts.get(ch, [])[:2],
            }
        )
    return out


def campaigns_view(data: ReportData) -> dict:
    cur = data.meta["currency"]
    rows = []
    for c in data.campaigns:
        lo, hi = c.get("attributed_conversions_min"), c.get("attributed_conversions_max")
        rows.append(
            {
                "name": c.get("campaign_name") or c["campaign_key"],
                "sub": " · ".join(x for x in (c.get("channel"), c.get("platform"), c["campaign_key"]) if x),
                "spend": fmt.money(c.get("spend"), cur),
                "conversions": fmt.count(round1(c.get("attributed_conversions", c.get("macro_conversions")))),
                "spread": f"{fmt.count(round1(lo))}–{fmt.count(round1(hi))} across models" if lo is not None else "",
                "cpa": fmt.money(c.get("attributed_cpa", c.get("cpa")), cur, 2) if c.get("spend") else "–",
                "target_cpa": fmt.money(c.get("target_cpa"), cur, 2),
                "break_even_cpa": fmt.money(c.get("break_even_cpa"), cur, 2),
                "roas": fmt.ratio(c.get("attributed_roas", c.get("roas"))),
                "prr": fmt.pct(c.get("prr")),
                "verdict": c.get("recommendation"),
                "reason": c.get("recommendation_reason") or "",
            }
        )
    return {"rows": rows, "summary": verdict_counts(data.campaigns)}


def p_value(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


def alert_rows(data: ReportData, alerts: list[dict]) -> list[dict]:
    """One row per KPI and scope: its latest firing, and since when it fires; newest and largest first."""
    cur = data.meta["currency"]
    groups: dict[tuple, list[dict]] = {}
    for a in alerts:
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
    for a, since, days in latest:
        delta = a.get("change")
        window = a.get("window_days") or 7
        rows.append(
            {
                "date": f"{a['alert_date']:%Y-%m-%d}",
                "fired": f"fired on {days} days since {since:%b %d}" if days > 1 else "first time",
                "kpi": fmt.kpi_label(a["kpi"]),
                "scope": "All" if a["scope"] == "all" else f"{a['scope']}: {a['scope_value']}",
                "actual": fmt.kpi_value(a["kpi"], a.get("actual"), cur),
                "window": f"last {window} day{'s' if window != 1 else ''}",
                "baseline": fmt.kpi_value(a["kpi"], a.get("baseline"), cur),
                "change": fmt.signed_pct(delta),
                "good": (delta or 0) < 0 if a["kpi"] in fmt.LOWER_IS_BETTER else (delta or 0) > 0,
                "p": p_value(a.get("significance")),
                "severity": a.get("severity") or "alert",
                "step": a.get("suspected_step") or "",
                "message": a.get("message") or "",
            }
        )
    return rows


def alerts_view(data: ReportData) -> dict:
    """Alerts fired in the month shown. With a direction column, declines of the whole business lead."""
    view = {"any": bool(data.alerts), "recent": 0, "combinations": 0, "total": len(data.alerts)}
    view.update(month=month_label(data.month), has_direction="direction" in data.alert_columns, lead=[], rows=[])
    if not data.alerts:
        return view
    # tracking alerts are told in the tracking-health section
    recent = [a for a in data.alerts if data.shows(a["alert_date"]) and not is_tracking(a)]
    lead = [a for a in recent if a["scope"] == "all" and is_decline(a)] if view["has_direction"] else []
    rest = [a for a in recent if not (a["scope"] == "all" and is_decline(a))] if view["has_direction"] else recent
    view["lead"] = alert_rows(data, lead)
    view["rows"] = alert_rows(data, rest)[:MAX_ALERTS]
    view["recent"] = len(recent)
    view["combinations"] = len(view["lead"]) + len(alert_rows(data, rest))
    return view


def attribution_view(data: ReportData) -> dict:
    chosen = data.meta["attribution_model"]
    cur = data.meta["currency"]
    matrix = {(r["channel"], r["model"]): r["conversions"] or 0.0 for r in data.attribution}
    revenue = {(r["channel"], r["model"]): r["revenue"] for r in data.attribution}
    totals: dict[str, float] = {}
    for (ch, m), v in matrix.items():
        if m == chosen:
            totals[ch] = totals.get(ch, 0) + v
    channels = sorted({ch for ch, _ in matrix}, key=lambda ch: (-totals.get(ch, 0), ch))
    # the models the published marts have (a serving file from before the learned models has six)
    shown = [m for m in ATTRIBUTION_MODELS if any(model == m for _, model in matrix)] or list(ATTRIBUTION_MODELS)
    models = [
        {
            "label": model_label(m),
            "colour": MODEL_COLOURS[m],
            "chosen": m == chosen,
            "learned": m in LEARNED_ATTRIBUTION_MODELS,
        }
        for m in shown
    ]
    rows = []
    for ch in channels:
        values = [matrix.get((ch, m), 0.0) for m in shown]
        lo, hi = min(values), max(values)
        rows.append(
            {
                "channel": ch,
                "cells": [
                    {"value": fmt.count(round1(v)), "chosen": m == chosen, "learned": m in LEARNED_ATTRIBUTION_MODELS}
                    for m, v in zip(shown, values, strict=True)
                ],
                "spread": fmt.pct((hi - lo) / hi if hi else None, 0),
                "revenue": fmt.money(revenue.get((ch, chosen)), cur),
            }
        )
    return {
        "chosen": model_label(chosen),
        "models": models,
        "rules": sum(1 for md in models if not md["learned"]),
        "learned": sum(1 for md in models if md["learned"]),
        "training": training_note(data.attribution_training),
        "rows": rows,
        "plot": dotplot(channels, matrix, chosen, shown) if channels else None,
    }


def training_note(training: dict | None) -> str:
    """What the learned models were trained on, in one sentence for the attribution section."""
    if not training:
        return ""
    shapley = {"exact": "exact Shapley values", "simplified": "simplified Shapley values"}.get(
        training.get("shapley"), "Shapley values"
    )
    return (
        f"markov and shapley learned from {fmt.count(training['journeys'])} journeys "
        f"({fmt.count(training['conversions'])} converting) from {training['start']:%-d %b %Y} to "
        f"{training['end']:%-d %b %Y}, over {training['channels']} channels ({shapley})."
    )


def definitions_view(months: list[ReportData]) -> dict:
    shown = (
        {r["kpi"] for m in months for r in m.scorecard} | set(TREND_KPIS) | {"spend", "cpa", "roas", "prr", "revenue"}
    )
    return {
        "kpis": [
            {"id": k, "label": fmt.kpi_label(k), "text": text} for k, text in KPI_DEFINITIONS.items() if k in shown
        ],
        "others": [{"label": t, "text": d} for t, d in OTHER_DEFINITIONS],
    }


def payload(data: ReportData, months: list[ReportData]) -> dict:
    """The data the page's script draws the funnel and trend charts from (embedded as JSON); data is the
    default month's."""
    through = data.meta.get("data_through")
    return json_safe(
        {
            "currency": data.meta["currency"],
            "month": month_key(data.month),
            # the months of the month filter, newest first
            "months": [month_key(m.month) for m in months if m.month],
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
                    "direction": a.get("direction"),
                    "kind": "tracking" if is_tracking(a) else "business",
                }
                for a in data.alerts
            ],
            "kpiLabels": {k: fmt.kpi_label(k) for k in TREND_KPIS},
            "kpiKinds": {k: fmt.KPI_KIND.get(k, "count") for k in TREND_KPIS},
            "lowerIsBetter": sorted(fmt.LOWER_IS_BETTER),
        }
    )


def month_key(month: date | None) -> str | None:
    """A month as the filter and the address name it: 2026-02."""
    return month.strftime("%Y-%m") if month else None


def json_safe(value: object) -> object:
    """NaN and infinities (no JSON) as null, all the way down."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def month_view(data: ReportData) -> dict:
    """The sections that follow the month filter, for one month."""
    return {
        "key": month_key(data.month) or "",
        "label": month_label(data.month),
        "default": data.is_default,
        "north_star": north_star_view(data),
        "scorecard": scorecard_view(data),
        "channels": channels_view(data),
        "campaigns": campaigns_view(data),
        "alerts": alerts_view(data),
        "tracking": tracking_view(data),
        "reconciliation": reconciliation_view(data),
        "attribution": attribution_view(data),
    }


def render(months: list[ReportData]) -> str:
    """The whole page: the templates fill in the values of every section, once per month of the filter."""
    data = next(m for m in months if m.is_default)
    meta = data.meta
    published = meta.get("published_at")
    context = {
        "sections": [{"id": sid, "label": label} for sid, label in SECTIONS],
        "month_label": month_label(data.month),
        "month_note": data.month_note,
        "meta": {
            "through": f"{meta['data_through']:%b %d, %Y}" if meta.get("data_through") else None,
            "through_iso": meta["data_through"].isoformat() if meta.get("data_through") else "",
            "published": f"{published:%Y-%m-%d %H:%M}" if published else None,
            "published_iso": f"{published:%Y-%m-%dT%H:%M:%S}" if published else "",
            "currency": meta["currency"],
            "timezone": meta.get("timezone") or "UTC",
            "model": model_label(meta["attribution_model"]),
            "revision": (meta.get("code_revision") or "unknown")[:12],
        },
        "generated": f"{datetime.now():%Y-%m-%d %H:%M}",
        "months": [month_view(m) for m in months],
        "has_funnel": bool(data.funnel),
        "trend_charts": [{"kpi": k, "label": fmt.kpi_label(k)} for k in TREND_KPIS],
        "definitions": definitions_view(months),
        "payload": payload(data, months),
    }
    return environment().get_template(PAGE_TEMPLATE).render(context)
