"""The KPI marts find the incidents the generator plants (incidents.json next to the landing files).

generate (default 90 days from 2026-01-01, 30k visitors) -> load -> dbt build -> query the marts:
  - checkout_breakage {start, end, funnel_step}: a falling conversion-rate alert (scope all) dated inside the
    breakage week that names the manifest's funnel step, and the strongest alert of the incident (up to 3 days
    after it, while the 7-day window still holds it) names it too;
  - campaign_overspend {campaign_key, bad_month}: a cut or fix recommendation for that campaign in that month;
  - tracking_outage {date}: one tracking alert (tracking loss, the feed held) on that very day and no business
    decline that day; after the checkout breakage, no rise made by its days in the baselines.
About 2 minutes on 2 cores; the warehouse, dbt target and logs live under pytest's tmp_path.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    from northstar.build import run_dbt_build
    from northstar.ingest.load import load_paths
    from northstar.sample.generate import generate

    landing = tmp_path_factory.mktemp("landing")
    generate(landing, progress=False)
    manifest = json.loads((landing / "incidents.json").read_text())
    settings = Settings(warehouse_dir=tmp_path_factory.mktemp("wh"), landing_dir=landing)
    report = load_paths(settings, [str(landing)], progress=False)
    assert report.errors == []
    result = run_dbt_build(settings)
    assert result.success, [f"{n.name}: {n.message}" for n in result.failures] or result.error
    return settings, manifest


def _query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_checkout_breakage_alert_names_the_funnel_step(built: tuple[Settings, dict]) -> None:
    settings, manifest = built
    incident = manifest["checkout_breakage"]
    start, end = date.fromisoformat(incident["start"]), date.fromisoformat(incident["end"])
    rows = _query(
        settings,
        """
        select alert_date, scope, scope_value, change, significance, suspected_step
        from marts.fct_kpi_alerts
        where kpi = 'conversion_rate' and direction = 'decline' and alert_date between ? and ?
        order by alert_date
        """,
        [start, end + timedelta(days=3)],
    )
    at_all = [r for r in rows if r[1] == "all"]
    assert at_all, f"no scope-all conversion-rate alert between {start} and {end} + 3 days: {rows}"
    in_week = [r for r in at_all if r[0] <= end]
    assert any(r[5] == incident["funnel_step"] for r in in_week), f"no alert in the week names the step: {in_week}"
    # the strongest alert of the incident names the broken step, and it is large and significant
    strongest = min(at_all, key=lambda r: r[4])
    assert strongest[5] == incident["funnel_step"], strongest
    assert strongest[3] <= -0.20 and strongest[4] < 0.01
    # the channels with the most purchases see it too, with the same step
    per_channel = [r for r in rows if r[1] == "channel" and r[5] == incident["funnel_step"]]
    assert per_channel, rows


def test_overspending_campaign_gets_cut_or_fix(built: tuple[Settings, dict]) -> None:
    settings, manifest = built
    incident = manifest["campaign_overspend"]
    month = date.fromisoformat(incident["bad_month"] + "-01")
    rows = _query(
        settings,
        """
        select recommendation, recommendation_reason, attributed_cpa, break_even_cpa
        from marts.fct_campaign_performance
        where campaign_key = ? and month = ?
        """,
        [incident["campaign_key"], month],
    )
    assert len(rows) == 1, rows
    recommendation, reason, cpa, break_even = rows[0]
    assert recommendation in ("cut", "fix"), (recommendation, reason)
    assert cpa > break_even
    assert "break-even" in reason
    # the campaigns that are not overspending are not all cut: the rule discriminates
    others = _query(
        settings,
        "select count(*) from marts.fct_campaign_performance "
        "where month = ? and campaign_key <> ? and recommendation in ('scale', 'keep')",
        [month, incident["campaign_key"]],
    )
    assert others[0][0] > 0


def test_tracking_outage_day_raises_one_tracking_alert_and_no_business_alert(built: tuple[Settings, dict]) -> None:
    settings, manifest = built
    outage = date.fromisoformat(manifest["tracking_outage"]["date"])
    rows = _query(
        settings,
        "select kind, kpi, scope, window_days, change, severity, message from marts.fct_kpi_alerts "
        "where alert_date = ?",
        [outage],
    )
    tracking = [r for r in rows if r[0] == "tracking"]
    assert len(tracking) == 1, rows
    kind, kpi, scope, window_days, change, severity, message = tracking[0]
    assert scope == "all" and window_days == 1 and change < -0.5 and severity == "critical"
    assert "feed orders are steady" in message and "tracking loss suspected" in message, message
    # orders and revenue did not fall in the feed: no business decline that day, at any scope. (A rise may
    # stand: the demo's traffic grows about 30 % from February to March, and the feed shows it.)
    assert [r for r in rows if r[0] == "business" and r[4] < 0] == [], rows
    # and only that day: the days around it raise no tracking alert
    around = _query(
        settings,
        "select alert_date from marts.fct_kpi_alerts where kind = 'tracking' and alert_date between ? and ? "
        "and alert_date <> ?",
        [outage - timedelta(days=7), outage + timedelta(days=7), outage],
    )
    assert around == []


def test_no_rise_after_the_checkout_breakage_comes_from_its_broken_days(built: tuple[Settings, dict]) -> None:
    """The broken days stay out of the baselines of the weeks after, so nothing "rises" back to normal.

    The conversion rate only returns to its level after the breakage: no rise at all. Orders do grow in the demo
    (sessions +20 % from the TikTok push and returning visitors), so an orders rise may stand, but only if it is
    a rise of at least alert_min_change against the clean 4 weeks before the breakage too, counted here from
    fct_kpi_daily (the orders feed), not from the alert's own baseline.
    """
    settings, manifest = built
    start = date.fromisoformat(manifest["checkout_breakage"]["start"])
    end = date.fromisoformat(manifest["checkout_breakage"]["end"])
    rows = _query(
        settings,
        "select alert_date, kpi, window_days, change from marts.fct_kpi_alerts "
        "where kpi in ('orders', 'conversion_rate') and scope = 'all' and direction = 'rise' "
        "and alert_date between ? and ? order by alert_date",
        [end + timedelta(days=1), end + timedelta(days=35)],
    )
    assert [r for r in rows if r[1] == "conversion_rate"] == [], rows
    (clean_per_day,) = _query(
        settings,
        "select sum(orders) / 28.0 from marts.fct_kpi_daily where date between ? and ?",
        [start - timedelta(days=28), start - timedelta(days=1)],
    )[0]
    for alert_date, _, window_days, change in rows:
        (in_window,) = _query(
            settings,
            "select sum(orders) from marts.fct_kpi_daily where date between ? and ?",
            [alert_date - timedelta(days=window_days - 1), alert_date],
        )[0]
        against_clean = in_window / (clean_per_day * window_days) - 1
        assert against_clean >= 0.20, (alert_date, window_days, change, in_window, clean_per_day)


def test_credits_sum_to_one_and_every_macro_conversion_is_attributed(built: tuple[Settings, dict]) -> None:
    settings, _ = built
    bad = _query(
        settings,
        "select conversion_id, model, sum(credit) from marts.fct_attributed_conversions "
        "group by 1, 2 having abs(sum(credit) - 1) > 1e-9",
    )
    assert bad == []
    # every macro conversion is attributed, but for a purchase whose order the feed stamps after data_through
    # (the demo's last order, past the last midnight): it waits for that day's data, as in fct_kpi_daily
    missing = _query(
        settings,
        """
        select c.order_id, o.order_date - (select data_through from intermediate.int_data_through)
        from marts.fct_conversions as c
        left join intermediate.int_orders_credited as o on c.order_id = o.order_id
        where c.goal_type = 'macro' and not exists
            (select 1 from marts.fct_attributed_conversions as a where a.conversion_id = c.conversion_id)
        """,
    )
    assert len(missing) <= 5 and all(days_after == 1 for _, days_after in missing), missing


def test_generated_paths_are_isolated(built: tuple[Settings, dict]) -> None:
    settings, _ = built
    assert Path(settings.warehouse_path).exists()
    assert "pytest" in str(settings.warehouse_path)


def test_marts_revenue_equals_the_orders_feed_every_day(built: tuple[Settings, dict]) -> None:
    """The orders feed is the revenue truth (issue 11): every day fct_kpi_daily holds the feed's completed orders
    and its net revenue (completed - refunded, reporting currency) to the cent, the tracking-outage day included,
    and no completed order of raw.orders is lost on the way: those the marts do not count yet are the purchases
    just past the last midnight, which the feed stamps on the day after data_through (issue 12)."""
    settings, manifest = built
    raw_completed = _query(
        settings,
        """
        select count(*) from (
            select status from raw.orders
            qualify row_number() over (partition by order_id order by loaded_at desc, load_id desc, row_number desc) = 1
        ) where lower(trim(status)) = 'completed'
        """,
    )[0][0]
    days = _query(
        settings,
        """
        with feed as (
            select order_date as day, count(*) filter (where is_completed) as orders, sum(net_revenue) as revenue
            from intermediate.int_orders_converted
            where order_date <= (select data_through from intermediate.int_data_through)
            group by 1
        ),
        marts as (
            select date as day, sum(orders) as orders, sum(revenue) as revenue from marts.fct_kpi_daily group by 1
        )
        select coalesce(feed.day, marts.day), coalesce(feed.orders, 0), coalesce(marts.orders, 0),
            coalesce(feed.revenue, 0), coalesce(marts.revenue, 0)
        from feed full join marts on feed.day = marts.day order by 1
        """,
    )
    assert len(days) >= 90
    wrong = [d for d in days if d[1] != d[2] or abs(float(d[3]) - d[4]) >= 0.005]
    assert wrong == [], wrong[:5]
    held = _query(
        settings,
        """
        select order_date - (select data_through from intermediate.int_data_through), count(*)
        from intermediate.int_orders_converted
        where is_completed and order_date > (select data_through from intermediate.int_data_through) group by 1
        """,
    )
    assert all(days_after == 1 for days_after, _ in held) and sum(n for _, n in held) <= 5, held
    assert sum(d[2] for d in days) + sum(n for _, n in held) == raw_completed > 2000  # 0 orders lost
    outage = date.fromisoformat(manifest["tracking_outage"]["date"])
    (on_outage,) = [d for d in days if d[0] == outage]
    assert on_outage[2] == on_outage[1] > 20, on_outage  # ~33 orders although ~97 % of the events are lost
    # the orders no session carries are visible as their own channel
    untracked = _query(
        settings, "select sum(orders) from marts.fct_kpi_daily where channel = '(untracked)' and date = ?", [outage]
    )[0][0]
    assert untracked > 0


def test_reconciliation_shows_the_outage_and_the_platforms_over_claiming(built: tuple[Settings, dict]) -> None:
    settings, manifest = built
    outage = date.fromisoformat(manifest["tracking_outage"]["date"])
    rows = _query(
        settings,
        "select date, orders_in_feed, match_rate, orders_credited_via_customer + orders_untracked "
        "from marts.fct_revenue_reconciliation where platform = '(all)' order by date",
    )
    by_day = {r[0]: r for r in rows}
    assert by_day[outage][2] < 0.2 and by_day[outage][3] > 20, by_day[outage]
    normal = [r[2] for d, r in by_day.items() if d != outage and r[1] >= 10]
    assert min(normal) > 0.9, min(normal)
    # every online ad platform claims more purchases than northstar credits it with; together they claim more
    # purchases than the whole paid side gets credit for
    claims = _query(
        settings,
        """
        select platform, sum(platform_conversions), sum(attributed_purchases)
        from marts.fct_revenue_reconciliation
        where platform in ('(all)', 'google_ads', 'meta_ads', 'microsoft_ads', 'tiktok_ads')
        group by 1
        """,
    )
    for platform, claimed, credited in claims:
        assert claimed > credited > 0, (platform, claimed, credited)
