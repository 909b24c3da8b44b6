{#-
    For conversion-rate alerts that fall: the funnel step (stage k-1 -> stage k, any funnel) whose open-funnel step
    conversion fell most, one row per (alert_date, scope, scope_value, window_days), over the same windows as
    int_kpi_alert_tests (the last w days against the same w weekdays of the baseline weeks before). The largest
    relative fall among the steps whose fall is significant (two-proportion z, p < alert_max_p_value), so neither a
    tiny noisy step nor a mix shift at the top of the funnel (huge n, small relative change) outranks a large real
    fall; else the most significant fall. A diagnosis, not an alert: no baseline exclusion here.
-#}

{%- set window_days = var('alert_window_days') | int -%}
{%- set windows = (var('alert_short_windows_days', [1]) + [window_days]) | unique | sort -%}
{%- set baseline_days = var('alert_baseline_days') | int -%}
{%- set baseline_weeks = baseline_days // 7 -%}
{%- set max_p = var('alert_max_p_value') -%}
{%- set min_expected = var('alert_min_expected_count', 5) -%}

with

funnel_daily as (
    select * from {{ ref('fct_funnel_daily') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

bounds as (
    select
        min(session_date) as first_date,
        max(session_date) as last_date
    from funnel_daily
),

calendar as (
    {{ days_between('(select bounds.first_date from bounds)', '(select bounds.last_date from bounds)', 'alert_date') }}
),

stage_list as (
    select
        funnel_id,
        stage_order,
        stage_name,
        lag(stage_name) over (partition by funnel_id order by stage_order) as previous_stage_name
    from funnel_stages
),

funnel_scoped as (
    select
        session_date as alert_date,
        'all' as scope,
        'all' as scope_value,
        funnel_id,
        stage_order,
        sum(open_sessions) as sessions_open
    from funnel_daily
    group by session_date, funnel_id, stage_order
    union all
    select
        session_date as alert_date,
        'channel' as scope,
        channel as scope_value,
        funnel_id,
        stage_order,
        sum(open_sessions) as sessions_open
    from funnel_daily
    group by session_date, channel, funnel_id, stage_order
),

scopes as (
    select distinct
        scope,
        scope_value
    from funnel_scoped
),

funnel_dense as (
    select
        calendar.alert_date,
        scopes.scope,
        scopes.scope_value,
        stage_list.funnel_id,
        stage_list.stage_order,
        stage_list.stage_name,
        stage_list.previous_stage_name,
        coalesce(funnel_scoped.sessions_open, 0) as sessions_open
    from calendar
    cross join scopes
    cross join stage_list
    left join funnel_scoped
        on
            calendar.alert_date = funnel_scoped.alert_date
            and scopes.scope = funnel_scoped.scope
            and scopes.scope_value = funnel_scoped.scope_value
            and stage_list.funnel_id = funnel_scoped.funnel_id
            and stage_list.stage_order = funnel_scoped.stage_order
),

funnel_steps as (
    select
        *,
        lag(sessions_open) over (
            partition by alert_date, scope, scope_value, funnel_id order by stage_order
        ) as previous_sessions_open
    from funnel_dense
),

step_rolled as (
    select
        alert_date,
        scope,
        scope_value,
        funnel_id,
        stage_order,
        previous_stage_name || ' → ' || stage_name as step_name,
        {%- for w in windows %}
            sum(sessions_open) over w_actual_{{ w }} as reached_{{ w }},
            sum(previous_sessions_open) over w_actual_{{ w }} as entered_{{ w }},
        {%- endfor %}
        row_number() over w_step as day_number
    from funnel_steps
    where previous_stage_name is not null
    window
        w_step as (partition by scope, scope_value, funnel_id, stage_order order by alert_date),
    {%- for w in windows %}
        w_actual_{{ w }} as (
            partition by scope, scope_value, funnel_id, stage_order order by alert_date
            rows between {{ w - 1 }} preceding and current row
        ){{ ',' if not loop.last }}

{%- endfor %}
),

step_windows as (
    {%- for w in windows %}
        select
            alert_date,
            scope,
            scope_value,
            step_name,
            {{ w }} as window_days,
            reached_{{ w }} as reached_actual,
            entered_{{ w }} as entered_actual,
        {%- for column in ['reached', 'entered'] %}
            {%- for week in range(1, baseline_weeks + 1) %}
                lag({{ column }}_{{ w }}, {{ 7 * week }}) over w_step
                {{- ' +' if not loop.last }}
            {%- endfor %} as {{ column }}_baseline{{ ',' if not loop.last }}

        {%- endfor %}
        from step_rolled
        window w_step as (partition by scope, scope_value, funnel_id, stage_order order by alert_date)
        qualify day_number >= {{ baseline_days + w }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

step_changes as (
    select
        *,
        {{ safe_divide('reached_actual', 'entered_actual') }} as step_rate_actual,
        {{ safe_divide('reached_baseline', 'entered_baseline') }} as step_rate_baseline,
        {{ kpi_two_proportion_z(
            alert_as_double('reached_actual'), alert_as_double('entered_actual'),
            alert_as_double('reached_baseline'), alert_as_double('entered_baseline'), min_expected
        ) }} as step_z
    from step_windows
),

ranked as (
    select
        *,
        row_number() over (
            partition by alert_date, scope, scope_value, window_days
            order by
                case when {{ kpi_two_sided_p_value('step_z') }} < {{ max_p }} then 0 else 1 end,
                case
                    when {{ kpi_two_sided_p_value('step_z') }} < {{ max_p }}
                        then {{ safe_divide('step_rate_actual', 'step_rate_baseline') }}
                end,
                step_z,
                step_name
        ) as step_rank
    from step_changes
    where step_z < 0
),

final as (
    select
        cast(alert_date as date) as alert_date,
        cast(scope as string) as scope,
        cast(scope_value as string) as scope_value,
        cast(window_days as bigint) as window_days,
        cast(step_name as string) as step_name,
        cast(step_rate_actual as double) as step_rate_actual,
        cast(step_rate_baseline as double) as step_rate_baseline,
        cast(step_z as double) as step_z
    from ranked
    where step_rank = 1
)

select * from final
