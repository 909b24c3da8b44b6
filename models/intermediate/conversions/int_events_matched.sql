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
-- Every moment a goal (seeds/conversion_goals) or funnel stage (seeds/funnel_stages) condition is met:
--   event               -> each event whose event_name equals match_value
--   page                -> each page_view whose page path matches the LIKE pattern match_value
--   session_pageviews N -> once per session, at its N-th page view (N = 0: at its first event)
--   session_duration_s T-> once per session, at its first event T or more seconds after the session start
-- Counting (once per session or every event) is applied downstream; this model only finds matches.
-- Incremental: int_events_sessionized rewrites whole sessions, so the events it wrote since this model's last run
-- are exactly the sessions to match again (delete+insert on session_id; the post-hook drops vanished sessions).
with

events as (
    select * from {{ ref('int_events_sessionized') }}
    {% if is_incremental() %}
        where _batch_at > (select coalesce(max(done._batch_at), cast('1900-01-01' as timestamp)) from {{ this }} as done)
    {% endif %}
),

goals as (
    select * from {{ ref('conversion_goals') }}
),

stages as (
    select * from {{ ref('funnel_stages') }}
),

rules as (
    select
        'goal' as rule_kind,
        goal_id as rule_id,
        match_type,
        match_value
    from goals
    union all
    select
        'funnel_stage' as rule_kind,
        funnel_id || ':' || cast(stage_order as varchar) as rule_id,
        match_type,
        match_value
    from stages
),

indexed as (
    select
        session_id,
        event_id,
        event_name,
        page_path,
        occurred_at_utc,
        event_index,
        _batch_at,
        case
            when event_name = 'page_view'
                then sum(case when event_name = 'page_view' then 1 else 0 end) over (
                    partition by session_id order by event_index rows between unbounded preceding and current row
                )
        end as page_view_index,
        {{ seconds_between('session_started_at_utc', 'occurred_at_utc') }} as seconds_since_start
    from events
),

event_matches as (
    select
        rules.rule_kind,
        rules.rule_id,
        rules.match_type,
        indexed.session_id,
        indexed.event_id,
        indexed.occurred_at_utc,
        indexed.event_index,
        indexed._batch_at
    from indexed
    inner join rules
        on
            rules.match_type = 'event'
            and indexed.event_name = lower(rules.match_value)
),

page_matches as (
    select
        rules.rule_kind,
        rules.rule_id,
        rules.match_type,
        indexed.session_id,
        indexed.event_id,
        indexed.occurred_at_utc,
        indexed.event_index,
        indexed._batch_at
    from indexed
    inner join rules
        on
            rules.match_type = 'page'
            and indexed.event_name = 'page_view'
            and indexed.page_path like rules.match_value
),

pageview_matches as (
    select
        rules.rule_kind,
        rules.rule_id,
        rules.match_type,
        indexed.session_id,
        indexed.event_id,
        indexed.occurred_at_utc,
        indexed.event_index,
        indexed._batch_at
    from indexed
    inner join rules
        on
            rules.match_type = 'session_pageviews'
            and (
                (cast(rules.match_value as integer) <= 0 and indexed.event_index = 1)
                or indexed.page_view_index = cast(rules.match_value as integer)
            )
),

duration_matches as (
    select
        rules.rule_kind,
        rules.rule_id,
        rules.match_type,
        indexed.session_id,
        indexed.event_id,
        indexed.occurred_at_utc,
        indexed.event_index,
        indexed._batch_at
    from indexed
    inner join rules
        on
            rules.match_type = 'session_duration_s'
            and indexed.seconds_since_start >= cast(rules.match_value as double)
    qualify row_number() over (partition by rules.rule_kind, rules.rule_id, indexed.session_id order by indexed.event_index) = 1
),

final as (
    select * from event_matches
    union all
    select * from page_matches
    union all
    select * from pageview_matches
    union all
    select * from duration_matches
)

select * from final
