"""The terminal KPI summary `northstar demo` ends with: north star, headline KPIs, alerts, verdicts.

It only reads the marts (never recomputes a metric): the numbers are the ones analysts see.
"""

from __future__ import annotations

import duckdb
from rich.console import Group
from rich.table import Table
from rich.text import Text

from northstar.config import Settings
from northstar.serve import fmt
from northstar.tables import Fitted


def kpi_summary(con: duckdb.DuckDBPyConnection, settings: Settings) -> Group:
    """Headline numbers of the latest month, the latest declines that fired an alert, paid campaign verdicts."""
    cur = settings.reporting_currency
    month = con.execute("select max(month) from marts.fct_kpi_scorecard").fetchone()[0]
    label = fmt.month_label(month) if month else "(no data)"

    headline = Table(title=f"Headline KPIs, {label}", show_lines=False)
    for col in ("kpi", "actual", "target", "attainment", "on track"):
        headline.add_column(col, justify="left" if col == "kpi" else "right", no_wrap=col != "kpi")
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
    for kpi, actual, target, attainment, on_track, is_north_star in rows:
        name = Text(f"★ {kpi} (north star)", style="bold") if is_north_star else Text(kpi)
        headline.add_row(
            name,
            fmt.kpi_value(kpi, actual, cur),
            fmt.kpi_value(kpi, target, cur),
            fmt.pct(attainment, 2),
            "" if on_track is None else ("yes" if on_track else Text("no", style="red")),
        )

    n_alerts, n_declines = con.execute(
        "select count(*), count(*) filter (where change < 0) from marts.fct_kpi_alerts"
    ).fetchone()
    alerts = Table(title="Latest declines of the whole business that fired an alert")
    alerts.caption = (
        f"{n_alerts} alerts in all ({n_declines} declines), per channel too: marts.fct_kpi_alerts and the report"
    )
    for col in ("date", "kpi", "change", "p-value", "severity", "suspected step"):
        number = col in ("date", "change", "p-value")
        alerts.add_column(col, justify="right" if number and col != "date" else "left", no_wrap=number)
    for alert_date, kpi, change, p_value, severity, step in con.execute(
        """
        select alert_date, kpi, change, significance, severity, suspected_step
        from marts.fct_kpi_alerts
        where scope = 'all' and change < 0
        order by alert_date desc, abs(change) desc
        limit 8
        """
    ).fetchall():
        row = (str(alert_date), Text(kpi), fmt.pct(change, 2), f"{p_value:.1e}", Text(str(severity)), Text(step or ""))
        alerts.add_row(*row)

    # Campaigns by name, as `northstar kpis` shows them: the key only where two of the month share a name.
    verdicts = Table(title=f"Campaign recommendations, {label}")
    for col in ("campaign", "recommendation", "reason"):
        verdicts.add_column(col)
    campaigns = con.execute(
        """
        select campaign_name, campaign_key, spend > 0 and recommendation <> 'not enough data' as judged,
            recommendation, recommendation_reason
        from marts.fct_campaign_performance
        where month = (select max(month) from marts.fct_campaign_performance)
        """
    ).fetchall()
    names = fmt.campaign_labels([(name, key) for name, key, *_ in campaigns])
    order = {"cut": 0, "fix": 1, "scale": 2}
    picked = sorted(
        ((rec, name, why) for name, (*_, judged, rec, why) in zip(names, campaigns, strict=True) if judged),
        key=lambda r: (order.get(r[0], 3), r[1]),
    )
    for recommendation, name, reason in picked[:12]:
        verdicts.add_row(Text(name), Text(recommendation or ""), Text(reason or ""))
    if not picked:
        verdicts.caption = "none: no paid campaign has enough conversions for a verdict this month"

    return Group(Fitted(headline), Fitted(alerts), Fitted(verdicts))
