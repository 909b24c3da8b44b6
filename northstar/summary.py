"""The terminal KPI summary `northstar demo` ends with: north star, headline KPIs, alerts, verdicts.

It only reads the marts (never recomputes a metric): the numbers are the ones analysts see.
"""

from __future__ import annotations

import duckdb
from rich.console import Group
from rich.table import Table

from northstar.config import Settings


def _money(value: float | None, currency: str) -> str:
    return "n/a" if value is None else f"{value:,.0f} {currency}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def kpi_summary(con: duckdb.DuckDBPyConnection, settings: Settings) -> Group:
    """Headline numbers of the latest month, the latest declines that fired an alert, paid campaign verdicts."""
    cur = settings.reporting_currency
    month = con.execute("select max(month) from marts.fct_kpi_scorecard").fetchone()[0]

    headline = Table(title=f"Headline KPIs, month {month}", show_lines=False)
    for col in ("kpi", "actual", "target", "attainment", "on track"):
        headline.add_column(col, justify="left" if col == "kpi" else "right")
    rows = con.execute(
        """
        select kpi, actual, target, attainment, on_track, is_north_star
        from marts.fct_kpi_scorecard
        where month = ? and scope = 'all'
          and (is_north_star or kpi in ('conversion_rate', 'cpa', 'roas', 'revenue', 'spend', 'aov'))
        order by is_north_star desc, kpi
        """,
        [month],
    ).fetchall()
    fmt = {"conversion_rate": _pct, "roas": _ratio}
    for kpi, actual, target, attainment, on_track, is_north_star in rows:
        show = fmt.get(kpi, lambda v: _money(v, cur))
        label = f"[bold]★ {kpi} (north star)[/bold]" if is_north_star else kpi
        headline.add_row(
            label,
            show(actual),
            show(target),
            _pct(attainment),
            "" if on_track is None else ("yes" if on_track else "[red]no[/red]"),
        )

    n_alerts, n_declines = con.execute(
        "select count(*), count(*) filter (where change < 0) from marts.fct_kpi_alerts"
    ).fetchone()
    alerts = Table(title="Latest declines of the whole business that fired an alert")
    alerts.caption = (
        f"{n_alerts} alerts in all ({n_declines} declines), per channel too: marts.fct_kpi_alerts and the report"
    )
    for col in ("date", "kpi", "change", "p-value", "severity", "suspected step"):
        alerts.add_column(col)
    for alert_date, kpi, change, p_value, severity, step in con.execute(
        """
        select alert_date, kpi, change, significance, severity, suspected_step
        from marts.fct_kpi_alerts
        where scope = 'all' and change < 0
        order by alert_date desc, abs(change) desc
        limit 8
        """
    ).fetchall():
        alerts.add_row(str(alert_date), kpi, _pct(change), f"{p_value:.1e}", str(severity), step or "")

    verdicts = Table(title=f"Campaign recommendations, month {month}")
    for col in ("campaign", "recommendation", "reason"):
        verdicts.add_column(col)
    for campaign_key, recommendation, reason in con.execute(
        """
        select campaign_key, recommendation, recommendation_reason
        from marts.fct_campaign_performance
        where month = (select max(month) from marts.fct_campaign_performance)
          and spend > 0 and recommendation <> 'not enough data'
        order by case recommendation when 'cut' then 0 when 'fix' then 1 when 'scale' then 2 else 3 end, campaign_key
        limit 12
        """
    ).fetchall():
        verdicts.add_row(campaign_key, recommendation, reason)

    return Group(headline, alerts, verdicts)
