{{
    config(
        materialized=incremental_where_supported(),
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
-- Every event with its session. A session is one device's events with no gap longer than
-- var('session_timeout_minutes') (a gap of exactly the timeout stays in the session); when the source sends its
-- own session_id, events sharing it form one session whatever the gaps. Events are ordered by occurred_at
-- (then event_id), not by arrival, so out-of-order events land in the right session.
--
-- Incremental: the last var('incremental_lookback_days') days are reprocessed. For each device, processing
-- restarts at the first already-built session that ended less than one timeout before that window (so a session
-- crossing midnight or the window edge is rebuilt whole), else at the window start. Every event of a rebuilt
-- session is rewritten (unique_key event_id), so a full refresh and incremental runs agree.
--
-- Consent: a session with any event lacking analytics consent keeps no identifiers: anonymous_id and user_id
-- are NULL for all its events (the device key survives only as an md5 hash, needed for incremental processing).
--
-- Speed: the window functions run over the few columns sessions and their readers need (no wide rows are sorted);
-- per-session facts come from one group-by and are written on every event (event_index, page_view_index, session
-- start, end, events and page views), so no reader needs a window or a group-by over all events again.

{%- set timeout_s = var('session_timeout_minutes') | int * 60 %}
{%- set session_key = dbt.hash("anonymous_id || coalesce('|' || source_session_id, '')") %}

with

{% if is_incremental() %}
    window_start as (
        select
        {{ dbt.dateadd('day', -(var('incremental_lookback_days') | int),
                       'cast(cast(max(occurred_at_utc) as date) as timestamp)') }} as window_start_utc
        from {{ this }}
    ),

    key_cutoffs as (
        select
            this.session_key,
            min(this.session_started_at_utc) as cutoff_utc
        from {{ this }} as this
        cross join window_start
        where this.session_ended_at_utc >= {{ dbt.dateadd('second', -timeout_s, 'window_start.window_start_utc') }}
        group by this.session_key
    ),

    batch_start as (
        -- The earliest event any device restarts at (NULL for an empty table: process everything).
        select least(min(key_cutoffs.cutoff_utc), max(window_start.window_start_utc)) as batch_start_utc
        from window_start
        left join key_cutoffs on true
    ),
{% endif %}

events as (
    select * from {{ ref('stg_web__events') }}
    {% if is_incremental() %}
        where occurred_at_utc >= coalesce(
            (select batch_start.batch_start_utc from batch_start), cast('1900-01-01' as timestamp)
        )
    {% endif %}
),

batch as (
    -- Only what the sessions and their readers need: first-event attributes (traffic source, device ...) are read
    -- from stg_web__events by int_sessions_aggregated, order fields by int_conversions_matched.
    select
        events.event_id,
        events.occurred_at_utc,
        events.anonymous_id,
        events.source_session_id,
        events.user_id,
        events.event_name,
        events.page_path,
        events.is_consented,
        case when events.event_name = 'page_view' then 1 else 0 end as is_page_view
    from events
    {% if is_incremental() %}
        cross join window_start
        left join key_cutoffs
            on
                {{ dbt.hash("events.anonymous_id || coalesce('|' || events.source_session_id, '')") }}
                = key_cutoffs.session_key
        where
            window_start.window_start_utc is null
            or events.occurred_at_utc >= least(
                coalesce(key_cutoffs.cutoff_utc, window_start.window_start_utc), window_start.window_start_utc
            )
    {% endif %}
),

-- One partition per device, or per (device, source session) when the source sends session ids.
gaps as (
    select
        *,
        case
            when lag(occurred_at_utc) over by_device is null then 1
            when
                source_session_id is null
                and {{ seconds_between('lag(occurred_at_utc) over by_device', 'occurred_at_utc') }} > {{ timeout_s }}
                then 1
            else 0
        end as is_session_start,
        row_number() over by_device as device_event_number,
        sum(is_page_view) over (
            partition by anonymous_id, source_session_id order by occurred_at_utc, event_id
            rows between unbounded preceding and current row
        ) as device_page_view_number
    from batch
    window by_device as (partition by anonymous_id, source_session_id order by occurred_at_utc, event_id)
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by anonymous_id, source_session_id
            order by occurred_at_utc, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps
),

sessions as (
    select
        anonymous_id,
        source_session_id,
        session_number,
        {{ session_key }} as session_key,
        min(device_event_number) as first_event_number,
        min(device_page_view_number - is_page_view) as page_views_before,
        count(*) as session_events,
        sum(is_page_view) as session_page_views,
        min(occurred_at_utc) as session_started_at_utc,
        max(occurred_at_utc) as session_ended_at_utc,
        {{ first_by('event_id', 'device_event_number') }} as first_event_id,
        bool_and(is_consented) as is_session_consented
    from numbered
    group by anonymous_id, source_session_id, session_number
),

final as (
    select
        numbered.event_id,
        {{ dbt.hash("sessions.session_key || '|' || case when sessions.source_session_id is null
                     then sessions.first_event_id else '' end") }} as session_id,
        sessions.session_key,
        numbered.device_event_number - sessions.first_event_number + 1 as event_index,
        -- the running count of page views in the session, on page views only
        case
            when numbered.is_page_view = 1 then numbered.device_page_view_number - sessions.page_views_before
        end as page_view_index,
        sessions.is_session_consented as is_consented,
        case when sessions.is_session_consented then numbered.anonymous_id end as anonymous_id,
        case when sessions.is_session_consented then numbered.user_id end as user_id,
        numbered.occurred_at_utc,
        sessions.session_started_at_utc,
        sessions.session_ended_at_utc,
        sessions.session_events,
        sessions.session_page_views,
        numbered.event_name,
        numbered.page_path,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as _batch_at
    from numbered
    inner join sessions
        on
            numbered.anonymous_id = sessions.anonymous_id
            and numbered.source_session_id is not distinct from sessions.source_session_id
            and numbered.session_number = sessions.session_number
)

select * from final
