-- Rate to the reporting currency per currency and validity range [valid_from, valid_to): the latest rate on or
-- before a day applies. Before a currency's first rate its earliest rate applies (so early data still converts).
-- Cross rates let the seed use any base: rate_to_reporting = rate(currency) / rate(reporting currency).
-- Built after int_fx_coverage, which stops the build when the seed cannot convert a currency the data uses, so no
-- model that converts money (they all join this one through macros/fx.sql) runs with a rate missing.
-- depends_on: {{ ref('int_fx_coverage') }}
with

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

ranged as (
    select
        upper(currency) as currency,
        case
            when row_number() over (partition by upper(currency) order by date) = 1 then cast('1900-01-01' as date)
            else date
        end as valid_from,
        coalesce(lead(date) over (partition by upper(currency) order by date), cast('9999-12-31' as date)) as valid_to,
        rate
    from fx_rates
),

reporting as (
    select * from ranged
    where currency = upper('{{ var("reporting_currency") }}')
),

crossed as (
    -- Intersect each currency's ranges with the reporting currency's ranges.
    select
        ranged.currency,
        greatest(ranged.valid_from, reporting.valid_from) as valid_from,
        least(ranged.valid_to, reporting.valid_to) as valid_to,
        ranged.rate / reporting.rate as rate_to_reporting
    from ranged
    inner join reporting
        on
            ranged.valid_from < reporting.valid_to
            and ranged.valid_to > reporting.valid_from
    where ranged.currency <> upper('{{ var("reporting_currency") }}')
),

reporting_identity as (
    -- The reporting currency converts at 1 whether or not the seed lists it.
    select
        upper('{{ var("reporting_currency") }}') as currency,
        cast('1900-01-01' as date) as valid_from,
        cast('9999-12-31' as date) as valid_to,
        cast(1 as double) as rate_to_reporting
),

final as (
    select
        currency,
        valid_from,
        valid_to,
        cast(rate_to_reporting as double) as rate_to_reporting
    from crossed
    union all
    select
        currency,
        valid_from,
        valid_to,
        rate_to_reporting
    from reporting_identity
)

select * from final
