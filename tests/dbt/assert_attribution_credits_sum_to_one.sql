-- Every (conversion, model) of fct_attributed_conversions hands out exactly one conversion of credit
-- (MARTS.md: for every conversion and model the credits sum to 1). Returns the offending pairs; passes when empty.
with

attributed as (
    select * from {{ ref('fct_attributed_conversions') }}
),

totals as (
    select
        conversion_id,
        model,
        sum(credit) as total_credit
    from attributed
    group by 1, 2
),

final as (
    select
        conversion_id,
        model,
        total_credit
    from totals
    where abs(total_credit - 1.0) > 1e-9
)

select * from final
