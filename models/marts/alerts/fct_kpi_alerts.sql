{#-
    KPI alerts (MARTS.md; the rule in full: docs/alerts.md). One row per alert that fires, grain
    (alert_date, kpi, scope, scope_value); the tests themselves are int_kpi_alert_tests (windows of 1 and 7 days
    against the same weekdays of the 4 weeks before, with days inside an earlier incident kept out of the baseline)
    and the series they read int_kpi_alert_daily.

    1. False-discovery control (Benjamini-Hochberg), per alert_date and family over every test of that day that
       has a p-value. Two families: the whole business (each business KPI at scope all and each tracking KPI:
       sessions_per_order, events_per_order, match_rate), and the channels (each business KPI per channel), every
       window; each scope has its own false-alarm budget. m = tests_on_day (of the family). With the family's
       p-values sorted, p(1) <= ... <= p(m): q(i) = min over j >= i of p(j) m / j, capped at 1. A test fires
       when q < alert_max_p_value and |change| >= alert_min_change. (feed_orders is in no family: it is a
       condition, never an alert.)
    2. Tracking: a tracking KPI that fell (and fires) while the feed's orders did not fall in the same window
       (feed_orders change > -alert_min_change, or its p >= alert_max_p_value) is tracking loss: one row of kind
       'tracking' per day (the most significant of them; the message names the others). Business alerts whose
       window holds a tracking-loss day are withheld (tracking explains them, and orders or revenue that did not
       fall in the feed raise no business alert), except long-window (alert_window_days) ones when the loss was
       shorter. Tracking KPIs that rise raise nothing (more sessions per order
       is more traffic or fewer orders, which the business alerts already say).
    3. One row per (alert_date, kpi, scope, scope_value): the most significant window (lowest q, then p, then the
       longer window).
    direction: 'decline' or 'rise', the sign of the change. is_adverse: the change goes the KPI's bad way (a
    decline, or a rise of a cost KPI such as cpa). severity: for adverse changes critical when q <
    alert_max_p_value / 10 and |change| >= 2 x alert_min_change, else warning; favourable changes are 'info'.
    For conversion-rate declines suspected_step names the funnel step that fell most over the same window
    (int_kpi_alert_suspected_steps).
-#}

{%- set min_change = var('alert_min_change') -%}
{%- set max_p = var('alert_max_p_value') -%}
{%- set window_days = var('alert_window_days') | int -%}
{%- set lower_is_better = ['cpa', 'cpl', 'cac', 'cpc', 'cpm', 'spend'] -%}

with

tests as (
    select * from {{ ref('int_kpi_alert_tests') }}
),

suspected_steps as (
    select * from {{ ref('int_kpi_alert_suspected_steps') }}
),

family as (
    select
        *,
        -- two families a day: the whole business (scope all, business and tracking) and the channels
        count(*) over (partition by alert_date, scope) as tests_on_day,
        row_number() over (
            partition by alert_date, scope order by p_value, kpi, scope_value, window_days
        ) as p_rank
    from tests
    where
        alert_kind in ('business', 'tracking')
        and p_value is not null
),

adjusted as (
    select
        *,
        least(
            1.0,
            min(p_value * tests_on_day / p_rank) over (
                partition by alert_date, scope order by p_rank rows between current row and unbounded following
            )
        ) as q_value
    from family
),

significant as (
    select *
    from adjusted
    where
        abs(change) >= {{ min_change }}
        and q_value < {{ max_p }}
),

feed as (
    select
        alert_date,
        window_days,
        actual as feed_orders_actual,
        baseline as feed_orders_baseline,
        coalesce(change <= -{{ min_change }} and p_value < {{ max_p }}, false) as feed_fell
    from tests
    where kpi = 'feed_orders'
),

tracked_sessions as (
    select
        alert_date,
        window_days,
        change as sessions_change
    from tests
    where kpi = 'sessions' and scope = 'all'
),

tracking_losses as (
    select
        significant.*,
        feed.feed_orders_actual,
        feed.feed_orders_baseline
    from significant
    inner join feed
        on
            significant.alert_date = feed.alert_date
            and significant.window_days = feed.window_days
    where
        significant.alert_kind = 'tracking'
        and significant.change < 0
        and not feed.feed_fell
),

tracking_findings as (
    -- per KPI its most significant window, named in the day's message
    select
        alert_date,
        kpi,
        case
            when kpi = 'match_rate'
                then {{ alert_printf('match rate %.0f %% against %.0f %%', ['100 * actual', '100 * baseline']) }}
            else
                replace(kpi, '_', ' ') || ' ' || {{ alert_signed_pct('change') }}
                || {{ alert_printf(' (%.1f against %.1f)', ['actual', 'baseline']) }}
        end as finding
    from tracking_losses
    qualify row_number() over (partition by alert_date, kpi order by q_value asc, p_value asc, window_days desc) = 1
),

tracking_days as (
    select
        tracking_findings.alert_date,
        {{ dbt.listagg('tracking_findings.finding', "', '", 'order by tracking_findings.kpi desc') }} as findings,
        max(losses.longest_window) as longest_window
    from tracking_findings
    inner join (
        select
            alert_date,
            max(window_days) as longest_window
        from tracking_losses
        group by alert_date
    ) as losses
        on tracking_findings.alert_date = losses.alert_date
    group by tracking_findings.alert_date
),

