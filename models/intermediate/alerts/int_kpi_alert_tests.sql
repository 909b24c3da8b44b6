{#-
    Every test the alerts run, one row per (alert_date, kpi, scope, scope_value, window_days), from the daily
    series of int_kpi_alert_daily. Whether a test fires is decided in fct_kpi_alerts (false-discovery control over
    all the tests of a day).

    Windows: the last w days (w in var('alert_short_windows_days') and var('alert_window_days'); tracking and feed
    series at 1 day and alert_window_days only) against the same
    w weekdays in each of the alert_baseline_days / 7 weeks before (for w = 7 that is the 28 days before the window;
    for w = 1 the same weekday of the 4 weeks before), so weekday seasonality cancels out at every window length.
    Days flagged is_excluded_from_baseline are left out of the baseline; what is left is scaled to the window
    (counts) or pooled (rates, ratios). No test when fewer than alert_min_baseline_share of the baseline days are
    left.

    Tests (macros/kpi_stats.sql):
      - rates: pooled two-proportion z (the tracking match rate: Agresti-Caffo adjusted, as it sits at 100 %);
        counts: Poisson rate comparison conditional on the total; each divided by sqrt(dispersion), the
        quasi-likelihood correction: day-to-day variation in real traffic (weather, campaigns) is larger than
        binomial / Poisson noise, which alone made a +20 % day on 800 sessions "p < 1e-6".
        dispersion = max(1, Pearson chi-square / df) over the kept days of the alert_baseline_days before the window,
        each weekday against its own mean (counts: sum((x - mean)^2 / mean)) or pooled rate (rates: sum((x - n p)^2 /
        (n p (1 - p)))), df = kept days - 1 per weekday: the weekly rhythm is compared away by the windows, so it must
        not count as noise; 1 when df < 7.
      - ratios (sessions_per_order, events_per_order): log rate ratio z, both counts Poisson (kpi_rate_ratio_z).
-#}

{%- set window_days = var('alert_window_days') | int -%}
{%- set windows = (var('alert_short_windows_days', [1]) + [window_days]) | unique | sort -%}
{%- set baseline_days = var('alert_baseline_days') | int -%}
{%- set baseline_weeks = baseline_days // 7 -%}
{%- set min_share = var('alert_min_baseline_share', 0.5) -%}
{%- set min_expected = var('alert_min_expected_count', 5) -%}

with

daily as (
    select * from {{ ref('int_kpi_alert_daily') }}
),

kept as (
    select
        *,
        case when not is_excluded_from_baseline then numerator end as kept_numerator,
        case when not is_excluded_from_baseline then denominator end as kept_denominator,
        case when not is_excluded_from_baseline and denominator > 0 then numerator end as kept_rate_numerator,
        case when not is_excluded_from_baseline and denominator > 0 then denominator end as kept_rate_denominator
    from daily
),

weekday_groups as (
    -- dispersion inputs per weekday: the kept days among the baseline_weeks same weekdays ending at this day
    select
        *,
        count(kept_rate_numerator) over w_weekday as group_days,
        sum(kept_rate_numerator) over w_weekday as group_x,
        sum(kept_rate_denominator) over w_weekday as group_n,
        sum(kept_rate_numerator * kept_rate_numerator) over w_weekday as group_xx,
        sum(kept_rate_numerator * kept_rate_numerator / kept_rate_denominator) over w_weekday as group_xx_n
    from kept
    window w_weekday as (
        partition by kpi, scope, scope_value, dayofweek(alert_date) order by alert_date
        rows between {{ baseline_weeks - 1 }} preceding and current row
    )
),

weekday_chi_square as (
    -- Pearson chi-square of one weekday's kept days around that weekday's own mean (counts) or pooled rate
    -- (rates), and its degrees of freedom: weekday seasonality is taken out of the dispersion
    select
        *,
        case
            when group_days < 2 then 0.0
            when kpi_type = 'count' and group_x > 0
                then (group_xx - group_x * group_x / group_days) / (group_x / group_days)
            when kpi_type = 'rate' and group_x > 0 and group_x < group_n
                -- sum((x - n p)^2 / n) = sum(x^2 / n) - p sum(x), since p sum(n) = sum(x)
                then (group_xx_n - group_x * group_x / group_n) / ((group_x / group_n) * (1 - group_x / group_n))
            else 0.0
        end as group_chi_square,
        case when group_days < 2 then 0 else group_days - 1 end as group_df
    from weekday_groups
),

rolled as (
    select
        alert_date,
        kpi,
        kpi_type,
        alert_kind,
        scope,
        scope_value,
        {%- for w in windows %}
            sum(numerator) over w_actual_{{ w }} as actual_numerator_{{ w }},
            sum(denominator) over w_actual_{{ w }} as actual_denominator_{{ w }},
            sum(kept_numerator) over w_actual_{{ w }} as kept_numerator_{{ w }},
            sum(kept_denominator) over w_actual_{{ w }} as kept_denominator_{{ w }},
            count(kept_numerator) over w_actual_{{ w }} as kept_days_{{ w }},
            -- dispersion: the 7 weekdays' chi-square over the alert_baseline_days before the window
            sum(group_chi_square) over w_before_{{ w }} as dispersion_chi_square_{{ w }},
            sum(group_df) over w_before_{{ w }} as dispersion_df_{{ w }},
        {%- endfor %}
        row_number() over w_series as day_number
    from weekday_chi_square
    window
        w_series as (partition by kpi, scope, scope_value order by alert_date),
    {%- for w in windows %}
        w_actual_{{ w }} as (
            partition by kpi, scope, scope_value order by alert_date
            rows between {{ w - 1 }} preceding and current row
        ),
        w_before_{{ w }} as (
            -- the last 7 days before the window: their weekday groups span the alert_baseline_days before it
            partition by kpi, scope, scope_value order by alert_date
            rows between {{ w + 6 }} preceding and {{ w }} preceding
        ){{ ',' if not loop.last }}

    {%- endfor %}
),

baselined as (
    select
        *,
    {%- for w in windows %}
        {%- for column in ['numerator', 'denominator', 'days'] %}
            {%- for week in range(1, baseline_weeks + 1) %}
                coalesce(lag(kept_{{ column }}_{{ w }}, {{ 7 * week }}) over w_series, 0)
                {{- ' +' if not loop.last }}
            {%- endfor %} as baseline_{{ column }}_{{ w }},
        {%- endfor %}
        case
            when dispersion_df_{{ w }} >= 7 then dispersion_chi_square_{{ w }} / dispersion_df_{{ w }}
            else 1.0
        end as raw_dispersion_{{ w }}{{ ',' if not loop.last }}

    {%- endfor %}
    from rolled
    window w_series as (partition by kpi, scope, scope_value order by alert_date)
),

windowed as (
    {%- for w in windows %}
        select
            alert_date,
            kpi,
            kpi_type,
            alert_kind,
            scope,
            scope_value,
            {{ w }} as window_days,
            actual_numerator_{{ w }} as actual_numerator,
            actual_denominator_{{ w }} as actual_denominator,
            baseline_numerator_{{ w }} as baseline_numerator,
            baseline_denominator_{{ w }} as baseline_denominator,
            baseline_days_{{ w }} as baseline_days_used,
            case when kpi_type = 'ratio' then 1.0 else greatest(1.0, raw_dispersion_{{ w }}) end as dispersion
        from baselined
        where
            day_number >= {{ baseline_days + w }}
            and baseline_days_{{ w }} >= {{ min_share }} * {{ baseline_weeks * w }}
            {%- if w not in [1, window_days] %}
                -- tracking loss is sudden (1 day) or lasting (7): a 3-day window would only repeat the 1-day alert
                and alert_kind = 'business'
            {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

tested as (
    select
        *,
        case kpi_type
            when 'count' then baseline_numerator * window_days / baseline_days_used
            else {{ safe_divide('baseline_numerator', 'baseline_denominator') }}
        end as baseline,
        case kpi_type
            when 'count' then actual_numerator
            else {{ safe_divide('actual_numerator', 'actual_denominator') }}
        end as actual,
        case
            when kpi_type = 'rate' and alert_kind = 'tracking'
                then {{ kpi_adjusted_two_proportion_z('actual_numerator', 'actual_denominator',
                    'baseline_numerator', 'baseline_denominator', min_expected) }} / sqrt(dispersion)
            when kpi_type = 'rate' then {{ kpi_two_proportion_z('actual_numerator', 'actual_denominator',
                'baseline_numerator', 'baseline_denominator', min_expected) }} / sqrt(dispersion)
            when kpi_type = 'count' then {{ kpi_poisson_z('actual_numerator', alert_as_double('window_days'),
                'baseline_numerator', alert_as_double('baseline_days_used'), min_expected) }} / sqrt(dispersion)
            when kpi_type = 'ratio' then {{ kpi_rate_ratio_z('actual_numerator', 'actual_denominator',
                'baseline_numerator', 'baseline_denominator', min_expected) }}
        end as z_score
    from windowed
),

final as (
    select
        cast(alert_date as date) as alert_date,
        cast(kpi as string) as kpi,
        cast(kpi_type as string) as kpi_type,
        cast(alert_kind as string) as alert_kind,
        cast(scope as string) as scope,
        cast(scope_value as string) as scope_value,
        cast(window_days as bigint) as window_days,
        cast(actual_numerator as double) as actual_numerator,
        cast(actual_denominator as double) as actual_denominator,
        cast(baseline_numerator as double) as baseline_numerator,
        cast(baseline_denominator as double) as baseline_denominator,
        cast(baseline_days_used as bigint) as baseline_days_used,
        cast(dispersion as double) as dispersion,
        cast(actual as double) as actual,
        cast(baseline as double) as baseline,
        cast({{ safe_divide('actual', 'baseline') }} - 1 as double) as change,
        cast(z_score as double) as z_score,
        cast({{ kpi_two_sided_p_value('z_score') }} as double) as p_value
    from tested
)

select * from final
