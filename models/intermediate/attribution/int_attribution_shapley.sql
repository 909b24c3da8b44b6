{#-
    The shapley model's channel weights: Shapley values of a cooperative game over the channel sets of the
    journeys in int_attribution_journeys (converting and not).
    - Exact (up to var('attribution_shapley_exact_max_channels') distinct channels): the worth v(S) of a set of
      channels S is the conversion rate of the journeys that touched only channels of S (0 when there are none,
      v of the empty set 0), the conversion rate a business would see with just those channels. A channel's value
      is the Shapley average of its marginal worth v(S + channel) - v(S) over all S without it, weighted
      |S|! (n - |S| - 1)! / n!. That takes all 2^n sets: 4,096 at 12 channels, 65,536 at 16.
    - Beyond that limit, the simplified Shapley value of Zhao et al. (2018): each channel set T observed in the
      journeys shares its own conversion rate R(T) equally among its channels, value(c) = sum over T holding c of
      R(T) / |T|. It is the exact Shapley value of the additive game v(S) = sum of R(T) over T inside S, linear
      in the number of observed sets.
    A value can be negative (journeys that add the channel convert worse); such a channel gets share 0. Shares
    are the positive values normalised to sum to 1. Channel sets are bit masks, a bit per channel. Sums are
    exact_sum()s, so every build gives the same bits.
-#}

{%- set max_exact = var('attribution_shapley_exact_max_channels') | int %}

with

journeys as (
    select * from {{ ref('int_attribution_journeys') }}
),

channels as (
    select
        channel,
        cast(power(2, row_number() over (order by channel) - 1) as bigint) as channel_bit
    from (select distinct channel from journeys) as distinct_channels
),

channel_count as (
    select cast(count(*) as int) as n from channels
),

journey_sets as (
    select
        journeys.journey_id,
        max(case when journeys.is_converted then 1 else 0 end) as converted,
        sum(distinct channels.channel_bit) as channel_set
    from journeys
    inner join channels
        on journeys.channel = channels.channel
    group by journeys.journey_id
),

set_counts as (
    select
        channel_set,
        count(*) as journeys,
        sum(converted) as conversions
    from journey_sets
    group by channel_set
),

-- exact: every subset S of the n channels (none when n is over the limit)
coalitions as (
    select cast(series.generated_number - 1 as bigint) as coalition
    from ({{ dbt.generate_series(2 ** max_exact) }}) as series
    cross join channel_count
    where channel_count.n <= {{ max_exact }} and series.generated_number <= power(2, channel_count.n)
),

coalition_worth as (
    select
        coalitions.coalition,
        coalesce(sum(set_counts.conversions) / cast(sum(set_counts.journeys) as double), 0) as worth
    from coalitions
    left join set_counts
        on (set_counts.channel_set & coalitions.coalition) = set_counts.channel_set
    group by coalitions.coalition
),

exact_values as (
    select
        channels.channel,
        {{ exact_sum('''
            cast(factorial(cast(bit_count(without_channel.coalition) as int)) as double)
            * cast(factorial(cast(channel_count.n - bit_count(without_channel.coalition) - 1 as int)) as double)
            / cast(factorial(channel_count.n) as double)
            * (with_channel.worth - without_channel.worth)
        ''') }} as shapley_value
    from channels
    cross join channel_count
    cross join coalition_worth as without_channel
    inner join coalition_worth as with_channel
        on with_channel.coalition = without_channel.coalition + channels.channel_bit
    where (without_channel.coalition & channels.channel_bit) = 0
    group by channels.channel
),

simplified_values as (
    select
        channels.channel,
        {{ exact_sum(
            'set_counts.conversions / cast(set_counts.journeys as double) / cast(bit_count(set_counts.channel_set) as double)'
        ) }} as shapley_value
    from channels
    inner join set_counts
        on (set_counts.channel_set & channels.channel_bit) <> 0
    group by channels.channel
),

chosen as (
    select
        channels.channel,
        case when channel_count.n <= {{ max_exact }} then 'exact' else 'simplified' end as method,
        case
            when channel_count.n <= {{ max_exact }} then exact_values.shapley_value
            else simplified_values.shapley_value
        end as shapley_value
    from channels
    cross join channel_count
    left join exact_values
        on channels.channel = exact_values.channel
    left join simplified_values
        on channels.channel = simplified_values.channel
),

final as (
    select
        channel,
        method,
        coalesce(shapley_value, 0) as shapley_value,
        coalesce({{ exact_share('greatest(shapley_value, 0)') }}, 0) as share
    from chosen
)

select * from final
