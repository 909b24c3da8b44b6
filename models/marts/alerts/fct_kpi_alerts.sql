{#-
    KPI alerts (MARTS.md): for every day with a full history, scope all and each channel, the last
    var('alert_window_days') days (actual) against the var('alert_baseline_days') days before them (baseline).
    A row is written only when an alert fires: |change| >= var('alert_min_change') AND p < var('alert_max_p_value').

    Tests (macros/kpi_stats.sql):
      - rates (conversion_rate, micro_conversion_rate, engagement_rate): two-proportion z-test, pooled.
        actual / baseline are the rates of the two windows; change = actual / baseline - 1.
      - counts (sessions, orders, leads): Poisson rate comparison conditional on the total (c1 given c1 + c0 is
        Binomial(c1 + c0, w1 / (w1 + w0)) under "same daily rate"), with its normal approximation.
        actual = the count in the window, baseline = the baseline count scaled to the window's length.
        Counts are also tested one day at a time (window_days = 1) against the same weekday of the baseline
        weeks (d-7, d-14, d-21, d-28), so a one-day tracking outage shows up on its own day without weekday
        seasonality paging anyone; when both windows fire, the row keeps the more significant one.
    For conversion-rate alerts that fall, suspected_step names the funnel step (stage k-1 -> stage k, any funnel) whose
    open-funnel step conversion fell most over the same windows: the largest relative fall among the steps whose
    fall is significant (two-proportion z, p < alert_max_p_value), so neither a tiny noisy step nor a mix shift at
    the top of the funnel (huge n, small relative change) outranks a large real fall.
    severity: critical when p < alert_max_p_value / 10 and |change| >= 2 x alert_min_change, else warning.
    Days are dense (a day without sessions counts as 0), so the windows are calendar days.
    No test (so no alert) when an expected cell count is below var('alert_min_expected_count') (default 5): the
    normal approximation does not hold there, and a quiet channel going from 1 lead to 4 pages nobody.
-#}

{%- set window_days = var('alert_window_days') | int -%}
{%- set baseline_days = var('alert_baseline_days') | int -%}
{%- set min_change = var('alert_min_change') -%}
{%- set max_p = var('alert_max_p_value') -%}
{%- set min_expected = var('alert_min_expected_count', 5) -%}
{%- set measures = ['sessions', 'engaged_sessions', 'converting_sessions', 'micro_converting_sessions',
    'orders', 'leads'] -%}
{%- set rate_kpis = [
    ('conversion_rate', 'converting_sessions', 'sessions'),
    ('micro_conversion_rate', 'micro_converting_sessions', 'sessions'),
    ('engagement_rate', 'engaged_sessions', 'sessions')] -%}
{%- set count_kpis = ['sessions', 'orders', 'leads'] -%}

with

kpi_daily as (
    select * from {{ ref('fct_kpi_daily') }}
),

funnel_daily as (
    select * from {{ ref('fct_funnel_daily') }}
),

funnel_stages as (
    select * from {{ ref('funnel_stages') }}
),

bounds as (
    select
        min(date) as first_date,
        max(date) as last_date
    from kpi_daily
),

calendar as (
    select cast(unnest(generate_series(first_date, last_date, interval 1 day)) as date) as alert_date
    from bounds
),

scoped_daily as (
    select
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }},
        {%- endfor %}
        date as alert_date,
        'all' as scope,
        'all' as scope_value
    from kpi_daily
    group by date
    union all
    select
        {%- for measure in measures %}
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

