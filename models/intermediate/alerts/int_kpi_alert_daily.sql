{#-
    The daily series the alerts test, one row per (alert_date, kpi, scope, scope_value), dense over calendar days
    (a day without sessions counts as 0), and whether the day stays out of that series' baselines.

    Series (kpi, type, alert_kind):
      - business, scope all and per channel, from fct_kpi_daily: conversion_rate, micro_conversion_rate,
        engagement_rate (type rate: numerator of denominator sessions); sessions, orders, leads (type count).
      - tracking, scope all only, from int_tracking_health_daily: sessions_per_order and events_per_order (type
        ratio: two counts, the feed's orders below), match_rate (rate: matched of feed orders).
      - feed, scope all: feed_orders (count). Not an alert of its own: it tells whether the feed held while
        tracking fell.

    Baseline exclusion (a day inside an alert does not feed the baseline of the same KPI and scope): a day is
    excluded when its own one-day value is both far and significantly off a robust reference made of the days
    before it, so a broken week or a one-day outage does not drag the baselines of the weeks after it. Robust, so
    that no recursion through the alerts themselves is needed, and causal (only earlier days), so a day's flag
    never changes when later data arrives:
      - counts: reference = median of the same weekday in the baseline weeks before (d-7, d-14, ...; at least 2 of
        them); z = (x - ref) / sqrt(ref) (Poisson);
      - rates: reference p = median of the daily rates of the alert_baseline_days days before (at least 7 days);
        z = (x - n p) / sqrt(n p (1 - p)) (binomial);
      - ratios a / b: reference r = median of the daily ratios before (at least 7 days);
        z = ln(((a + 0.5) / (b + 0.5)) / r) / sqrt(1 / (a + 0.5) + 1 / (b + 0.5)) (log rate ratio);
      excluded when |value / reference - 1| >= alert_min_change and |z| >= alert_baseline_exclusion_z, or when
      |value / reference - 1| >= alert_min_change / 2 and |z| >= alert_baseline_exclusion_strong_z (a week of -15 %
      at the whole-business scope, one big channel lost, would otherwise widen the dispersion enough to hide the
      next incident); and the expected count is at least alert_min_expected_count (below that a day is never
      excluded: too noisy to say). Macro kpi_is_excluded_from_baseline.
      A median of 28 days, or of 4 same weekdays, is not moved by a broken stretch shorter than half of it.
-#}

{%- set baseline_days = var('alert_baseline_days') | int -%}
{%- set baseline_weeks = baseline_days // 7 -%}
{%- set min_change = var('alert_min_change') -%}
{%- set exclusion_z = var('alert_baseline_exclusion_z', 2.0) -%}
{%- set strong_z = var('alert_baseline_exclusion_strong_z', 3.0) -%}
{%- set min_expected = var('alert_min_expected_count', 5) -%}
{%- set business_series = [
    ('conversion_rate', 'rate', 'converting_sessions', 'sessions'),
    ('micro_conversion_rate', 'rate', 'micro_converting_sessions', 'sessions'),
    ('engagement_rate', 'rate', 'engaged_sessions', 'sessions'),
    ('sessions', 'count', 'sessions', '1'),
    ('orders', 'count', 'orders', '1'),
    ('leads', 'count', 'leads', '1')] -%}
{%- set tracking_series = [
    ('sessions_per_order', 'ratio', 'tracking', 'sessions', 'feed_orders'),
    ('events_per_order', 'ratio', 'tracking', 'events', 'feed_orders'),
    ('match_rate', 'rate', 'tracking', 'matched_orders', 'feed_orders'),
    ('feed_orders', 'count', 'feed', 'feed_orders', '1')] -%}
{#- a series' value 1, 2, ... weeks before: the same weekday of the baseline weeks -#}
{%- set weekly_lags = [] -%}
{%- for week in range(1, baseline_weeks + 1) -%}
    {%- do weekly_lags.append('lag(numerator, ' ~ 7 * week ~ ') over w_series') -%}
{%- endfor -%}
{%- set business_measures = ['sessions', 'engaged_sessions', 'converting_sessions', 'micro_converting_sessions',
    'orders', 'leads'] -%}

with

kpi_daily as (
    select * from {{ ref('fct_kpi_daily') }}
),

tracking_health as (
    select * from {{ ref('int_tracking_health_daily') }}
),

bounds as (
    -- up to data_through, the last day with sessions or spend (a day whose tracking died entirely still has its
    -- spend)
    select
        min(date) as first_date,
        (select data_through.data_through from {{ ref('int_data_through') }} as data_through) as last_date
    from kpi_daily
),

calendar as (
    {{ days_between('(select bounds.first_date from bounds)', '(select bounds.last_date from bounds)', 'alert_date') }}
),

scoped_daily as (
    select
        {%- for measure in business_measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        date as alert_date,
        'all' as scope,
        'all' as scope_value
    from kpi_daily
    group by date
    union all
    select
        {%- for measure in business_measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        date as alert_date,
        'channel' as scope,
        channel as scope_value
    from kpi_daily
    group by date, channel
),

scopes as (
    select distinct
        scope,
        scope_value
    from scoped_daily
),

dense_business as (
    select
        {%- for measure in business_measures %}
            coalesce(scoped_daily.{{ measure }}, 0) as {{ measure }},
        {%- endfor %}
        calendar.alert_date,
        scopes.scope,
        scopes.scope_value
    from calendar
    cross join scopes
    left join scoped_daily
        on
            calendar.alert_date = scoped_daily.alert_date
            and scopes.scope = scoped_daily.scope
            and scopes.scope_value = scoped_daily.scope_value
),

dense_tracking as (
    select
        calendar.alert_date,
        coalesce(tracking_health.feed_orders, 0) as feed_orders,
        coalesce(tracking_health.matched_orders, 0) as matched_orders,
        coalesce(tracking_health.sessions, 0) as sessions,
        coalesce(tracking_health.events, 0) as events
    from calendar
    left join tracking_health
        on calendar.alert_date = tracking_health.date
),

series as (
    {%- for kpi, kpi_type, numerator, denominator in business_series %}
        select
            alert_date,
            '{{ kpi }}' as kpi,
            '{{ kpi_type }}' as kpi_type,
            'business' as alert_kind,
            scope,
            scope_value,
            cast({{ numerator }} as double) as numerator,
            cast({{ denominator }} as double) as denominator
        from dense_business
        union all
    {%- endfor %}
    {%- for kpi, kpi_type, alert_kind, numerator, denominator in tracking_series %}
        select
            alert_date,
            '{{ kpi }}' as kpi,
            '{{ kpi_type }}' as kpi_type,
            '{{ alert_kind }}' as alert_kind,
            'all' as scope,
            'all' as scope_value,
            cast({{ numerator }} as double) as numerator,
            cast({{ denominator }} as double) as denominator
        from dense_tracking
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

valued as (
    select
        *,
        {{ safe_divide('numerator', 'denominator') }} as value
    from series
),

referenced as (
    select
        *,
        case
            when kpi_type = 'count'
                then {{ alert_list_median(weekly_lags) }}
            else {{ alert_window_median('value', 'w_before') }}
        end as reference_value,
        case
            when kpi_type = 'count'
                then {{ alert_list_count(weekly_lags) }}
            else count(value) over w_before
        end as reference_days
    from valued
    window
        w_series as (partition by kpi, scope, scope_value order by alert_date),
        w_before as (
            partition by kpi, scope, scope_value order by alert_date
            rows between {{ baseline_days }} preceding and 1 preceding
        )
),

screened as (
    select
        *,
        {{ kpi_screen_z('kpi_type', 'numerator', 'denominator', 'reference_value', 'reference_days', min_expected) }}
            as day_z,
        {{ safe_divide('value', 'reference_value') }} - 1 as day_change
    from referenced
),

final as (
    select
        cast(alert_date as date) as alert_date,
        cast(kpi as string) as kpi,
        cast(kpi_type as string) as kpi_type,
        cast(alert_kind as string) as alert_kind,
        cast(scope as string) as scope,
        cast(scope_value as string) as scope_value,
        numerator,
        denominator,
        value,
        cast(reference_value as double) as reference_value,
        cast(day_change as double) as day_change,
        cast(day_z as double) as day_z,
        {{ kpi_is_excluded_from_baseline('day_change', 'day_z', min_change, exclusion_z, strong_z) }}
            as is_excluded_from_baseline
    from screened
)

select * from final
