-- Sessions with their visitor (identity stitching), channel (channel rules) and campaign_key, times in the
-- reporting timezone. Recomputed whole each run (cheap joins) so a later login re-stitches old sessions and a
-- change of channel_rules applies everywhere.
-- visitor_id: the user_id the device was last seen with, else the anonymous_id; a session without analytics
-- consent gets 'anon-' || md5(its first event_id): it counts in aggregates but links to nobody.
-- campaign_key: <platform>:<campaign_id> when the session's utm source/medium/campaign equal a campaign's tagging,
-- utm:<source>/<medium>/<campaign> for other tagged traffic, '(none)' for untagged traffic.
with

sessions as (
    select * from {{ ref('int_sessions_aggregated') }}
),

identities as (
    select * from {{ ref('int_identities_stitched') }}
),

classified as (
    select * from {{ ref('int_traffic_sources_classified') }}
),

campaigns as (
    select * from {{ ref('int_campaigns_resolved') }}
),

campaign_tags as (
    -- Several campaigns with the same tagging: the smallest key wins, so the mapping is deterministic.
    select
        utm_source,
        utm_medium,
        utm_campaign,
        min(campaign_key) as campaign_key
    from campaigns
    where
        utm_source is not null
        and utm_medium is not null
        and utm_campaign is not null
    group by utm_source, utm_medium, utm_campaign
),

final as (
    select
        sessions.session_id,
        case
            when not sessions.is_consented then 'anon-' || {{ dbt.hash('sessions.first_event_id') }}
            else coalesce(identities.visitor_id, sessions.anonymous_id)
        end as visitor_id,
        sessions.is_consented,
        sessions.started_at_utc,
        sessions.ended_at_utc,
        {{ to_reporting_tz('sessions.started_at_utc') }} as started_at,
        {{ to_reporting_tz('sessions.ended_at_utc') }} as ended_at,
        {{ to_reporting_date('sessions.started_at_utc') }} as session_date,
        coalesce(classified.channel, 'Unassigned') as channel,
        coalesce(classified.is_paid, false) as is_paid,
        sessions.source,
        sessions.medium,
        sessions.campaign,
        case
            when campaign_tags.campaign_key is not null then campaign_tags.campaign_key
            when sessions.is_tagged
                then 'utm:' || sessions.source || '/' || sessions.medium || '/' || coalesce(sessions.campaign, '(not set)')
            else '(none)'
        end as campaign_key,
        sessions.landing_page,
        sessions.referrer,
        sessions.click_id_type,
        sessions.device_category,
        sessions.country,
        sessions.page_views,
        sessions.events,
        sessions.duration_s
    from sessions
    left join identities
        on sessions.anonymous_id = identities.anonymous_id
    left join classified
        on
            classified.source = coalesce(lower(sessions.source), '')
            and classified.medium = coalesce(lower(sessions.medium), '')
            and classified.campaign = coalesce(lower(sessions.campaign), '')
            and classified.referrer = coalesce(lower(sessions.referrer), '')
            and classified.click_id_type = coalesce(lower(sessions.click_id_type), '')
    left join campaign_tags
        on
            sessions.source = campaign_tags.utm_source
            and sessions.medium = campaign_tags.utm_medium
            and sessions.campaign = campaign_tags.utm_campaign
)

select * from final
