{#-
    What the data-driven attribution models learned (MARTS.md "Attribution"): one row per (model, channel) with the
    channel's learned value, its share (the weight fct_attributed_conversions hands credit by) and the training
    window, so an analyst can check a credit by hand and see what a re-training changed.
    markov: the removal effect (int_attribution_markov); shapley: the Shapley value (int_attribution_shapley).
-#}

with

journeys as (
    select * from {{ ref('int_attribution_journeys') }}
),

markov as (
    select * from {{ ref('int_attribution_markov') }}
),

shapley as (
    select * from {{ ref('int_attribution_shapley') }}
),

training as (
    select
        max(training_start) as training_start,
        max(training_end) as training_end,
        count(distinct journey_id) as training_journeys,
        count(distinct case when is_converted then journey_id end) as training_conversions
    from journeys
),

learned as (
    select
        'markov' as model,
        channel,
        'removal_effect' as method,
        removal_effect as learned_score,
        share
    from markov
    union all
    select
        'shapley' as model,
        channel,
        method,
        shapley_value as learned_score,
        share
    from shapley
),

final as (
    select
        learned.model,
        learned.channel,
        learned.method,
        cast(learned.learned_score as double) as learned_score,
        cast(learned.share as double) as share,
        training.training_start,
        training.training_end,
        cast(training.training_journeys as bigint) as training_journeys,
        cast(training.training_conversions as bigint) as training_conversions
    from learned
    cross join training
)

select * from final
