{#-
    Statistics helpers for fct_kpi_alerts. SQL engines have no normal CDF, so we build one from
    the Abramowitz & Stegun 7.1.26 approximation of erf (absolute error < 1.5e-7):
        erf(x) ~ 1 - (a1 t + a2 t^2 + a3 t^3 + a4 t^4 + a5 t^5) exp(-x^2),  t = 1 / (1 + 0.3275911 x),  x >= 0
    Known values (pinned in tests/unit/test_dbt_kpi_macros.py and tests/dbt/assert_kpi_p_value_known_values.sql):
        z = 1.96  -> two-sided p ~ 0.0500,   z = 2.576 -> two-sided p ~ 0.0100,   z = 0 -> p = 1.
    Each macro takes a SQL expression; wrap it in parentheses so callers can pass any expression.
-#}

{#- erf(x) for x >= 0 (callers pass an absolute value). -#}
{% macro kpi_erf_abs(x) -%}
    (1.0 - (
        0.254829592 * (1.0 / (1.0 + 0.3275911 * ({{ x }})))
        - 0.284496736 * power(1.0 / (1.0 + 0.3275911 * ({{ x }})), 2)
        + 1.421413741 * power(1.0 / (1.0 + 0.3275911 * ({{ x }})), 3)
        - 1.453152027 * power(1.0 / (1.0 + 0.3275911 * ({{ x }})), 4)
        + 1.061405429 * power(1.0 / (1.0 + 0.3275911 * ({{ x }})), 5)
    ) * exp(-1.0 * ({{ x }}) * ({{ x }})))
{%- endmacro %}

{#- Standard normal CDF: Phi(z) = (1 + sign(z) erf(|z| / sqrt 2)) / 2. NULL in, NULL out. -#}
{% macro kpi_normal_cdf(z) -%}
    (0.5 * (1.0 + sign({{ z }}) * {{ kpi_erf_abs('abs(' ~ z ~ ') / sqrt(2.0)') }}))
{%- endmacro %}

{#- Two-sided p-value of a z statistic: 2 (1 - Phi(|z|)) = 1 - erf(|z| / sqrt 2). -#}
{% macro kpi_two_sided_p_value(z) -%}
    (1.0 - {{ kpi_erf_abs('abs(' ~ z ~ ') / sqrt(2.0)') }})
{%- endmacro %}

{#- The normal approximation behind both tests is only trusted when every expected cell count is at least
    var('alert_min_expected_count', 5) (the usual n p >= 5 rule); below that the macros return NULL: no test, no
    alert, so a channel going from 1 lead to 4 on a quiet day pages nobody. -#}

{#- Two-proportion z statistic (pooled): x1 of n1 in the recent window against x0 of n0 in the baseline.
    NULL when either window is empty, the pooled rate is 0 or 1 (no variance), or an expected count is small. -#}
{% macro kpi_two_proportion_z(x1, n1, x0, n0, min_expected=5) -%}
    {%- set pooled = '((' ~ x1 ~ ') + (' ~ x0 ~ ')) * 1.0 / ((' ~ n1 ~ ') + (' ~ n0 ~ '))' -%}
    case
        when ({{ n1 }}) > 0 and ({{ n0 }}) > 0
            and least({{ pooled }}, 1.0 - {{ pooled }}) * least({{ n1 }}, {{ n0 }}) >= {{ min_expected }}
            then (({{ x1 }}) * 1.0 / ({{ n1 }}) - ({{ x0 }}) * 1.0 / ({{ n0 }}))
            / sqrt({{ pooled }} * (1.0 - {{ pooled }}) * (1.0 / ({{ n1 }}) + 1.0 / ({{ n0 }})))
    end
{%- endmacro %}

{#- Two-proportion z with one success and one failure added to each group (Agresti-Caffo) and unpooled variances,
    for shares that sit at or near 1 (the tracking match rate: every feed order carried by a tracked purchase).
    There the pooled test has no variance or too few expected failures, so a day on which half the orders went
    untracked against 4 weeks of 100 % could not be tested at all; with the adjustment it is z ~ -5.5 (15 of 30
    against 120 of 120), while a day with one order missing stays quiet (29 of 30: z ~ -1.2). NULL when a group is
    empty or smaller than min_expected. -#}
{% macro kpi_adjusted_two_proportion_z(x1, n1, x0, n0, min_expected=5) -%}
    {%- set p1 = '((' ~ x1 ~ ') + 1.0) / ((' ~ n1 ~ ') + 2.0)' -%}
    {%- set p0 = '((' ~ x0 ~ ') + 1.0) / ((' ~ n0 ~ ') + 2.0)' -%}
    case
        when ({{ n1 }}) >= {{ min_expected }} and ({{ n0 }}) >= {{ min_expected }}
            then ({{ p1 }} - {{ p0 }})
            / sqrt({{ p1 }} * (1.0 - {{ p1 }}) / (({{ n1 }}) + 2.0) + {{ p0 }} * (1.0 - {{ p0 }}) / (({{ n0 }}) + 2.0))
    end
{%- endmacro %}

{#- Poisson rate comparison of two counts, conditional on their total (the exact test's normal approximation):
    c1 events in a window of w1 days against c0 in w0 days. Under "same daily rate", c1 ~ Binomial(c1 + c0,
    q = w1 / (w1 + w0)); z = (c1 - N q) / sqrt(N q (1 - q)). NULL when N min(q, 1 - q) is small (or N = 0). -#}
{% macro kpi_poisson_z(c1, w1, c0, w0, min_expected=5) -%}
    {%- set total = '((' ~ c1 ~ ') + (' ~ c0 ~ '))' -%}
    {%- set q = '((' ~ w1 ~ ') * 1.0 / ((' ~ w1 ~ ') + (' ~ w0 ~ ')))' -%}
    case
        when {{ total }} * least({{ q }}, 1.0 - {{ q }}) >= {{ min_expected }}
            then (({{ c1 }}) - {{ total }} * {{ q }}) / sqrt({{ total }} * {{ q }} * (1.0 - {{ q }}))
    end
{%- endmacro %}

{#- Ratio of two counts (a per b, e.g. sessions per feed order) in a window against a baseline: the log of the
    ratio of ratios over its delta-method standard error, both counts Poisson:
        z = ln((a1 / b1) / (a0 / b0)) / sqrt(1 / a1 + 1 / b1 + 1 / a0 + 1 / b0),
    with 0.5 added to each count (Haldane) so a day with no sessions at all still has a finite z. Unlike a Poisson
    test with b as a fixed exposure, the noise of b (a few dozen orders a day) counts too. NULL when b1 or b0 is
    small or the expected a1 (b1 a0 / b0) is. -#}
{% macro kpi_rate_ratio_z(a1, b1, a0, b0, min_expected=5) -%}
    case
        when ({{ b1 }}) >= {{ min_expected }} and ({{ b0 }}) >= {{ min_expected }}
            and ({{ b1 }}) * ({{ a0 }}) / ({{ b0 }}) >= {{ min_expected }}
            then ln(
                ((({{ a1 }}) + 0.5) / (({{ b1 }}) + 0.5)) / ((({{ a0 }}) + 0.5) / (({{ b0 }}) + 0.5))
            ) / sqrt(
                1.0 / (({{ a1 }}) + 0.5) + 1.0 / (({{ b1 }}) + 0.5) + 1.0 / (({{ a0 }}) + 0.5) + 1.0 / (({{ b0 }}) + 0.5)
            )
    end
{%- endmacro %}

{#- The one-day screen of int_kpi_alert_daily: how far a day's value x (of n, for rates and ratios) is from a robust
    reference (a median of earlier days), in standard errors. count: (x - ref) / sqrt(ref), Poisson; rate:
    (x - n p) / sqrt(n p (1 - p)), binomial; ratio x / n against r: ln(((x + 0.5) / (n + 0.5)) / r) /
    sqrt(1 / (x + 0.5) + 1 / (n + 0.5)). NULL when the reference rests on fewer than 2 same weekdays (counts) or 7
    days (rates, ratios), or an expected count is below min_expected: such a day is never excluded. -#}
{% macro kpi_screen_z(kpi_type, x, n, ref, ref_days, min_expected=5) -%}
    case
        when ({{ kpi_type }}) = 'count' and ({{ ref_days }}) >= 2 and ({{ ref }}) >= {{ min_expected }}
            then (({{ x }}) - ({{ ref }})) / sqrt({{ ref }})
        when ({{ kpi_type }}) = 'rate' and ({{ ref_days }}) >= 7
            and least({{ ref }}, 1 - ({{ ref }})) * ({{ n }}) >= {{ min_expected }}
            then (({{ x }}) - ({{ n }}) * ({{ ref }})) / sqrt(({{ n }}) * ({{ ref }}) * (1 - ({{ ref }})))
        when ({{ kpi_type }}) = 'ratio' and ({{ ref_days }}) >= 7 and ({{ n }}) >= {{ min_expected }}
            and ({{ ref }}) * ({{ n }}) >= {{ min_expected }}
            then ln((({{ x }}) + 0.5) / (({{ n }}) + 0.5) / ({{ ref }})) / sqrt(1.0 / (({{ x }}) + 0.5) + 1.0 / (({{ n }}) + 0.5))
    end
{%- endmacro %}

{#- Whether a screened day stays out of later baselines (and dispersions) of its KPI and scope: far and
    significant, |change| >= min_change and |z| >= exclusion_z; or nearer but clearly significant, |change| >=
    min_change / 2 and |z| >= strong_z. The second rule is for a week of -15 % at the whole-business scope (one
    big channel lost): below min_change, it would stay in the baselines and triple the sessions dispersion for the
    next 4 weeks, hiding the next incident. A NULL z (thin reference) never excludes. -#}
{% macro kpi_is_excluded_from_baseline(change, z, min_change, exclusion_z, strong_z) -%}
    coalesce(
        (abs({{ change }}) >= {{ min_change }} and abs({{ z }}) >= {{ exclusion_z }})
        or (abs({{ change }}) >= ({{ min_change }}) / 2.0 and abs({{ z }}) >= {{ strong_z }}),
        false
    )
{%- endmacro %}
