-- depends_on: {{ ref('int_sessions_aggregated') }}  (read by the post-hook only)
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
-- One row per session and funnel stage the session met at all (open funnel), with whether it also met every
-- earlier stage first, in order (closed funnel: stage k's matching event comes at or after the event that
-- completed stage k-1 - the same event may complete two stages).
-- Funnels have at most {{ var('max_funnel_stages', 10) }} stages (tested on the seed).
-- Incremental by session, like int_events_matched: the sessions it rewrote since the last run are redone, so the
-- daily mart only sums these rows.

{%- set max_stages = var('max_funnel_stages', 10) | int %}

with

matches as (
    select * from {{ ref('int_events_matched') }}
    where
        rule_kind = 'funnel_stage'
        {% if is_incremental() %}
            and {{ rewritten_since_last_run() }}
        {% endif %}
),

stage_matches as (
    select
        funnel_id,
        stage_order,
        session_id,
        event_index,
        _batch_at
    from matches
),

closed_1 as (
    select
        funnel_id,
        session_id,
        min(event_index) as reached_at_index
    from stage_matches
    where stage_order = 1
    group by funnel_id, session_id
),

{% for k in range(2, max_stages + 1) %}
    closed_{{ k }} as (
        select
            stage_matches.funnel_id,
            stage_matches.session_id,
            min(stage_matches.event_index) as reached_at_index
        from stage_matches
        inner join closed_{{ k - 1 }} as previous
            on
                stage_matches.funnel_id = previous.funnel_id
                and stage_matches.session_id = previous.session_id
                and stage_matches.event_index >= previous.reached_at_index
        where stage_matches.stage_order = {{ k }}
        group by stage_matches.funnel_id, stage_matches.session_id
    ),
{% endfor %}

closed as (
    {% for k in range(1, max_stages + 1) %}
        select
            funnel_id,
            {{ k }} as stage_order,
            session_id
        from closed_{{ k }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

opened as (
    select
        funnel_id,
        stage_order,
        session_id,
        max(_batch_at) as _batch_at
    from stage_matches
    group by funnel_id, stage_order, session_id
),

final as (
    select
        opened.session_id,
        opened.funnel_id,
        opened.stage_order,
        closed.session_id is not null as is_closed,
        opened._batch_at
    from opened
    left join closed
        on
            opened.session_id = closed.session_id
            and opened.funnel_id = closed.funnel_id
            and opened.stage_order = closed.stage_order
)

select * from final
