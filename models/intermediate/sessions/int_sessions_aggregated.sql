{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=["{% if is_incremental() %}delete from {{ this }} where session_id not in
                    (select session_id from {{ ref('int_events_sessionized') }}){% endif %}"],
    )
}}
-- One row per session: its traffic source (that of its first event), landing page, device and counts.
-- Traffic source: utm_* when the first event has any; else the external referrer (search engine -> organic,
-- social site -> social, video site -> video, other site -> referral); else (direct) / (none).
-- Incremental: only sessions whose events were (re)written by int_events_sessionized since the last run are
-- rebuilt; the post-hook drops sessions whose id vanished (a late event merged two sessions).

with

events as (
    select * from {{ ref('int_events_sessionized') }}
    {% if is_incremental() %}
        where session_id in (
            select rewritten.session_id from {{ ref('int_events_sessionized') }} as rewritten
            where rewritten._batch_at > (
                select coalesce(max(done._batch_at), cast('1900-01-01' as timestamp)) from {{ this }} as done
            )
        )
    {% endif %}
),

aggregated as (
    select
        session_id,
        max(session_key) as session_key,
        min(session_started_at_utc) as started_at_utc,
        max(session_ended_at_utc) as ended_at_utc,
        sum(case when event_name = 'page_view' then 1 else 0 end) as page_views,
        count(*) as events,
        max(_batch_at) as _batch_at
    from events
    group by session_id
),

first_events as (
    select
        session_id,
        first_event_id,
        is_consented,
        anonymous_id,
        page_path as landing_page,
        referrer_host as referrer,
        coalesce(utm_source is not null or utm_medium is not null or utm_campaign is not null, false) as is_tagged,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        click_id_type,
        device_category,
        country
    from events
    where event_index = 1
),

referrer_sources as (
    -- A few dozen distinct hosts: classify each once instead of running the regexes per session.
    select
        referrer,
        {{ referrer_source('referrer') }} as source
    from (select distinct referrer from first_events where referrer is not null) as hosts
),

sourced as (
    select
        first_events.*,
        case
            when first_events.is_tagged then coalesce(first_events.utm_source, '(not set)')
            when first_events.referrer is not null then referrer_sources.source
            else '(direct)'
        end as source,
        case
            when first_events.is_tagged then coalesce(first_events.utm_medium, '(not set)')
            when first_events.referrer is not null then {{ referrer_medium('referrer_sources.source') }}
            else '(none)'
        end as medium,
        case when first_events.is_tagged then first_events.utm_campaign end as campaign
    from first_events
    left join referrer_sources
        on first_events.referrer = referrer_sources.referrer
),

final as (
    select
        aggregated.session_id,
        aggregated.session_key,
        sourced.first_event_id,
        sourced.is_consented,
        sourced.anonymous_id,
        aggregated.started_at_utc,
        aggregated.ended_at_utc,
        cast({{ seconds_between('aggregated.started_at_utc', 'aggregated.ended_at_utc') }} as double) as duration_s,
        sourced.source,
        sourced.medium,
        sourced.campaign,
        sourced.is_tagged,
        sourced.utm_content,
        sourced.utm_term,
        sourced.click_id_type,
        sourced.landing_page,
        sourced.referrer,
        sourced.device_category,
        sourced.country,
        aggregated.page_views,
        aggregated.events,
        aggregated._batch_at
    from aggregated
    inner join sourced
        on aggregated.session_id = sourced.session_id
)

select * from final
