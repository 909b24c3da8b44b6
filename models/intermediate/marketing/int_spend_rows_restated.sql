-- Ad spend rows after restatement: a later load of the same (date, platform, account_id, campaign_id,
-- adset_name, ad_name) replaces the earlier one. Money converted to the reporting currency with the latest rate on
-- or before the spend date.
with

spend as (
    select * from {{ ref('stg_ads__ad_spend') }}
),

latest as (
    select *
    from spend
    qualify row_number() over (
        partition by spend_date, platform, account_id, campaign_id, adset_name, ad_name
        order by loaded_at desc, load_id desc, source_row_number desc
    ) = 1
),

final as (
    select
        latest.spend_date,
        latest.platform,
        latest.account_id,
        latest.campaign_id,
        latest.campaign_key,
        latest.campaign_name,
        latest.adset_name,
        latest.ad_name,
        latest.utm_source,
        latest.utm_medium,
        latest.utm_campaign,
        latest.impressions,
        latest.clicks,
        {{ to_reporting_currency('latest.spend', 'fx') }} as spend,
        latest.currency as original_currency,
        latest.spend as original_spend,
        -- what the platform claims for itself (reconciliation only, never the truth)
        latest.platform_conversions,
        {{ to_reporting_currency('latest.platform_conversion_value', 'fx') }} as platform_conversion_value
    from latest
    {{ fx_join('latest.currency', 'latest.spend_date', 'fx') }}
)

select * from final
