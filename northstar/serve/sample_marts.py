"""A tiny, hand-written `marts` schema with the contract columns of MARTS.md.

Publish, query and report tests use it instead of the full pipeline, so they run in a second and their
expected numbers can be worked out on paper. Every day from 2026-01-01 to 2026-02-28 has the same numbers
per channel (see CHANNEL_DAY), except Paid Search's last 7 days of February, when converting sessions fall
from 4 to 1 a day (the alert in fct_kpi_alerts).

Hand-computable January numbers (31 days), e.g. Paid Search: spend 31 × 100 = 3,100; revenue 31 × 300 = 9,300;
ROAS 3.0; macro conversions 31 × 4 = 124; CPA 3,100 / 124 = 25.0.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

FIRST_DAY = "2026-01-01"
LAST_DAY = "2026-02-28"

# channel, campaign_key, spend, impressions, clicks, sessions, visitors, engaged, converting, macro, micro,
# leads, goal_score, orders, revenue, gross_margin
CHANNEL_DAY = [
    ("Paid Search", "google_ads:111", 100.0, 10_000, 200, 200, 180, 120, 4, 4, 10, 1, 45.0, 3, 300.0, 120.0),
    ("Email", "utm:newsletter/email/jan", 0.0, 0, 0, 50, 45, 40, 1, 1, 5, 0, 15.0, 1, 80.0, 30.0),
    ("Direct", "(none)", 0.0, 0, 0, 100, 90, 50, 2, 2, 4, 1, 28.0, 2, 150.0, 60.0),
]

_DDL = """
create schema if not exists marts;

create or replace table marts.dim_channels as
select * from (values
    ('Paid Search', true, 'Paid clicks on search engines'),
    ('Email', false, 'Newsletter and lifecycle emails'),
    ('Direct', false, 'No source, medium, referrer or click id')
) as t(channel, is_paid, description);

create or replace table marts.dim_campaigns as
select
    campaign_key, platform, account_id, campaign_id, campaign_name, channel, is_paid,
    utm_source, utm_medium, utm_campaign,
    cast(first_spend_date as date) as first_spend_date, cast(last_spend_date as date) as last_spend_date
from (values
    ('google_ads:111', 'google_ads', 'acc-1', '111', 'Brand search', 'Paid Search', true,
     'google', 'cpc', 'brand', '2026-01-01', '2026-02-28'),
    ('utm:newsletter/email/jan', null, null, null, null, 'Email', false,
     'newsletter', 'email', 'jan', null, null),
    ('(none)', null, null, null, null, 'Direct', false, null, null, null, null, null)
) as t(campaign_key, platform, account_id, campaign_id, campaign_name, channel, is_paid,
       utm_source, utm_medium, utm_campaign, first_spend_date, last_spend_date);

create or replace table marts.fct_sessions as
select
    session_id, visitor_id, cast(started_at as timestamp) as started_at, cast(ended_at as timestamp) as ended_at,
    cast(session_date as date) as session_date, channel, source, medium, campaign, campaign_key, landing_page,
    referrer, device_category, country, cast(page_views as bigint) as page_views, cast(events as bigint) as events,
    cast(duration_s as double) as duration_s, is_engaged, cast(macro_conversions as bigint) as macro_conversions,
    cast(micro_conversions as bigint) as micro_conversions, cast(leads as bigint) as leads,
    cast(goal_score as double) as goal_score, cast(orders as bigint) as orders, cast(revenue as double) as revenue,
    cast(gross_margin as double) as gross_margin, is_first_session
from (values
    ('s1', 'v1', '2026-01-01 10:00:00', '2026-01-01 10:05:00', '2026-01-01', 'Paid Search', 'google', 'cpc',
     'brand', 'google_ads:111', '/products/lamp', null, 'desktop', 'DE', 3, 5, 300, true, 1, 0, 0, 10, 1, 100.0,
     40.0, true),
    ('s2', 'v1', '2026-02-28 09:00:00', '2026-02-28 09:01:00', '2026-02-28', 'Direct', null, null, null, '(none)',
     '/', null, 'mobile', 'DE', 1, 1, 60, false, 0, 0, 0, 0, 0, 0.0, 0.0, false)
) as t(session_id, visitor_id, started_at, ended_at, session_date, channel, source, medium, campaign, campaign_key,
       landing_page, referrer, device_category, country, page_views, events, duration_s, is_engaged,
       macro_conversions, micro_conversions, leads, goal_score, orders, revenue, gross_margin, is_first_session);

create or replace temp table channel_day as
select * from (values {channel_day}) as t(
    channel, campaign_key, spend, impressions, clicks, sessions, visitors, engaged_sessions, converting_sessions,
    macro_conversions, micro_conversions, leads, goal_score, orders, revenue, gross_margin
);

