-- Sessions reaching each funnel stage per day and channel, in two readings:
--   closed funnel: the session met every earlier stage first, in order (stage k's matching event comes at or
--                  after the event that completed stage k-1 - the same event may complete two stages);
--   open funnel:   the session met the stage at all, in any order (robust to events recorded out of order).
-- step conversion = sessions at the stage / sessions at the previous stage (NULL for stage 1 or a zero
-- denominator); drop-off rate = 1 - step conversion. Previous-stage counts are kept so rates can be
-- re-aggregated over any period or channel set as Σ sessions / Σ previous sessions.
-- Funnels have at most {{ var('max_funnel_stages', 10) }} stages (tested on the seed).

{%- set max_stages = var('max_funnel_stages', 10) | int %}

with

matches as (
    select * from {{ ref('int_events_matched') }}
    where rule_kind = 'funnel_stage'
),

stages as (
    select * from {{ ref('funnel_stages') }}
),

sessions as (
    select * from {{ ref('int_sessions_classified') }}
),

stage_matches as (
    select
        {{ dbt.split_part('rule_id', "':'", 1) }} as funnel_id,
        cast({{ dbt.split_part('rule_id', "':'", 2) }} as integer) as stage_order,
        session_id,
        event_index
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
    select distinct
        funnel_id,
        stage_order,
        session_id
    from stage_matches
),

closed_counts as (
    select
        sessions.session_date,
        closed.funnel_id,
        closed.stage_order,
        sessions.channel,
        count(*) as sessions_reached
    from closed
    inner join sessions
        on closed.session_id = sessions.session_id
    group by sessions.session_date, closed.funnel_id, closed.stage_order, sessions.channel
),

open_counts as (
    select
        sessions.session_date,
        opened.funnel_id,
        opened.stage_order,
        sessions.channel,
        count(*) as sessions_reached
    from opened
    inner join sessions
        on opened.session_id = sessions.session_id
    group by sessions.session_date, opened.funnel_id, opened.stage_order, sessions.channel
),

days_channels as (
    -- Every day and channel with sessions gets every stage, zeros included, so drop-offs to zero show.
    select distinct
        session_date,
        channel
    from sessions
),

grid as (
    select
        days_channels.session_date,
        stages.funnel_id,
        cast(stages.stage_order as integer) as stage_order,
        stages.stage_name,
        days_channels.channel,
        coalesce(closed_counts.sessions_reached, 0) as closed_sessions,
        coalesce(open_counts.sessions_reached, 0) as open_sessions
    from days_channels
    cross join stages
    left join closed_counts
        on
            days_channels.session_date = closed_counts.session_date
            and days_channels.channel = closed_counts.channel
            and stages.funnel_id = closed_counts.funnel_id
            and stages.stage_order = closed_counts.stage_order
    left join open_counts
        on
            days_channels.session_date = open_counts.session_date
            and days_channels.channel = open_counts.channel
            and stages.funnel_id = open_counts.funnel_id
            and stages.stage_order = open_counts.stage_order
),

with_previous as (
    select
        *,
        lag(stage_name) over (partition by session_date, funnel_id, channel order by stage_order) as previous_stage_name,
        lag(closed_sessions) over (
            partition by session_date, funnel_id, channel order by stage_order
        ) as closed_previous_sessions,
        lag(open_sessions) over (
            partition by session_date, funnel_id, channel order by stage_order
        ) as open_previous_sessions
    from grid
),

final as (
    select
        session_date,
        funnel_id,
        stage_order,
        stage_name,
        previous_stage_name,
        channel,
        cast(closed_sessions as bigint) as closed_sessions,
        cast(closed_previous_sessions as bigint) as closed_previous_sessions,
        {{ safe_divide('closed_sessions', 'closed_previous_sessions') }} as closed_step_conversion,
        1 - {{ safe_divide('closed_sessions', 'closed_previous_sessions') }} as closed_drop_off_rate,
        cast(open_sessions as bigint) as open_sessions,
        cast(open_previous_sessions as bigint) as open_previous_sessions,
        {{ safe_divide('open_sessions', 'open_previous_sessions') }} as open_step_conversion,
        1 - {{ safe_divide('open_sessions', 'open_previous_sessions') }} as open_drop_off_rate
    from with_previous
)

select * from final
