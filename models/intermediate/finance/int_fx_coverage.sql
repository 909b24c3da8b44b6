-- Every currency money arrives in (ad spend, orders, leads' deal values, purchase events), where and from which day,
-- and whether seeds/fx_rates.csv converts it to the reporting currency. An amount in a currency the seed does not
-- cover would convert to NULL, which the marts sum as 0: instead this model stops the build (stop_query: error() on DuckDB),
-- naming what is missing, and dbt skips int_fx_rates_ranged and every model that converts money. One rate is enough
-- for every day: before a currency's first rate the earliest applies, after its last the latest.
{%- set reporting = var('reporting_currency') | upper %}

with

used as (
    select
        'ad spend' as used_in,
        currency,
        spend_date as used_on
    from {{ ref('stg_ads__ad_spend') }}
    where coalesce(spend, platform_conversion_value) is not null
    union all
    select
        'orders' as used_in,
        currency,
        cast(ordered_at_utc as date) as used_on
    from {{ ref('stg_shop__orders') }}
    where coalesce(revenue, cost_of_goods) is not null
    union all
    select
        'leads' as used_in,
        currency,
        cast(changed_at_utc as date) as used_on
    from {{ ref('stg_crm__leads') }}
    where deal_value is not null
    union all
    select
        'events' as used_in,
        currency,
        cast(occurred_at_utc as date) as used_on
    from {{ ref('stg_web__events') }}
    where revenue is not null
),

per_currency as (
    -- No currency means the reporting currency (macros/fx.sql).
    select
        coalesce(currency, '{{ reporting }}') as currency,
        used_in,
        min(used_on) as first_used_on,
        count(*) as row_count
    from used
    group by coalesce(currency, '{{ reporting }}'), used_in
),

seed_currencies as (
    select distinct upper(currency) as currency
    from {{ ref('fx_rates') }}
),

reporting_rated as (
    select count(*) > 0 as has_rates
    from seed_currencies
    where currency = '{{ reporting }}'
),

coverage as (
    select
        per_currency.currency,
        per_currency.used_in,
        per_currency.first_used_on,
        per_currency.row_count,
        per_currency.currency = '{{ reporting }}'
        or (seed_currencies.currency is not null and reporting_rated.has_rates) as is_covered
    from per_currency
    cross join reporting_rated
    left join seed_currencies
        on per_currency.currency = seed_currencies.currency
),

missing as (
    -- One text per uncovered currency: "CHF (ad spend from 2026-01-02, orders from 2026-01-03)".
    select
        currency,
        currency
        || ' ('
        || {{ dbt.listagg("used_in || ' from ' || cast(first_used_on as string)", "', '", "order by used_in") }}
        || ')' as described
    from coverage
    where not is_covered
    group by currency
),

problem as (
    select
        case
            when not any_value(reporting_rated.has_rates)
                then
                    'seeds/fx_rates.csv has no rates for the reporting currency {{ reporting }}'
                    || ' (NORTHSTAR_REPORTING_CURRENCY), so money in '
                    || {{ dbt.listagg('missing.described', "', '", 'order by missing.currency') }}
                    || ' cannot be converted: add {{ reporting }} rates to the seed or report in one of '
                    || (select {{ dbt.listagg('seed_currencies.currency', "', '", 'order by seed_currencies.currency') }} from seed_currencies)
            else
                'seeds/fx_rates.csv has no rates for '
                || {{ dbt.listagg('missing.described', "', '", 'order by missing.currency') }}
                || ': add them to the seed (date,currency,rate)'
        end as message
    from missing
    cross join reporting_rated
    having count(*) > 0
)

select * from coverage
where (select {{ stop_query('problem.message') }} from problem) is null