dense_daily as (
    select
        {%- for measure in measures %}
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

windowed as (
    select
        alert_date,
        scope,
        scope_value,
        {%- for measure in measures %}
            sum({{ measure }}) over (
                partition by scope, scope_value order by alert_date
                rows between {{ window_days - 1 }} preceding and current row
            ) as {{ measure }}_actual,
            sum({{ measure }}) over (
                partition by scope, scope_value order by alert_date
                rows between {{ window_days + baseline_days - 1 }} preceding and {{ window_days }} preceding
            ) as {{ measure }}_baseline,
        {%- endfor %}
        {%- for measure in count_kpis %}
            {{ measure }} as {{ measure }}_day,
            -- the same weekday in each baseline week: d-7, d-14, ... (weekday seasonality cancels out)
            {%- for week in range(1, baseline_days // 7 + 1) %}
                lag({{ measure }}, {{ 7 * week }}) over (partition by scope, scope_value order by alert_date)
                {{- ' +' if not loop.last }}
            {%- endfor %} as {{ measure }}_same_weekdays,
        {%- endfor %}
        row_number() over (partition by scope, scope_value order by alert_date) as day_number
    from dense_daily
),

evaluable as (
    select * from windowed
    where day_number >= {{ window_days + baseline_days }}
),

tests as (
    {%- for kpi, numerator, denominator in rate_kpis %}
        select
            alert_date,
            '{{ kpi }}' as kpi,
            scope,
            scope_value,
            {{ window_days }} as window_days,
            {{ numerator }}_actual as actual_numerator,
            {{ denominator }}_actual as actual_denominator,
            {{ numerator }}_baseline as baseline_numerator,
            {{ denominator }}_baseline as baseline_denominator,
            {{ safe_divide(numerator ~ '_actual', denominator ~ '_actual') }} as actual,
            {{ safe_divide(numerator ~ '_baseline', denominator ~ '_baseline') }} as baseline,
        {{ kpi_two_proportion_z(numerator ~ '_actual', denominator ~ '_actual',
            numerator ~ '_baseline', denominator ~ '_baseline', min_expected) }} as z_score
        from evaluable
        union all
    {%- endfor %}
    {%- for kpi in count_kpis %}
        select
            alert_date,
            '{{ kpi }}' as kpi,
            scope,
            scope_value,
            {{ window_days }} as window_days,
            {{ kpi }}_actual as actual_numerator,
            {{ window_days }} as actual_denominator,
            {{ kpi }}_baseline as baseline_numerator,
            {{ baseline_days }} as baseline_denominator,
            cast({{ kpi }}_actual as double) as actual,
            {{ kpi }}_baseline * {{ window_days }} / {{ baseline_days }}.0 as baseline,
            {{ kpi_poisson_z(kpi ~ '_actual', window_days, kpi ~ '_baseline', baseline_days, min_expected) }} as z_score
        from evaluable
        union all
        select
            alert_date,
            '{{ kpi }}' as kpi,
            scope,
            scope_value,
            1 as window_days,
            {{ kpi }}_day as actual_numerator,
            1 as actual_denominator,
            {{ kpi }}_same_weekdays as baseline_numerator,
            {{ baseline_days // 7 }} as baseline_denominator,
            cast({{ kpi }}_day as double) as actual,
            {{ kpi }}_same_weekdays / {{ baseline_days // 7 }}.0 as baseline,
            {{ kpi_poisson_z(kpi ~ '_day', 1, kpi ~ '_same_weekdays', baseline_days // 7, min_expected) }} as z_score
        from evaluable
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

significance as (
    select
        *,
        {{ safe_divide('actual', 'baseline') }} - 1 as change,
        {{ kpi_two_sided_p_value('z_score') }} as p_value
    from tests
),

fired as (
    select
        *,
        row_number() over (
            partition by alert_date, kpi, scope, scope_value
            order by p_value asc, window_days desc
        ) as pick
    from significance
    where
        abs(change) >= {{ min_change }}
        and p_value < {{ max_p }}
),

-- funnel steps: open-funnel sessions at stage k and k-1, same windows, same scopes
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

step_windows as (
    select
        alert_date,
        scope,
        scope_value,
        funnel_id,
        previous_stage_name || ' → ' || stage_name as step_name,
        sum(sessions_open) over w_actual as reached_actual,
        sum(previous_sessions_open) over w_actual as entered_actual,
        sum(sessions_open) over w_baseline as reached_baseline,
        sum(previous_sessions_open) over w_baseline as entered_baseline
    from funnel_steps
    where previous_stage_name is not null
    window
        w_actual as (
            partition by scope, scope_value, funnel_id, stage_order order by alert_date
            rows between {{ window_days - 1 }} preceding and current row
        ),
        w_baseline as (
            partition by scope, scope_value, funnel_id, stage_order order by alert_date
            rows between {{ window_days + baseline_days - 1 }} preceding and {{ window_days }} preceding
        )
),

step_changes as (
    select
        alert_date,
        scope,
        scope_value,
        step_name,
        {{ safe_divide('reached_actual', 'entered_actual') }} as step_rate_actual,
        {{ safe_divide('reached_baseline', 'entered_baseline') }} as step_rate_baseline,
        {{ kpi_two_proportion_z(
            'reached_actual', 'entered_actual', 'reached_baseline', 'entered_baseline', min_expected
        ) }}
            as step_z
    from step_windows
),

suspected_steps as (
    select
        alert_date,
        scope,
        scope_value,
        step_name,
        step_rate_actual,
        step_rate_baseline,
        -- largest relative fall among the steps whose fall is significant (a mix shift at the top of the
        -- funnel has a huge n and so a large z, but a small relative change); else the most significant fall
        row_number() over (
            partition by alert_date, scope, scope_value
            order by
                case when {{ kpi_two_sided_p_value('step_z') }} < {{ max_p }} then 0 else 1 end,
                case
                    when {{ kpi_two_sided_p_value('step_z') }} < {{ max_p }}
                        then {{ safe_divide('step_rate_actual', 'step_rate_baseline') }}
                end,
                step_z
        ) as step_rank
    from step_changes
    where step_z < 0
),

final as (
    select
        cast(fired.alert_date as date) as alert_date,
        cast(fired.kpi as varchar) as kpi,
        cast(fired.scope as varchar) as scope,
        cast(fired.scope_value as varchar) as scope_value,
        cast(fired.window_days as bigint) as window_days,
        cast(fired.actual as double) as actual,
        cast(fired.baseline as double) as baseline,
        cast(fired.change as double) as change,
        cast(fired.z_score as double) as z_score,
        cast(fired.p_value as double) as significance,
        cast(fired.p_value as double) as p_value,
        cast(
            case
                when fired.p_value < {{ max_p }} / 10 and abs(fired.change) >= 2 * {{ min_change }} then 'critical'
                else 'warning'
            end as varchar
        ) as severity,
        cast(case when fired.change < 0 then 'down' else 'up' end as varchar) as direction,
        cast(fired.actual_numerator as double) as actual_numerator,
        cast(fired.actual_denominator as double) as actual_denominator,
        cast(fired.baseline_numerator as double) as baseline_numerator,
        cast(fired.baseline_denominator as double) as baseline_denominator,
        cast(case when fired.kpi = 'conversion_rate' and fired.change < 0 then suspected_steps.step_name end as varchar)
            as suspected_step,
        cast(case when fired.kpi = 'conversion_rate' and fired.change < 0 then suspected_steps.step_rate_actual end as double)
            as suspected_step_rate_actual,
        cast(case when fired.kpi = 'conversion_rate' and fired.change < 0 then suspected_steps.step_rate_baseline end as double)
            as suspected_step_rate_baseline,
        cast(
            fired.kpi || ' ' || case when fired.change < 0 then 'down' else 'up' end
            || printf(' %.0f%%', 100 * abs(fired.change))
            || case when fired.scope = 'all' then '' else ' in ' || fired.scope_value end
            || case
                when fired.window_days = 1
                    then printf(
                        ' on the day: %.0f against %.1f on the same weekday before',
                        fired.actual, fired.baseline
                    )
                when fired.kpi like '%rate'
                    then printf(
                        ' over %d days: %.2f%% against %.2f%%',
                        fired.window_days, 100 * fired.actual, 100 * fired.baseline
                    )
                else printf(' over %d days: %.0f against %.0f', fired.window_days, fired.actual, fired.baseline)
            end
            || printf(' (p = %.2g)', fired.p_value)
            || case
                when fired.kpi = 'conversion_rate' and fired.change < 0 and suspected_steps.step_name is not null
                    then printf(
                        '; suspected step %s: %.1f%% against %.1f%%', suspected_steps.step_name,
                        100 * suspected_steps.step_rate_actual, 100 * suspected_steps.step_rate_baseline
                    )
                else ''
            end
            as varchar
        ) as message
    from fired
    left join suspected_steps
        on
            fired.alert_date = suspected_steps.alert_date
            and fired.scope = suspected_steps.scope
            and fired.scope_value = suspected_steps.scope_value
            and suspected_steps.step_rank = 1
            and fired.window_days = {{ window_days }}
    where fired.pick = 1
)

select * from final
