{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
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

{%- set timeout_s = var('session_timeout_minutes') | int * 60 %}

with

events as (
    select * from {{ ref('stg_web__events') }}
),

keyed as (
    select
        *,
        -- One partition per device, or per (device, source session) when the source sends session ids.
        {{ dbt.hash("anonymous_id || coalesce('|' || source_session_id, '')") }} as session_key
    from events
),

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
{% endif %}

batch as (
    select keyed.*
    from keyed
    {% if is_incremental() %}
        cross join window_start
        left join key_cutoffs
            on keyed.session_key = key_cutoffs.session_key
        -- An empty table (window_start NULL) means: process everything.
        where
            window_start.window_start_utc is null
            or keyed.occurred_at_utc >= least(
                coalesce(key_cutoffs.cutoff_utc, window_start.window_start_utc), window_start.window_start_utc
            )
    {% endif %}
),

gaps as (
    select
        *,
        lag(occurred_at_utc) over (partition by session_key order by occurred_at_utc, event_id) as previous_at_utc
    from batch
),

flagged as (
    select
        *,
        case
            when previous_at_utc is null then 1
            when
                source_session_id is null
                and {{ seconds_between('previous_at_utc', 'occurred_at_utc') }} > {{ timeout_s }} then 1
            else 0
        end as is_session_start
    from gaps
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by session_key order by occurred_at_utc, event_id rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

sessions as (
    select
        *,
        first_value(event_id) over (
            partition by session_key, session_number order by occurred_at_utc, event_id
        ) as first_event_id,
        min(occurred_at_utc) over (partition by session_key, session_number) as session_started_at_utc,
        max(occurred_at_utc) over (partition by session_key, session_number) as session_ended_at_utc,
        row_number() over (
            partition by session_key, session_number order by occurred_at_utc, event_id
        ) as event_index,
        bool_and(is_consented) over (partition by session_key, session_number) as is_session_consented
    from numbered
),

final as (
    select
        event_id,
        {{ dbt.hash("session_key || '|' || case when source_session_id is null then first_event_id else '' end") }}
            as session_id,
        session_key,
        event_index,
        first_event_id,
        is_session_consented as is_consented,
        case when is_session_consented then anonymous_id end as anonymous_id,
        case when is_session_consented then user_id end as user_id,
        occurred_at_utc,
        session_started_at_utc,
        session_ended_at_utc,
        event_name,
        page_path,
        referrer_host,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        click_id_type,
        device_category,
        country,
        order_id,
        revenue,
        currency,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as _batch_at
    from sessions
)

select * from final
