{#-
    Multi-touch attribution of macro conversions (MARTS.md "Attribution") under eight models: six rules and two
    learned from the journeys (markov, shapley). The touchpoints of each conversion come from
    int_attribution_touches (the converting session plus the visitor's sessions within the lookback; an order no
    session explains is one '(untracked)' touch). One row per (conversion, model, touch) with credit > 0; credits
    of a (conversion, model) sum to 1 (tests/dbt/assert_attribution_credits_sum_to_one.sql).
    markov and shapley hand credit by the channel shares of fct_attribution_channel_weights: each distinct channel
    of the path gets its share over the sum of the path's channel shares, split equally between the channel's
    touches. A path whose channels have no share at all (a channel the training window did not see, an
    '(untracked)' order) is split equally between its touches, as linear does.
-#}

with

touchpoints as (
    select * from {{ ref('int_attribution_touches') }}
),

learned_weights as (
    select * from {{ ref('fct_attribution_channel_weights') }}
),

positioned as (
    select
        *,
        coalesce(
            max(case when channel <> 'Direct' then touch_position end) over (partition by conversion_id),
            touches
        ) as last_non_direct_position,
        power(2.0, -days_before_conversion / 7.0) as decay_weight
    from touchpoints
),

credits as (
    select
        *,
        case when touch_position = 1 then 1.0 else 0.0 end as credit_first_touch,
        case when touch_position = touches then 1.0 else 0.0 end as credit_last_touch,
        case when touch_position = last_non_direct_position then 1.0 else 0.0 end as credit_last_non_direct,
        1 / cast(touches as double) as credit_linear,
        case
            when touches = 1 then 1.0
            when touches = 2 then 0.5
            when touch_position = 1 or touch_position = touches then 0.4
            else 0.2 / cast(touches - 2 as double)
        end as credit_position_based,
        -- an exact sum, so two builds give the same bits (a double sum's order varies)
        {{ exact_share('decay_weight', 'partition by conversion_id') }} as credit_time_decay
    from positioned
),

unpivoted as (
    select
        *,
        'first_touch' as model,
        credit_first_touch as credit
    from credits
    union all
    select
        *,
        'last_touch' as model,
        credit_last_touch as credit
    from credits
    union all
    select
        *,
        'last_non_direct' as model,
        credit_last_non_direct as credit
    from credits
    union all
    select
        *,
        'linear' as model,
        credit_linear as credit
    from credits
    union all
    select
        *,
        'position_based' as model,
        credit_position_based as credit
    from credits
    union all
    select
        *,
        'time_decay' as model,
        credit_time_decay as credit
    from credits
),

channel_touches as (
    select
        conversion_id,
        channel,
        count(*) as touches_of_channel
    from touchpoints
    group by conversion_id, channel
),

-- both models, even before there is anything to learn from
learned_models as (
    select 'markov' as model
    union all
    select 'shapley' as model
),

path_shares as (
    select
        channel_touches.conversion_id,
        channel_touches.channel,
        channel_touches.touches_of_channel,
        learned_models.model,
        -- the channel's part of the path: its share over the sum of the path's channel shares (NULL when that is 0)
        {{ exact_share(
            'coalesce(learned_weights.share, 0)',
            'partition by channel_touches.conversion_id, learned_models.model'
        ) }} as path_part
    from channel_touches
    cross join learned_models
    left join learned_weights
        on learned_models.model = learned_weights.model and channel_touches.channel = learned_weights.channel
),

learned_credits as (
    select
        credits.*,
        path_shares.model,
        case
            when path_shares.path_part is not null then path_shares.path_part / path_shares.touches_of_channel
            else 1 / cast(credits.touches as double)
        end as credit
    from credits
    inner join path_shares
        on credits.conversion_id = path_shares.conversion_id and credits.channel = path_shares.channel
),

all_credits as (
    select * from unpivoted
    union all
    select * from learned_credits
),

final as (
    select
        conversion_id,
        model,
        touch_session_id as session_id,
        goal_id,
        occurred_at,
        conversion_date,
        converting_session_date,
        -- the day fct_kpi_daily counts the conversion on (an order's feed day, else the session's day); marts that
        -- sum credit by month use it
        kpi_date,
        is_tracked,
        order_id,
        visitor_id,
        touch_started_at as session_started_at,
        cast(touch_position as bigint) as touch_position,
        cast(touches as bigint) as touches,
        is_converting_session,
        channel,
        campaign_key,
        cast(credit as double) as credit,
        cast(credit * coalesce(revenue, 0) as double) as attributed_revenue,
        cast(credit * coalesce(gross_margin, 0) as double) as attributed_gross_margin,
        -- the money a conversion is worth: its revenue when it has one, else the goal's value
        cast(credit * coalesce(revenue, value, 0) as double) as attributed_value
    from all_credits
    where credit > 0
)

select * from final
