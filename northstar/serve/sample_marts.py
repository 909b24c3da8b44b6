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
    cast(referrer as varchar) as referrer, device_category, country, cast(page_views as bigint) as page_views,
    cast(events as bigint) as events,
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
        k.campaign_key, cast(date_trunc('month', k.date) as date) as month, any_value(k.channel) as channel,
        sum(k.spend) as spend, cast(sum(k.impressions) as bigint) as impressions,
        cast(sum(k.clicks) as bigint) as clicks, cast(sum(k.sessions) as bigint) as sessions,
        cast(sum(k.macro_conversions) as bigint) as macro_conversions, cast(sum(k.leads) as bigint) as leads,
        cast(sum(k.orders) as bigint) as orders, sum(k.revenue) as revenue, sum(k.gross_margin) as gross_margin,
        cast(sum(k.converting_sessions) as bigint) as converting_sessions
    from marts.fct_kpi_daily as k
    group by all
),
judged as (
    select
        m.*, c.platform, c.campaign_name, c.is_paid,
        cast(m.macro_conversions as double) as attributed_conversions,
        m.revenue as attributed_revenue, m.gross_margin as attributed_gross_margin,
        m.spend / nullif(m.macro_conversions, 0) as attributed_cpa,
        cast(case when m.spend > 0 then 30 end as double) as target_cpa,
        m.gross_margin / nullif(m.orders, 0) as break_even_cpa,
        case
            when m.spend = 0 then 'keep'
            when m.month = date '2026-02-01' then 'fix'
            else 'scale'
        end as recommendation,
        case
            when m.spend = 0 then 'No spend: it costs nothing, keep it.'
            when m.month = date '2026-02-01' then 'CPA $30.77 is above the target $30.00: conversion rate fell.'
            else 'CPA $25.00 is below the target $30.00 and the break-even $40.00: add budget.'
        end as recommendation_reason
    from monthly as m
    left join marts.dim_campaigns as c on c.campaign_key = m.campaign_key
)
select
    campaign_key, month, channel, platform, campaign_name, is_paid, spend, impressions, clicks,
    clicks / nullif(impressions, 0) as ctr, spend / nullif(clicks, 0) as cpc,
    1000.0 * spend / nullif(impressions, 0) as cpm, sessions, macro_conversions, leads,
    converting_sessions / nullif(sessions, 0) as conversion_rate, orders, revenue, gross_margin,
    revenue / nullif(orders, 0) as aov, gross_margin / nullif(revenue, 0) as margin_rate,
    spend / nullif(macro_conversions, 0) as cpa, spend / nullif(leads, 0) as cpl,
    revenue / nullif(spend, 0) as roas, (gross_margin - spend) / nullif(spend, 0) as roi,
    'last_non_direct' as attribution_model, attributed_conversions, attributed_revenue, attributed_gross_margin,
    attributed_cpa, attributed_revenue / nullif(spend, 0) as attributed_roas,
    (attributed_gross_margin - spend) / nullif(spend, 0) as attributed_roi,
    attributed_conversions * 0.8 as attributed_conversions_first_touch,
    attributed_conversions as attributed_conversions_last_touch,
    attributed_conversions as attributed_conversions_last_non_direct,
    attributed_conversions * 0.9 as attributed_conversions_linear,
    attributed_conversions * 0.9 as attributed_conversions_position_based,
    attributed_conversions * 0.95 as attributed_conversions_time_decay,
    attributed_conversions * 0.85 as attributed_conversions_markov,
    attributed_conversions * 0.9 as attributed_conversions_shapley,
    attributed_conversions * 0.8 as attributed_conversions_min,
    attributed_conversions as attributed_conversions_max,
    target_cpa, break_even_cpa,
    case when spend > 0 then (gross_margin - spend) / spend end as prr,
    recommendation, recommendation_reason
from judged;

create or replace table marts.fct_kpi_scorecard as
with monthly as (
    select
        cast(date_trunc('month', date) as date) as month,
        count(distinct date) as days_with_data,
        sum(gross_margin) as gross_margin, sum(revenue) as revenue, sum(spend) as spend,
        sum(sessions) as sessions, sum(converting_sessions) as converting_sessions,
        sum(macro_conversions) as macro_conversions, sum(orders) as orders
    from marts.fct_kpi_daily
    group by 1
),
kpis as (
    select month, days_with_data, 'gross_margin' as kpi, gross_margin as actual, 12000 as target,
        true as is_north_star, true as additive
    from monthly
    union all
    select month, days_with_data, 'revenue', revenue, 15000, false, true from monthly
    union all
    select month, days_with_data, 'spend', spend, 3500, false, true from monthly
    union all
    select month, days_with_data, 'sessions', sessions, 10000, false, true from monthly
    union all
    select month, days_with_data, 'conversion_rate', converting_sessions / sessions, 0.02, false, false
    from monthly
    union all
    select month, days_with_data, 'cpa', spend / macro_conversions, 15, false, false from monthly
    union all
    select month, days_with_data, 'roas', revenue / spend, 4, false, false from monthly
    union all
    select month, days_with_data, 'aov', revenue / orders, 90, false, false from monthly
    union all
    select month, days_with_data, 'clv', null, null, false, false from monthly
),
pro_rated as (
    select
        *,
        case when kpi in ('cpa', 'spend') then 'lower_is_better' else 'higher_is_better' end as direction,
        day(last_day(month)) as days_in_month,
        case when additive then target * days_with_data / day(last_day(month)) else target end as target_to_date
    from kpis
)
select
    month, kpi, 'all' as scope, 'all' as scope_value, cast(actual as double) as actual,
    cast(target as double) as target, cast(target_to_date as double) as target_to_date,
    cast(case when direction = 'lower_is_better' then target_to_date / actual else actual / target_to_date end
        as double) as attainment,
    case when direction = 'lower_is_better' then actual <= target_to_date else actual >= target_to_date end
        as on_track,
    is_north_star, direction, cast(days_with_data as bigint) as days_with_data,
    cast(days_in_month as bigint) as days_in_month,
    case when kpi in ('revenue', 'gross_margin', 'cpa', 'roas') then 'last_non_direct' end as attribution_model