create or replace table marts.fct_kpi_daily as
with days as (
    select cast(range as date) as date
    from range(date '{first}', date '{last}' + interval 1 day, interval 1 day)
),
base as (
    select
        days.date, c.channel, c.campaign_key, c.spend, c.impressions, c.clicks, c.sessions, c.visitors,
        c.engaged_sessions,
        case when c.channel = 'Paid Search' and days.date > date '{last}' - 7 then 1 else c.converting_sessions end
            as converting_sessions,
        c.micro_conversions as micro_converting_sessions,
        case when c.channel = 'Paid Search' and days.date > date '{last}' - 7 then 1 else c.macro_conversions end
            as macro_conversions,
        c.micro_conversions, c.leads, c.goal_score, c.orders, c.revenue, c.gross_margin
    from days cross join channel_day as c
)
select
    date, channel, campaign_key, spend, impressions, clicks,
    clicks / nullif(impressions, 0) as ctr, spend / nullif(clicks, 0) as cpc,
    1000.0 * spend / nullif(impressions, 0) as cpm,
    sessions, visitors, engaged_sessions, engaged_sessions / nullif(sessions, 0) as engagement_rate,
    converting_sessions, micro_converting_sessions, macro_conversions, micro_conversions, leads,
    converting_sessions / nullif(sessions, 0) as conversion_rate,
    micro_converting_sessions / nullif(sessions, 0) as micro_conversion_rate,
    goal_score, orders, revenue, gross_margin, revenue / nullif(orders, 0) as aov,
    spend / nullif(macro_conversions, 0) as cpa, spend / nullif(leads, 0) as cpl,
    revenue / nullif(spend, 0) as roas, (gross_margin - spend) / nullif(spend, 0) as roi
from base;

create or replace table marts.fct_campaign_performance as
with monthly as (
    select
        campaign_key, cast(date_trunc('month', date) as date) as month, any_value(channel) as channel,
        sum(spend) as spend, cast(sum(impressions) as bigint) as impressions, cast(sum(clicks) as bigint) as clicks,
        cast(sum(sessions) as bigint) as sessions, cast(sum(macro_conversions) as bigint) as macro_conversions,
        cast(sum(leads) as bigint) as leads, cast(sum(orders) as bigint) as orders,
        sum(revenue) as revenue, sum(gross_margin) as gross_margin,
        cast(sum(converting_sessions) as bigint) as converting_sessions
    from marts.fct_kpi_daily
    group by all
)
select
    campaign_key, month, channel, spend, impressions, clicks, sessions, macro_conversions, leads, orders,
    revenue, gross_margin,
    converting_sessions / nullif(sessions, 0) as conversion_rate,
    spend / nullif(macro_conversions, 0) as cpa, spend / nullif(leads, 0) as cpl,
    revenue / nullif(spend, 0) as roas, (gross_margin - spend) / nullif(spend, 0) as roi,
    cast(macro_conversions as double) as attributed_conversions, revenue as attributed_revenue,
    gross_margin as attributed_gross_margin,
    cast(case when spend > 0 then 30 end as double) as target_cpa,
    cast(40 as double) as break_even_cpa,
    case when spend > 0 then (gross_margin - spend) / spend end as prr,
    cast(case when spend > 0 then 0.15 end as double) as attribution_spread,
    case
        when spend = 0 then 'keep'
        when month = date '2026-02-01' then 'fix'
        else 'scale'
    end as recommendation,
    case
        when spend = 0 then 'No spend: organic traffic, nothing to decide.'
        when month = date '2026-02-01' then 'CPA above target in the last week: conversion rate fell.'
        else 'CPA 25.00 below target 30.00 and ROI positive: add budget.'
    end as recommendation_reason
from monthly;

create or replace table marts.fct_kpi_scorecard as
with monthly as (
    select
        cast(date_trunc('month', date) as date) as month,
        sum(gross_margin) as gross_margin, sum(revenue) as revenue, sum(spend) as spend,
        sum(sessions) as sessions, sum(converting_sessions) as converting_sessions,
        sum(macro_conversions) as macro_conversions, sum(orders) as orders
    from marts.fct_kpi_daily
    group by 1
),
kpis as (
    select month, 'gross_margin' as kpi, gross_margin as actual, 12000.0 as target, true as is_north_star
    from monthly
    union all
    select month, 'revenue', revenue, 15000.0, false from monthly
    union all
    select month, 'spend', spend, 3500.0, false from monthly
    union all
    select month, 'sessions', sessions, 10000.0, false from monthly
    union all
    select month, 'conversion_rate', converting_sessions / sessions, 0.02, false from monthly
    union all
    select month, 'cpa', spend / macro_conversions, 15.0, false from monthly
    union all
    select month, 'roas', revenue / spend, 4.0, false from monthly
    union all
    select month, 'aov', revenue / orders, 90.0, false from monthly
)
select
    month, kpi, 'all' as scope, '' as scope_value, cast(actual as double) as actual, cast(target as double) as target,
    case when kpi = 'cpa' then target / actual else actual / target end as attainment,
    case when kpi = 'cpa' then actual <= target else actual >= target end as on_track,
    is_north_star
from kpis;

create or replace table marts.fct_kpi_alerts as
select
    cast(alert_date as date) as alert_date, kpi, scope, scope_value, cast(actual as double) as actual,
    cast(baseline as double) as baseline, cast((actual - baseline) / baseline as double) as change,
    cast(p_value as double) as p_value, severity, suspected_step
