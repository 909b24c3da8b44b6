-- The channels of seeds/channel_rules with their paid flag and description, in rule order.
with

rules as (
    select * from {{ ref('channel_rules') }}
),

final as (
    select
        channel,
        bool_or(is_paid) as is_paid,
        min(channel_description) as description,
        cast(min(rule_order) as integer) as first_rule_order
    from rules
    group by channel
)

select * from final
