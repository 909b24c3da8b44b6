-- One row per loaded spend row (restatements are resolved in int_spend_daily).
with

source as (
    select * from {{ source('ads', 'ad_spend') }}
),

final as (
    select
        {{ dbt.hash("concat_ws('|', load_id, source_file, cast(row_number as string))") }} as spend_row_id,
        date as spend_date,
        lower(trim(platform)) as platform,
        account_id,
        campaign_id,
        lower(trim(platform)) || ':' || campaign_id as campaign_key,
        nullif(trim(campaign_name), '') as campaign_name,
        coalesce(adset_name, '') as adset_name,
        coalesce(ad_name, '') as ad_name,
        lower(nullif(trim(utm_source), '')) as utm_source,
        lower(nullif(trim(utm_medium), '')) as utm_medium,
        lower(nullif(trim(utm_campaign), '')) as utm_campaign,
        coalesce(impressions, 0) as impressions,
        coalesce(clicks, 0) as clicks,
        spend,
        upper(trim(currency)) as currency,
        -- the platform's own claims, kept for reconciliation against the warehouse's attribution (never truth)
        platform_conversions,
        platform_conversion_value,
        nullif(trim(account_timezone), '') as account_timezone,
        load_id,
        loaded_at,
        row_number as source_row_number
    from source
)

select * from final
