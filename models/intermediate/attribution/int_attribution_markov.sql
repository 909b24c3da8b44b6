{#-
    The markov model's channel weights: a first-order Markov chain over the journeys of int_attribution_journeys
    ((start) -> channel -> ... -> (conversion) or (null)) and each channel's removal effect, the share of the
    chain's conversion probability lost when the channel is removed (its visits lead to (null)).
    The chains, whole and with each channel removed, are int_attribution_markov_transitions.
    The absorbing-chain solve is done in SQL, not in Python, so that it runs on every target (dbt-spark runs
    Python models only on Databricks): the probability mass walks forward from (start) one step per CTE for
    var('attribution_markov_steps') steps; (conversion) keeps what reaches it. The mass still walking after the
    last step is reported as unabsorbed_probability, a bound on the error of every probability here, which a data
    test keeps below 1e-9 (raise the var if a data set has longer cycles).
-#}

{%- set steps = var('attribution_markov_steps') | int %}

with

scenario_transitions as (
    select * from {{ ref('int_attribution_markov_transitions') }}
),

scenarios as (
    select distinct removed_channel from scenario_transitions
),

mass_0 as (
    select
        removed_channel,
        '(start)' as state,
        cast(1.0 as double) as mass
    from scenarios
),
{%- for step in range(steps) %}

mass_{{ step + 1 }} as (
    select
        mass_{{ step }}.removed_channel,
        scenario_transitions.to_state as state,
        -- exact_sum: the same doubles in any order of summing, so every build gives the same bits
        {{ exact_sum('mass_' ~ step ~ '.mass * scenario_transitions.probability') }} as mass
    from mass_{{ step }}
    inner join scenario_transitions
        on
            mass_{{ step }}.removed_channel = scenario_transitions.removed_channel
            and mass_{{ step }}.state = scenario_transitions.from_state
    group by mass_{{ step }}.removed_channel, scenario_transitions.to_state
),
{%- endfor %}

absorbed as (
    select
        scenarios.removed_channel,
        coalesce({{ exact_sum("case when walked.state = '(conversion)' then walked.mass end") }}, 0)
            as conversion_probability,
        coalesce({{ exact_sum("case when walked.state <> '(conversion)' then walked.mass end") }}, 0)
            as unabsorbed_probability
    from scenarios
    left join mass_{{ steps }} as walked
        on scenarios.removed_channel = walked.removed_channel
    group by scenarios.removed_channel
),

removal_effects as (
    select
        removed.removed_channel as channel,
        whole_chain.conversion_probability as chain_conversion_probability,
        removed.conversion_probability as conversion_probability_without,
        case
            when whole_chain.conversion_probability > 0
                then 1 - removed.conversion_probability / whole_chain.conversion_probability
            else 0
        end as removal_effect,
        greatest(removed.unabsorbed_probability, whole_chain.unabsorbed_probability) as unabsorbed_probability
    from absorbed as removed
    cross join absorbed as whole_chain
    where removed.removed_channel <> '(none)' and whole_chain.removed_channel = '(none)'
),

final as (
    select
        channel,
        chain_conversion_probability,
        conversion_probability_without,
        removal_effect,
        coalesce({{ exact_share('removal_effect') }}, 0) as share,
        unabsorbed_probability
    from removal_effects
)

select * from final
