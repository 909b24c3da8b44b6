-- One row per advertised campaign (campaign_key = <platform>:<campaign_id>): its latest name and utm tagging,
-- flight dates, and channel: the channel rules applied to its utm tags, else the platform's usual channel.
with

spend as (
    select * from {{ ref('int_spend_rows_restated') }}
),

classified as (
    select * from {{ ref('int_traffic_sources_classified') }}
),

latest_names as (
    select
        campaign_key,
        campaign_name,
        account_id,
        utm_source,
        utm_medium,
        utm_campaign
    from spend
    qualify row_number() over (
        partition by campaign_key
        order by case when utm_source is not null then 0 else 1 end, spend_date desc, adset_name desc, ad_name desc
    ) = 1
),

flights as (
    select
        campaign_key,
        min(platform) as platform,
        min(campaign_id) as campaign_id,
        min(spend_date) as first_spend_date,
        max(spend_date) as last_spend_date
    from spend
    group by campaign_key
),

final as (
    select
        flights.campaign_key,
        flights.platform,
        latest_names.account_id,
        flights.campaign_id,
        latest_names.campaign_name,
        case
            when classified.channel is null or classified.channel in ('Unassigned', 'Direct')
                then {{ platform_channel('flights.platform') }}
            else classified.channel
        end as channel,
        latest_names.utm_source,
        latest_names.utm_medium,
        latest_names.utm_campaign,
        flights.first_spend_date,
        flights.last_spend_date
    from flights
    inner join latest_names
        on flights.campaign_key = latest_names.campaign_key
    left join classified
        on
            classified.source = coalesce(latest_names.utm_source, '')
            and classified.medium = coalesce(latest_names.utm_medium, '')
            and classified.campaign = coalesce(latest_names.utm_campaign, '')
            and classified.referrer = ''
            and classified.click_id_type = ''
)

select * from final