from pro_rated;

create or replace table marts.fct_kpi_alerts as
select
    cast(alert_date as date) as alert_date, kpi, scope, scope_value, cast(7 as bigint) as window_days,
    cast(actual as double) as actual, cast(baseline as double) as baseline,
    'business' as kind, cast(actual / baseline - 1 as double) as change, cast(-5.2 as double) as z_score,
    cast(p_value as double) as significance, cast(p_value as double) as p_value,
    cast(p_value * 4 as double) as q_value, cast(4 as bigint) as tests_on_day, severity,
    case when actual < baseline then 'decline' else 'rise' end as direction,
    actual < baseline as is_adverse,
    cast(suspected_step as varchar) as suspected_step,
    kpi || ' ' || case when actual < baseline then 'fell' else 'rose' end || ' '
        || cast(round(abs(actual / baseline - 1) * 100) as integer) || ' % (' || scope_value || ')' as message
from (values
    ('{last}', 'conversion_rate', 'channel', 'Paid Search', 0.005, 0.02, 0.0001, 'critical',
     'add_to_cart → checkout'),
    ('{last}', 'conversion_rate', 'all', 'all', 0.0143, 0.02, 0.001, 'warning', 'add_to_cart → checkout'),
    ('2026-02-10', 'sessions', 'all', 'all', 2800.0, 2100.0, 0.0001, 'info', null)
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
        lag(stage_name) over w as previous_stage_name,
        lag(sessions_closed) over w as closed_previous_sessions,
        lag(sessions_open) over w as open_previous_sessions
    from reached
    window w as (partition by session_date, funnel_id, channel order by stage_order)
)
select
    session_date, funnel_id, stage_order, stage_name, previous_stage_name, channel,
    sessions_closed as closed_sessions, closed_previous_sessions,
    sessions_closed / nullif(closed_previous_sessions, 0) as closed_step_conversion,
    1 - sessions_closed / nullif(closed_previous_sessions, 0) as closed_drop_off_rate,
    sessions_open as open_sessions, open_previous_sessions,
    sessions_open / nullif(open_previous_sessions, 0) as open_step_conversion,
    1 - sessions_open / nullif(open_previous_sessions, 0) as open_drop_off_rate
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
    ('c1', 'markov', 's0', '2026-01-10', 1, 2, 'Email', 'utm:newsletter/email/jan', 0.4),
    ('c1', 'markov', 's1', '2026-01-10', 2, 2, 'Paid Search', 'google_ads:111', 0.6),
    ('c1', 'shapley', 's0', '2026-01-10', 1, 2, 'Email', 'utm:newsletter/email/jan', 0.2),
    ('c1', 'shapley', 's1', '2026-01-10', 2, 2, 'Paid Search', 'google_ads:111', 0.8),
    ('c2', 'first_touch', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'last_touch', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'last_non_direct', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'linear', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'position_based', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'time_decay', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'markov', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0),
    ('c2', 'shapley', 's2', '2026-02-20', 1, 1, 'Direct', '(none)', 1.0)
) as t(conversion_id, model, session_id, conversion_date, touch_position, touches, channel, campaign_key, credit);

-- what markov and shapley learned (shares 0.4 / 0.6 and 0.2 / 0.8 between Email and Paid Search, Direct 0)
create or replace table marts.fct_attribution_channel_weights as
select
    model, channel, method, cast(learned_score as double) as learned_score, cast(share as double) as share,
    date '2026-01-01' as training_start, date '2026-03-31' as training_end,
    cast(1250 as bigint) as training_journeys, cast(150 as bigint) as training_conversions
from (values
    ('markov', 'Email', 'removal_effect', 0.2, 0.4),
    ('markov', 'Paid Search', 'removal_effect', 0.3, 0.6),
    ('markov', 'Direct', 'removal_effect', 0.0, 0.0),
    ('shapley', 'Email', 'exact', 0.01, 0.2),
    ('shapley', 'Paid Search', 'exact', 0.04, 0.8),
    ('shapley', 'Direct', 'exact', -0.01, 0.0)
) as t(model, channel, method, learned_score, share);
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
