{#-
    The markov model's chains (int_attribution_markov walks them): the transition probabilities of a first-order
    Markov chain over the journeys of int_attribution_journeys, (start) -> channel -> ... -> (conversion) or
    (null), once whole (removed_channel '(none)') and once per channel with that channel removed (transitions into
    it lead to (null), so they are left out). (conversion) absorbs: a self-loop of probability 1.
    A repeat of the same channel is collapsed into one state: a self-loop changes how long a walk stays in a state,
    not where it ends, so the absorption probabilities are the same and the walk converges faster.
    A table of its own so that each step of the walk reads a small table (Spark would otherwise plan this whole
    query again inside every step).
-#}

with

journeys as (
    select * from {{ ref('int_attribution_journeys') }}
),

-- consecutive touches of the same channel are one state
changes as (
    select
        *,
        lag(channel) over (partition by journey_id order by touch_position) as previous_channel
    from journeys
),

states as (
    select
        journey_id,
        is_converted,
        channel as state,
        row_number() over (partition by journey_id order by touch_position) as step,
        count(*) over (partition by journey_id) as steps
    from changes
    where previous_channel is null or previous_channel <> channel
),

moves as (
    select
        coalesce(
            lag(state) over (partition by journey_id order by step), '(start)'
        ) as from_state,
        state as to_state
    from states
    union all
    select
        state as from_state,
        case when is_converted then '(conversion)' else '(null)' end as to_state
    from states
    where step = steps
),

transitions as (
    select
        from_state,
        to_state,
        count(*) / cast(sum(count(*)) over (partition by from_state) as double) as probability
    from moves
    group by from_state, to_state
),

channels as (
    select distinct channel from journeys
),

-- '(none)': the whole chain; a channel: the chain with that channel's visits sent to (null)
scenarios as (
    select '(none)' as removed_channel
    union all
    select channel as removed_channel from channels
),

scenario_transitions as (
    select
        scenarios.removed_channel,
        transitions.from_state,
        transitions.to_state,
        transitions.probability
    from scenarios
    cross join transitions
    where transitions.from_state <> scenarios.removed_channel and transitions.to_state <> scenarios.removed_channel
    union all
    -- (conversion) absorbs: the mass that reached it stays there
    select
        removed_channel,
        '(conversion)' as from_state,
        '(conversion)' as to_state,
        1.0 as probability
    from scenarios
)

select * from scenario_transitions
