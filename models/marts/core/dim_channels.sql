-- The channels of seeds/channel_rules with their paid flag and description, in rule order, plus '(untracked)':
-- the channel of feed orders that no tracked session carries and no known customer's session explains
-- (int_orders_credited), so every channel of the facts joins here.
with

rules as (
    select * from {{ ref('channel_rules') }}
),

from_rules as (
    select
        channel,
        bool_or(is_paid) as is_paid,
        min(channel_description) as description,
        cast(min(rule_order) as integer) as first_rule_order
    from rules
    group by channel
),

untracked as (
    select
        '(untracked)' as channel,
        false as is_paid,
        'Orders of the orders feed that no tracked session carries and no session of a known customer explains: '
        || 'ad blockers, consent refusals, tracking outages.' as description,
        cast(max(first_rule_order) + 1 as integer) as first_rule_order
    from from_rules
    having count(case when channel = '(untracked)' then 1 end) = 0
),

final as (
    select * from from_rules
    union all
    select * from untracked
)

select * from final