tracking_alerts as (
    select
        tracking_losses.*,
        'tracking' as kind,
        coalesce(
            'sessions ' || {{ alert_signed_pct('tracked_sessions.sessions_change') }} || ' while', 'while'
        )
        || {{ alert_printf(' feed orders are steady (%.0f against %.1f %s): tracking loss suspected; ', [
            'tracking_losses.feed_orders_actual',
            'tracking_losses.feed_orders_baseline',
            "case when tracking_losses.window_days = 1 then 'on the same weekday before' else 'before' end",
        ]) }}
        || tracking_days.findings
        || {{ alert_family_note('tracking_losses') }}
            as message
    from tracking_losses
    inner join tracking_days
        on tracking_losses.alert_date = tracking_days.alert_date
    left join tracked_sessions
        on
            tracking_losses.alert_date = tracked_sessions.alert_date
            and tracking_losses.window_days = tracked_sessions.window_days
    qualify row_number() over (
        partition by tracking_losses.alert_date
        order by tracking_losses.q_value asc, tracking_losses.p_value asc, tracking_losses.window_days desc, tracking_losses.kpi asc
    ) = 1
),

business_alerts as (
    select
        significant.*,
        'business' as kind,
        significant.kpi || ' ' || {{ alert_signed_pct('significant.change') }}
        || case when significant.scope = 'all' then '' else ' in ' || significant.scope_value end
        || case when significant.window_days = 1 then ' on the day: ' else {{ alert_printf(' over %d days: ', ['significant.window_days']) }} end
        || {{ alert_value('significant.kpi_type', 'significant.actual') }} || ' against '
        || {{ alert_value('significant.kpi_type', 'significant.baseline') }}
        || case
            when significant.window_days = 7 then ' in the 4 weeks before'
            when significant.window_days = 1 then ' on the same weekday before'
            else ' on the same weekdays before'
        end
        || {{ alert_family_note('significant') }}
            as message
    from significant
    where
        significant.alert_kind = 'business'
        -- withheld when its window holds a tracking-loss day, unless it is the long window and the loss was shorter
        -- (a 1-day loss moves a 7-day window by at most 1/7, under alert_min_change)
        and not exists (
            select 1
            from tracking_days
            where
                tracking_days.alert_date between significant.alert_date - cast(significant.window_days - 1 as integer)
                and significant.alert_date
                and (
                    significant.window_days < {{ window_days }}
                    or significant.window_days <= tracking_days.longest_window
                )
        )
    qualify row_number() over (
        partition by significant.alert_date, significant.kpi, significant.scope, significant.scope_value
        order by significant.q_value asc, significant.p_value asc, significant.window_days desc
    ) = 1
),

alerts as (
    select * from business_alerts
    -- on Spark a positional union all: both sides are significant.*, kind, message
    {{ alert_union_all_by_name() }}
    select {{ alert_star_exclude(['feed_orders_actual', 'feed_orders_baseline']) }} from tracking_alerts
),

classified as (
    select
        *,
        case when change < 0 then 'decline' else 'rise' end as direction,
        (change < 0) != (kpi in ({% for kpi in lower_is_better %}'{{ kpi }}'{{ ', ' if not loop.last }}{% endfor %}))
            as is_adverse
    from alerts
),

final as (
    select
        cast(classified.alert_date as date) as alert_date,
        cast(classified.kpi as string) as kpi,
        cast(classified.scope as string) as scope,
        cast(classified.scope_value as string) as scope_value,
        cast(classified.kind as string) as kind,
        cast(classified.window_days as bigint) as window_days,
        cast(classified.actual as double) as actual,
        cast(classified.baseline as double) as baseline,
        cast(classified.change as double) as change,
        cast(classified.z_score as double) as z_score,
        cast(classified.p_value as double) as significance,
        cast(classified.p_value as double) as p_value,
        cast(classified.q_value as double) as q_value,
        cast(classified.tests_on_day as bigint) as tests_on_day,
        cast(
            case
                when not classified.is_adverse then 'info'
                when classified.q_value < {{ max_p }} / 10 and abs(classified.change) >= 2 * {{ min_change }}
                    then 'critical'
                else 'warning'
            end as string
        ) as severity,
        cast(classified.direction as string) as direction,
        cast(classified.is_adverse as boolean) as is_adverse,
        cast(classified.actual_numerator as double) as actual_numerator,
        cast(classified.actual_denominator as double) as actual_denominator,
        cast(classified.baseline_numerator as double) as baseline_numerator,
        cast(classified.baseline_denominator as double) as baseline_denominator,
        cast(classified.baseline_days_used as bigint) as baseline_days_used,
        cast(classified.dispersion as double) as dispersion,
        cast(suspected_steps.step_name as string) as suspected_step,
        cast(suspected_steps.step_rate_actual as double) as suspected_step_rate_actual,
        cast(suspected_steps.step_rate_baseline as double) as suspected_step_rate_baseline,
        cast(
            classified.message
            || case
                when suspected_steps.step_name is not null
                    then {{ alert_printf('; suspected step %s: %.1f %% against %.1f %%', [
                        'suspected_steps.step_name',
                        '100 * suspected_steps.step_rate_actual',
                        '100 * suspected_steps.step_rate_baseline',
                    ]) }}
                else ''
            end as string
        ) as message
    from classified
    left join suspected_steps
        on
            classified.kpi = 'conversion_rate'
            and classified.change < 0
            and classified.alert_date = suspected_steps.alert_date
            and classified.scope = suspected_steps.scope
            and classified.scope_value = suspected_steps.scope_value
            and classified.window_days = suspected_steps.window_days
)

select * from final
