-- The normal-CDF macro (macros/kpi_stats.sql) against textbook values: two-sided p of z = 1.96 is 0.05,
-- of z = 2.576 is 0.01, of z = 0 is 1; Phi(1.6449) = 0.95. Returns the values that miss by more than 1e-4.
with

known as (
    select
        known_values.z,
        known_values.expected_p,
        known_values.expected_cdf
    from (
        values
        (1.96, 0.05, 0.975),
        (-1.96, 0.05, 0.025),
        (2.576, 0.01, 0.995),
        (0.0, 1.0, 0.5),
        (1.6449, 0.1, 0.95)
    ) as known_values (z, expected_p, expected_cdf)
),

computed as (
    select
        z,
        expected_p,
        expected_cdf,
        {{ kpi_two_sided_p_value('z') }} as p_value,
        {{ kpi_normal_cdf('z') }} as cdf
    from known
),

final as (
    select
        z,
        expected_p,
        p_value,
        expected_cdf,
        cdf
    from computed
    where abs(p_value - expected_p) > 1e-4 or abs(cdf - expected_cdf) > 1e-4
)

select * from final
