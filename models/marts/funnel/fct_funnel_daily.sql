-- Sessions reaching each funnel stage per day and channel, in two readings (int_funnel_stages_reached):
--   closed funnel: the session met every earlier stage first, in order;
--   open funnel:   the session met the stage at all, in any order (robust to events recorded out of order).
-- step conversion = sessions at the stage / sessions at the previous stage (NULL for stage 1 or a zero
-- denominator); drop-off rate = 1 - step conversion. Previous-stage counts are kept so rates can be
-- re-aggregated over any period or channel set as Σ sessions / Σ previous sessions.
-- A sum over the per-session stages (kept incrementally upstream): cheap to rebuild whole, so a re-stitched or
-- re-classified session moves its day and channel without any bookkeeping here.

with

reached as (
    select * from {{ ref('int_funnel_stages_reached') }}
),

stages as (
    select * from {{ ref('funnel_stages') }}
),

sessions as (
    select * from {{ ref('int_sessions_classified') }}
),

stage_counts as (
    select
        sessions.session_date,
        reached.funnel_id,
        reached.stage_order,
        sessions.channel,
        count(case when reached.is_closed then 1 end) as closed_reached,
        count(*) as open_reached
    from reached
    inner join sessions
        on reached.session_id = sessions.session_id
    group by sessions.session_date, reached.funnel_id, reached.stage_order, sessions.channel
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
        coalesce(stage_counts.closed_reached, 0) as closed_sessions,
        coalesce(stage_counts.open_reached, 0) as open_sessions
    from days_channels
    cross join stages
    left join stage_counts
        on
            days_channels.session_date = stage_counts.session_date
            and days_channels.channel = stage_counts.channel
            and stages.funnel_id = stage_counts.funnel_id
            and stages.stage_order = stage_counts.stage_order
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
