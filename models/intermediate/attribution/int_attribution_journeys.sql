{#-
    The journeys the data-driven attribution models (markov, shapley) learn from, one row per touch: every
    journey of the training window, the last var('attribution_training_days') days up to data_through.
    - A converting journey is the touch path of a macro conversion counted on a day of the window
      (int_attribution_touches); the '(untracked)' touch of an order no session explains is left out, since no
      channel led to it.
    - A non-converting journey is made of the window's sessions that are no touch of any macro conversion, so no
      conversion followed them within var('attribution_lookback_days'): a visitor's such sessions in time order,
      a new journey starting after a gap of more than the lookback (the longest a converting journey can span).
      A session without a visitor id is a journey of its own.
-#}

with

data_through as (
    select data_through from {{ ref('int_data_through') }}
),

training_window as (
    select
        cast({{ dbt.dateadd('day', 1 - var('attribution_training_days') | int, 'data_through') }} as date) as training_start,
        data_through as training_end
    from data_through
),

touches as (
    select * from {{ ref('int_attribution_touches') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

converting as (
    select
        'conversion:' || touches.conversion_id as journey_id,
        true as is_converted,
        touches.touch_position,
        touches.channel
    from touches
    inner join training_window
        on touches.kpi_date between training_window.training_start and training_window.training_end
    where touches.channel <> '(untracked)'
),

touched_sessions as (
    select distinct touch_session_id as session_id
    from touches
    where touch_session_id is not null
),

unconverted_sessions as (
    select
        sessions.session_id,
        coalesce(sessions.visitor_id, 'session:' || sessions.session_id) as journey_owner,
        sessions.started_at,
        sessions.channel
    from sessions
    inner join training_window
        on sessions.session_date between training_window.training_start and training_window.training_end
    left join touched_sessions
        on sessions.session_id = touched_sessions.session_id
    where touched_sessions.session_id is null
),

gaps as (
    select
        *,
        case
            when
                lag(started_at) over (partition by journey_owner order by started_at, session_id)
                >= {{ dbt.dateadd('day', -1 * var('attribution_lookback_days') | int, 'started_at') }}
                then 0
            else 1
        end as starts_journey
    from unconverted_sessions
),

numbered as (
    select
        *,
        sum(starts_journey) over (
            partition by journey_owner order by started_at, session_id rows between unbounded preceding and current row
        ) as journey_number
    from gaps
),

unconverted as (
    select
        'unconverted:' || journey_owner || ':' || cast(journey_number as string) as journey_id,
        false as is_converted,
        row_number() over (
            partition by journey_owner, journey_number order by started_at, session_id
        ) as touch_position,
        channel
    from numbered
),

final as (
    select
        journeys.journey_id,
        journeys.is_converted,
        cast(journeys.touch_position as bigint) as touch_position,
        journeys.channel,
        training_window.training_start,
        training_window.training_end
    from (
        select * from converting
        union all
        select * from unconverted
    ) as journeys
    cross join training_window
)

select * from final
