"""Fixtures shared by the unit and integration tests: warehouses of sample marts, the report's marts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.serve.sample_marts import build_sample_marts

# On top of serve.sample_marts (3 channels, every day the same: 350 sessions and 6 orders):
# - one tracking alert in fct_kpi_alerts on 2026-02-21 whose message would be markup if it were not escaped;
# - a tracking outage on 2026-02-21 and 2026-02-14: sessions a tenth (20 + 5 + 10 = 35), orders held (6);
# - 2 feed orders no session carries on 2026-02-25, in the channel (untracked);
# - fct_revenue_reconciliation (its columns as models/marts/reconciliation describes them) for 2026-02-27 and
#   2026-02-28: the feed against tracking on platform '(all)' (which also sums the platforms), and three ad
#   platforms. February: feed 10 + 12 = 22 orders, 2,200 net revenue; matched 9 + 3 = 12 (54.5 %), the other 10
#   credited via the customer 1 + 2 = 3, untracked 0 + 7 = 7; tracked revenue 900 + 300 = 1,200; google_ads claims
#   6 + 5 = 11 and meta_ads 7 + 6 = 13 conversions (24 for 22 feed orders) against 4 + 3 = 7 and
#   3 + 2.5 = 5.5 attributed purchases (11 / 7 = 1.57x, 13 / 5.5 = 2.36x, together 24 / 12.5 = 1.92x); tv spends
#   50 and claims nothing.
HEALTH_SQL = """
insert into marts.fct_kpi_alerts by name
select date '2026-02-21' as alert_date, 'sessions_per_order' as kpi, 'all' as scope, 'all' as scope_value,
    'tracking' as kind, 1 as window_days, 5.8 as actual, 58.3 as baseline, -0.9 as change, 1e-6 as significance,
    1e-6 as p_value, 'critical' as severity, 'decline' as direction, true as is_adverse,
    'sessions -90.0% while feed orders are steady: tracking loss suspected <img src=x onerror=alert(2)>' as message;

update marts.fct_kpi_daily set sessions = sessions // 10 where date in ('2026-02-21', '2026-02-14');
insert into marts.fct_kpi_daily by name
select * replace ('(untracked)' as channel, '(untracked)' as campaign_key, 0 as sessions, 0 as visitors,
    0 as engaged_sessions, 0 as converting_sessions, 0 as micro_converting_sessions, 0 as macro_conversions,
    0 as micro_conversions, 0 as leads, 0.0 as goal_score)
from marts.fct_kpi_daily where date = '2026-02-25' and channel = 'Direct';

create table marts.fct_revenue_reconciliation as
select cast(date as date) as date, platform, orders_in_feed, feed_net_revenue, orders_matched_to_tracked_purchase,
    orders_credited_via_customer, orders_untracked, orders_matched_to_tracked_purchase / orders_in_feed as match_rate,
    tracked_purchases, tracked_purchases_without_feed_order, tracked_revenue, spend, platform_conversions,
    platform_conversion_value, 'last_non_direct' as attribution_model, attributed_purchases, attributed_revenue,
    platform_conversions / attributed_purchases as over_claim_ratio
from (values
    ('2026-02-27', '(all)', 10, 1000.0, 9, 1, 0, 10, 1, 900.0, 180.0, 13.0, 1300.0, 7.0, 700.0),
    ('2026-02-28', '(all)', 12, 1200.0, 3, 2, 7, 3, 0, 300.0, 180.0, 11.0, 1100.0, 5.5, 550.0),
    ('2026-02-27', 'google_ads', null, null, null, null, null, null, null, null, 100.0, 6.0, 600.0, 4.0, 400.0),
    ('2026-02-28', 'google_ads', null, null, null, null, null, null, null, null, 100.0, 5.0, 500.0, 3.0, 300.0),
    ('2026-02-27', 'meta_ads', null, null, null, null, null, null, null, null, 80.0, 7.0, 700.0, 3.0, 300.0),
    ('2026-02-28', 'meta_ads', null, null, null, null, null, null, null, null, 80.0, 6.0, 600.0, 2.5, 250.0),
    ('2026-02-28', 'tv', null, null, null, null, null, null, null, null, 50.0, null, null, 0.0, 0.0)
) as t(date, platform, orders_in_feed, feed_net_revenue, orders_matched_to_tracked_purchase,
       orders_credited_via_customer, orders_untracked, tracked_purchases, tracked_purchases_without_feed_order,
       tracked_revenue, spend, platform_conversions, platform_conversion_value, attributed_purchases,
       attributed_revenue);
"""


@pytest.fixture(scope="session")
def sample_marts_settings(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Settings]:
    """make(name): Settings of a new warehouse (a temp dir named name) holding northstar.serve.sample_marts."""

    def make(name: str) -> Settings:
        root = tmp_path_factory.mktemp(name)
        settings = Settings(warehouse_dir=root, landing_dir=root / "landing", threads=1, memory_limit="1GB")
        build_sample_marts(settings.warehouse_path)
        return settings

    return make


@pytest.fixture(scope="session")
def add_report_health_marts() -> Callable[[Path], None]:
    """Turns a sample_marts warehouse into one with the marts of issue 11 (HEALTH_SQL)."""

    def add(warehouse_path: Path) -> None:
        with duckdb.connect(str(warehouse_path)) as con:
            con.execute(HEALTH_SQL)

    return add
