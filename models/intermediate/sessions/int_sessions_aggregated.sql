{{
    config(
        materialized=incremental_where_supported(),
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
-- rebuilt (it rewrites whole sessions); the post-hook drops sessions whose id vanished (a late event merged two
-- sessions). No group-by over events: the first event of a session carries its counts and times.

with

first_events as (
    -- int_events_sessionized writes the session's facts on every event: its first event carries them all.
    select * from {{ ref('int_events_sessionized') }}
    where
        event_index = 1
        {% if is_incremental() %}
            and {{ rewritten_since_last_run() }}
        {% endif %}
),

staged as (
    -- Traffic fields of those first events, parsed once in staging.
    select * from {{ ref('stg_web__events') }}
    {% if is_incremental() %}
        where occurred_at_utc >= (select min(first_events.occurred_at_utc) from first_events)
    {% endif %}
),

first_event_sources as (
    select
        first_events.session_id,
        first_events.session_key,
        first_events.event_id as first_event_id,
        first_events.is_consented,
        first_events.anonymous_id,
        first_events.session_started_at_utc as started_at_utc,
        first_events.session_ended_at_utc as ended_at_utc,
        first_events.session_page_views as page_views,
        first_events.session_events as events,
        first_events._batch_at,
        first_events.page_path as landing_page,
        staged.referrer_host as referrer,
        coalesce(
            staged.utm_source is not null or staged.utm_medium is not null or staged.utm_campaign is not null, false
        ) as is_tagged,
        staged.utm_source,
        staged.utm_medium,
        staged.utm_campaign,
        staged.utm_content,
        staged.utm_term,
        staged.click_id_type,
        staged.device_category,
        staged.country
    from first_events
    inner join staged
        on first_events.event_id = staged.event_id
),

referrer_sources as (
    -- A few dozen distinct hosts: classify each once instead of running the regexes per session.
    select
        referrer,
        {{ referrer_source('referrer') }} as source
    from (
        select distinct referrer from first_event_sources
        where referrer is not null
    ) as hosts
),

sourced as (
    select
        first_event_sources.*,
        case
            when first_event_sources.is_tagged then coalesce(first_event_sources.utm_source, '(not set)')
            when first_event_sources.referrer is not null then referrer_sources.source
            else '(direct)'
        end as source,
        case
            when first_event_sources.is_tagged then coalesce(first_event_sources.utm_medium, '(not set)')
            when first_event_sources.referrer is not null then {{ referrer_medium('referrer_sources.source') }}
            else '(none)'
        end as medium,
        case when first_event_sources.is_tagged then first_event_sources.utm_campaign end as campaign
    from first_event_sources
    left join referrer_sources
        on first_event_sources.referrer = referrer_sources.referrer
),

final as (
    select
        session_id,
        session_key,
        first_event_id,
        is_consented,
        anonymous_id,
        started_at_utc,
        ended_at_utc,
        cast({{ seconds_between('started_at_utc', 'ended_at_utc') }} as double) as duration_s,
        source,
        medium,
        campaign,
        is_tagged,
        utm_content,
        utm_term,
        click_id_type,
        landing_page,
        referrer,
        device_category,
        country,
        page_views,
        events,
        _batch_at
    from sourced
)

select * from final
