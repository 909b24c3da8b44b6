{{ config(materialized='view') }}
-- Every moment a goal (seeds/conversion_goals) or funnel stage (seeds/funnel_stages) condition is met:
--   event               -> each event whose event_name equals match_value
--   page                -> each page_view whose page path matches the LIKE pattern match_value
--   session_pageviews N -> once per session, at its N-th page view (N = 0: at its first event)
--   session_duration_s T-> once per session, at its first event T or more seconds after the session start
-- Counting (once per session or every event) is applied downstream; this model only finds matches.
-- A view: its readers (int_conversions_matched for goals, int_funnel_stages_reached for funnel stages) each need
-- their own rules, and on an incremental run only the sessions rewritten since their last run; their filters on
-- rule_kind and _batch_at reach the scan of int_events_sessionized (its CTEs are not materialized for that), so
-- no match table of all history is written.
{#- The columns every kind of match returns (one row per match). -#}
{%- set match_columns -%}
    rules.rule_kind, rules.rule_id, rules.funnel_id, rules.stage_order, rules.match_type,
    indexed.session_id, indexed.event_id, indexed.occurred_at_utc, indexed.event_index, indexed._batch_at
{%- endset %}

with

events as {{ not_materialized() }} (
    select * from {{ ref('int_events_sessionized') }}
),

goals as {{ not_materialized() }} (
    select * from {{ ref('conversion_goals') }}
),

stages as {{ not_materialized() }} (
    select * from {{ ref('funnel_stages') }}
),

rules as {{ not_materialized() }} (
    select
        'goal' as rule_kind,
        goal_id as rule_id,
        cast(null as string) as funnel_id,
        cast(null as integer) as stage_order,
        match_type,
        match_value
    from goals
    union all
    select
        'funnel_stage' as rule_kind,
        funnel_id || ':' || cast(stage_order as string) as rule_id,
        funnel_id,
        cast(stage_order as integer) as stage_order,
        match_type,
        match_value
    from stages
),

indexed as {{ not_materialized() }} (
    select
        session_id,
        event_id,
        event_name,
        page_path,
        occurred_at_utc,
        event_index,
        _batch_at,
        page_view_index,
        {{ seconds_between('session_started_at_utc', 'occurred_at_utc') }} as seconds_since_start
    from events
),

event_matches as (
    select {{ match_columns }}
    from indexed
    inner join rules
        on
            rules.match_type = 'event'
            and indexed.event_name = lower(rules.match_value)
),

page_matches as (
    select {{ match_columns }}
    from indexed
    inner join rules
        on
            rules.match_type = 'page'
            and indexed.event_name = 'page_view'
            and indexed.page_path like rules.match_value
),

pageview_matches as (
    -- N = 0 matches the first event, N > 0 the N-th page view: two equi-joins (an OR in one join condition would
    -- make a nested-loop join over every event).
    select {{ match_columns }}
    from indexed
    inner join rules
        on
            rules.match_type = 'session_pageviews'
            and cast(rules.match_value as integer) <= 0
            and indexed.event_index = 1
    union all
    select {{ match_columns }}
    from indexed
    inner join rules
        on
            rules.match_type = 'session_pageviews'
            and cast(rules.match_value as integer) > 0
            and indexed.page_view_index = cast(rules.match_value as integer)
),

duration_matches as (
    -- The first event of the session at or past the threshold. Grouped with _batch_at (the same on every event of
    -- a session) so that a reader's filter on it reaches the scan below this aggregate.
    select
        rules.rule_kind,
        rules.rule_id,
        rules.funnel_id,
        rules.stage_order,
        rules.match_type,
        indexed.session_id,
        {{ first_by('indexed.event_id', 'indexed.event_index') }} as event_id,
        {{ first_by('indexed.occurred_at_utc', 'indexed.event_index') }} as occurred_at_utc,
        min(indexed.event_index) as event_index,
        indexed._batch_at
    from indexed
    inner join rules
        on
            rules.match_type = 'session_duration_s'
            and indexed.seconds_since_start >= cast(rules.match_value as double)
    group by
        rules.rule_kind, rules.rule_id, rules.funnel_id, rules.stage_order, rules.match_type, indexed.session_id,
        indexed._batch_at
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
