-- Spend per day and campaign in the reporting currency, restatements resolved (see int_spend_rows_restated).
-- Joins to sessions on (spend_date = session_date, campaign_key).
with

spend as (
    select * from {{ ref('int_spend_rows_restated') }}
),

campaigns as (
    select * from {{ ref('int_campaigns_resolved') }}
),

daily as (
    select
        spend_date,
        campaign_key,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend
    from spend
    group by spend_date, campaign_key
),

final as (
    select
        daily.spend_date,
        daily.campaign_key,
        campaigns.platform,
        campaigns.channel,
        campaigns.utm_source,
        campaigns.utm_medium,
        campaigns.utm_campaign,
        cast(daily.impressions as bigint) as impressions,
        cast(daily.clicks as bigint) as clicks,
        cast(daily.spend as double) as spend
    from daily
    inner join campaigns
        on daily.campaign_key = campaigns.campaign_key
)

select * from final
