-- One row per campaign_key: advertised campaigns (<platform>:<campaign_id>, from ad spend), tagged traffic without
-- spend (utm:<source>/<medium>/<campaign>), '(none)' for untagged traffic and '(untracked)' for feed orders no
-- session carries (int_orders_credited), so every campaign_key of the facts is here.
with

campaigns as (
    select * from {{ ref('int_campaigns_resolved') }}
),

sessions as (
    select * from {{ ref('int_sessions_classified') }}
),

classified as (
    select * from {{ ref('int_traffic_sources_classified') }}
),

rules as (
    select * from {{ ref('channel_rules') }}
),

channel_flags as (
    select
        channel,
        bool_or(is_paid) as is_paid
    from rules
    group by channel
),

advertised as (
    select
        campaign_key,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        channel,
        utm_source,
        utm_medium,
        utm_campaign,
        first_spend_date,
        last_spend_date
    from campaigns
),

tagged as (
    select
        sessions.campaign_key,
        cast(null as string) as platform,
        cast(null as string) as account_id,
        cast(null as string) as campaign_id,
        min(sessions.campaign) as campaign_name,
        min(coalesce(classified.channel, 'Unassigned')) as channel,
        min(sessions.source) as utm_source,
        min(sessions.medium) as utm_medium,
        min(sessions.campaign) as utm_campaign,
        cast(null as date) as first_spend_date,
        cast(null as date) as last_spend_date
    from sessions
    left join classified
        on
            classified.source = coalesce(lower(sessions.source), '')
            and classified.medium = coalesce(lower(sessions.medium), '')
            and classified.campaign = coalesce(lower(sessions.campaign), '')
            and classified.referrer = ''
            and classified.click_id_type = ''
    where sessions.campaign_key like 'utm:%'
    group by sessions.campaign_key
),

untagged as (
    select
        '(none)' as campaign_key,
        cast(null as string) as platform,
        cast(null as string) as account_id,
        cast(null as string) as campaign_id,
        '(untagged traffic)' as campaign_name,
        cast(null as string) as channel,
        cast(null as string) as utm_source,
        cast(null as string) as utm_medium,
        cast(null as string) as utm_campaign,
        cast(null as date) as first_spend_date,
        cast(null as date) as last_spend_date
),

untracked as (
    select
        '(untracked)' as campaign_key,
        cast(null as string) as platform,
        cast(null as string) as account_id,
        cast(null as string) as campaign_id,
        '(orders no tracked session carries)' as campaign_name,
        '(untracked)' as channel,
        cast(null as string) as utm_source,
        cast(null as string) as utm_medium,
        cast(null as string) as utm_campaign,
        cast(null as date) as first_spend_date,
        cast(null as date) as last_spend_date
),

unioned as (
    select * from advertised
    union all
    select * from tagged
    union all
    select * from untagged
    union all
    select * from untracked
),

final as (
    select
        unioned.campaign_key,
        unioned.platform,
        unioned.account_id,
        unioned.campaign_id,
        unioned.campaign_name,
        unioned.channel,
        coalesce(channel_flags.is_paid, false) as is_paid,
        unioned.utm_source,
        unioned.utm_medium,
        unioned.utm_campaign,
        unioned.first_spend_date,
        unioned.last_spend_date
    from unioned
    left join channel_flags
        on unioned.channel = channel_flags.channel
)

select * from final
