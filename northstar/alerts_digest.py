"""What the alerts of a day say, for people: the daily run's one digest line and the alerts that `northstar kpis`
leads with. Reads the published `alerts` view (marts.fct_kpi_alerts) on any connection; never recomputes an alert.

Order of importance (docs/alerts.md): a tracking loss first (the numbers below it are short because tracking is),
then adverse changes of the whole business, then adverse changes of one channel, then favourable changes.
"""

from __future__ import annotations

from datetime import date

import duckdb
from rich import box
from rich.table import Table
from rich.text import Text


def _pct(change: float) -> str:
    return f"{'−' if change < 0 else '+'}{abs(change):.0%}".replace("%", " %")


def _columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    try:
        return {row[0] for row in con.execute("select * from alerts limit 0").description}
    except duckdb.Error:
        return set()


def _alert_sql(columns: set[str], where: str) -> str:
    """Rows of (alert_date, kind, kpi, scope, scope_value, change, severity, is_adverse, message); a serving file
    published before alerts had kind / is_adverse reads as business alerts whose declines are adverse."""
    kind = "kind" if "kind" in columns else "'business'"
    adverse = "is_adverse" if "is_adverse" in columns else "change < 0"
    message = "message" if "message" in columns else "kpi"
    return (
        f"select alert_date, {kind} as kind, kpi, scope, scope_value, change, severity, {adverse} as is_adverse, "
        f"{message} as message from alerts where {where} "
        # tracking first, then the whole business, the worst first
        f"order by alert_date desc, {kind} = 'tracking' desc, scope = 'all' desc, {adverse} desc, "
        "severity = 'critical' desc, abs(change) desc, kpi, scope_value"
    )


def latest_alert_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last day of data, which a daily run reports on: the last day of kpi_daily with sessions or spend (as in
    int_kpi_alert_daily: a day holding only a feed order stamped past the last loaded day is not complete)."""
    try:
        return con.execute("select max(date) from kpi_daily where sessions > 0 or spend > 0").fetchone()[0]
    except duckdb.Error:
        return None


def digest_line(con: duckdb.DuckDBPyConnection, day: date) -> str | None:
    """One line about `day`, e.g.
    `alerts 2026-02-25: 2 declines of the whole business: conversion_rate −42 % (critical), orders −35 % · 1 in a
    channel · 3 rises`. None when the connection has no alerts view."""
    columns = _columns(con)
    if not columns:
        return None
    rows = con.execute(_alert_sql(columns, "alert_date = ?"), [day]).fetchall()
    if not rows:
        return f"alerts {day}: none (no KPI moved both a lot and significantly)"
    parts: list[str] = []
    tracking = [r for r in rows if r[1] == "tracking"]
    if tracking:
        parts.append("tracking loss suspected: " + tracking[0][8].split(": tracking loss suspected")[0])
    whole = [r for r in rows if r[1] != "tracking" and r[3] == "all" and r[7]]
    if whole:
        listed = ", ".join(f"{r[2]} {_pct(r[5])}" + (" (critical)" if r[6] == "critical" else "") for r in whole[:4])
        more = f" and {len(whole) - 4} more" if len(whole) > 4 else ""
        noun = "decline" if len(whole) == 1 else "declines"
        parts.append(f"{len(whole)} {noun} of the whole business: {listed}{more}")
    elif not tracking:
        parts.append("no decline of the whole business")
    channel = [r for r in rows if r[1] != "tracking" and r[3] != "all" and r[7]]
    if channel:
        names = sorted({r[4] for r in channel})
        parts.append(f"{len(channel)} in a channel ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})")
    rises = [r for r in rows if r[1] != "tracking" and not r[7]]
    if rises:
        parts.append(f"{len(rises)} {'rise' if len(rises) == 1 else 'rises'}")
    return f"alerts {day}: " + " · ".join(parts)


def alerts_table(con: duckdb.DuckDBPyConnection, first_day: date, last_day: date, limit: int = 8) -> Table | None:
    """The tracking losses and adverse changes of the whole business from first_day to last_day, latest first,
    with a caption counting what else fired (per channel, favourable). None without an alerts view."""
    columns = _columns(con)
    if not columns:
        return None
    rows = con.execute(_alert_sql(columns, "alert_date between ? and ?"), [first_day, last_day]).fetchall()
    lead = [r for r in rows if r[1] == "tracking" or (r[3] == "all" and r[7])]
    table = Table(
        title=f"Declines of the whole business and tracking losses, {first_day:%B %Y}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for head in ("date", "kind", "kpi", "change", "severity", "what happened"):
        table.add_column(head, justify="right" if head == "change" else "left", no_wrap=head != "what happened")
    for alert_date, kind, kpi, _scope, _value, change, severity, _adverse, message in lead[:limit]:
        colour = "red" if severity == "critical" else "yellow"
        # Text: a message from data is never read as rich markup
        table.add_row(str(alert_date), Text(kind), Text(kpi), _pct(change), Text(severity, colour), Text(message))
    channel = sum(1 for r in rows if r[1] != "tracking" and r[3] != "all" and r[7])
    rises = sum(1 for r in rows if r[1] != "tracking" and not r[7])
    shown = f"{min(len(lead), limit)} of {len(lead)}" if len(lead) > limit else f"{len(lead)}"
    table.caption = (
        f"{shown} shown; also {channel} declines in a channel and {rises} rises this month: "
        "northstar query \"select * from alerts where alert_date >= '" + f"{first_day}'\""
    )
    if not lead:
        table.caption = f"none this month; {channel} declines in a channel and {rises} rises: the alerts view"
    return table