from (values
    ('{last}', 'conversion_rate', 'channel', 'Paid Search', 0.005, 0.02, 0.0001, 'high',
     'add_to_cart → checkout'),
    ('{last}', 'cpa', 'channel', 'Paid Search', 100.0, 25.0, 0.0001, 'high', null)
) as t(alert_date, kpi, scope, scope_value, actual, baseline, p_value, severity, suspected_step);

create or replace table marts.fct_funnel_daily as
with stages as (
    select * from (values
        ('ecommerce', 1, 'session_start', 1.0, 1.0),
        ('ecommerce', 2, 'product_view', 0.6, 0.65),
        ('ecommerce', 3, 'add_to_cart', 0.2, 0.22),
        ('ecommerce', 4, 'checkout', 0.05, 0.06),
        ('ecommerce', 5, 'purchase', 0.02, 0.02),
        ('b2b', 1, 'session_start', 1.0, 1.0),
        ('b2b', 2, 'solution_view', 0.3, 0.3),
        ('b2b', 3, 'pricing_view', 0.1, 0.12),
        ('b2b', 4, 'demo_request', 0.01, 0.01)
    ) as t(funnel_id, stage_order, stage_name, closed_share, open_share)
),
reached as (
    select
        k.date as session_date, s.funnel_id, cast(s.stage_order as bigint) as stage_order, s.stage_name, k.channel,
        cast(round(k.sessions * s.closed_share) as bigint) as sessions_closed,
        cast(round(k.sessions * s.open_share) as bigint) as sessions_open
    from marts.fct_kpi_daily as k cross join stages as s
),
stepped as (
    select
        *,
        lag(sessions_closed) over (partition by session_date, funnel_id, channel order by stage_order)
            as prev_closed,
        lag(sessions_open) over (partition by session_date, funnel_id, channel order by stage_order) as prev_open
    from reached
)
select
    session_date, funnel_id, stage_order, stage_name, channel, sessions_closed, sessions_open,
    sessions_closed / nullif(prev_closed, 0) as step_conversion_closed,
    1 - sessions_closed / nullif(prev_closed, 0) as drop_off_closed,
    sessions_open / nullif(prev_open, 0) as step_conversion_open,
    1 - sessions_open / nullif(prev_open, 0) as drop_off_open
from stepped;

create or replace table marts.fct_attributed_conversions as
select
    conversion_id, model, session_id, 'purchase' as goal_id, cast(conversion_date as timestamp) as occurred_at,
    cast(conversion_date as date) as conversion_date, 'v1' as visitor_id,
    cast(conversion_date as timestamp) as session_started_at, cast(touch_position as bigint) as touch_position,
    cast(touches as bigint) as touches, touch_position = touches as is_converting_session, channel, campaign_key,
    cast(credit as double) as credit, cast(credit * 100 as double) as attributed_revenue,
    cast(credit * 40 as double) as attributed_gross_margin, cast(credit * 100 as double) as attributed_value
from (values
    ('c1', 'first_touch', 's0', '2026-01-10', 1, 2, 'Email', 'utm:newsletter/email/jan', 1.0),
    ('c1', 'last_touch', 's1', '2026-01-10', 2, 2, 'Paid Search', 'google_ads:111', 1.0),
    ('c1', 'last_non_direct', 's1', '2026-01-10', 2, 2, 'Paid Search', 'google_ads:111', 1.0),
    ('c1', 'linear', 's0', '2026-01-10', 1, 2, 'Email', 'utm:newsletter/email/jan', 0.5),
    ('c1', 'linear', 's1', '2026-01-10', 2, 2, 'Paid Search', 'google_ads:111', 0.5),
    ('c1', 'position_based', 's0', '2026-01-10', 1, 2, 'Email', 'utm:newsletter/email/jan', 0.5),
    ('c1', 'position_based', 's1', '2026-01-10', 2, 2, 'Paid Search', 'google_ads:111', 0.5),
    ('c1', 'time_decay', 's0', '2026-01-10', 1, 2, 'Email', 'utm:newsletter/email/jan', 0.25),
    ('c1', 'time_decay', 's1', '2026-01-10', 2, 2, 'Paid Search', 'google_ads:111', 0.75),
    ('c2', 'first_touch', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'last_touch', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'last_non_direct', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'linear', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'position_based', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'time_decay', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0)
) as t(conversion_id, model, session_id, conversion_date, touch_position, touches, channel, campaign_key, credit);
"""


def _sql_literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, float):
        return f"cast({value!r} as double)"
    return f"cast({value!r} as bigint)"


def build_sample_marts(path: Path) -> Path:
    """Create (or replace) a DuckDB file at `path` holding the sample marts; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    channel_day = ", ".join("(" + ", ".join(_sql_literal(v) for v in row) + ")" for row in CHANNEL_DAY)
    with duckdb.connect(str(path)) as con:
        con.execute(_DDL.format(first=FIRST_DAY, last=LAST_DAY, channel_day=channel_day))
    return path
