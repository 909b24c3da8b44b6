{{
    config(
        materialized=incremental_where_supported(),
        unique_key='session_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=["{% if is_incremental() %}delete from {{ this }} where session_id not in
                    (select session_id from {{ ref('int_sessions_aggregated') }}){% endif %}"],
    )
}}
-- depends_on: {{ ref('int_sessions_aggregated') }}  (read by the post-hook only)
-- Goal conversions: every_event goals convert on each matching event; once_per_session goals on the first
-- matching event of a session. Session-level goals (duration, page views) match once per session, so both
-- counting modes give one conversion. conversion_id = md5(goal_id | event_id) for every_event goals and
-- md5(goal_id | session_id) for once_per_session goals.
-- Incremental: conversions of the sessions rebuilt since the last run are replaced (delete+insert on session_id).
with

matches as (
    select * from {{ ref('int_events_matched') }}
    where
        rule_kind = 'goal'
        {% if is_incremental() %}
            and {{ rewritten_since_last_run() }}
        {% endif %}
),

goals as (
    select * from {{ ref('conversion_goals') }}
),

staged as (
    -- Order fields of the converting events, from staging (int_events_sessionized does not carry them).
    select * from {{ ref('stg_web__events') }}
    {% if is_incremental() %}
        where occurred_at_utc >= (select min(matches.occurred_at_utc) from matches)
    {% endif %}
),

counted as (
    select
        matches.rule_id as goal_id,
        goals.counting,
        matches.session_id,
        matches.event_id,
        matches.occurred_at_utc,
        matches._batch_at
    from matches
    inner join goals
        on matches.rule_id = goals.goal_id
    qualify
        goals.counting = 'every_event'
        or row_number() over (
            partition by matches.rule_id, matches.session_id order by matches.occurred_at_utc, matches.event_index
        ) = 1
),

final as (
    select
        {{ dbt.hash("counted.goal_id || '|' || case when counted.counting = 'every_event' then counted.event_id
                     else counted.session_id end") }} as conversion_id,
        counted.goal_id,
        counted.session_id,
        counted.event_id,
        counted.occurred_at_utc,
        staged.order_id,
        staged.revenue as event_revenue,
        staged.currency as event_currency,
        counted._batch_at
    from counted
    inner join staged
        on counted.event_id = staged.event_id
)

select * from final
