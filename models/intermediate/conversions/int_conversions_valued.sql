-- Conversions with goal attributes and money in the reporting currency. Revenue comes from the orders feed
-- (net of refunds), the revenue truth (MARTS.md "Order"): while a feed exists, a purchase whose order is not in it
-- carries no order and no revenue (fct_revenue_reconciliation counts it as a tracked purchase without a feed order);
-- only a site without any orders feed counts the purchase events themselves, with the event's revenue. When several
-- conversions carry the same order_id (a double-fired purchase) only the first one carries the order, and only
-- goals matched on the event itself (match_type event) carry one.
-- value = revenue for conversions with an order, else the goal's value.
-- A table rebuilt whole on every run (one row per conversion, cheap): a refund or a new fx rate re-values old
-- conversions without reprocessing sessions, and the marts that read it do not each recompute it.
with

conversions as (
    select * from {{ ref('int_conversions_matched') }}
),

goals as (
    select * from {{ ref('conversion_goals') }}
),

orders as (
    select * from {{ ref('int_orders_converted') }}
),

order_carriers as (
    -- Only event goals carry an order: a session goal (duration, page views) can fire on the purchase event
    -- itself, and must not take the order away from the purchase conversion. Of several conversions of one
    -- order (a double-fired purchase) the first carries it. Ranked among order conversions only: the many
    -- conversions without an order would otherwise form one huge partition to sort.
    select conversions.conversion_id
    from conversions
    inner join goals
        on conversions.goal_id = goals.goal_id
    where
        conversions.order_id is not null
        and goals.match_type = 'event'
    qualify row_number() over (
        partition by conversions.order_id order by conversions.occurred_at_utc, conversions.conversion_id
    ) = 1
),

feed as (
    -- one row: does any orders feed exist? (an empty feed means the site reports orders through events only)
    select count(*) > 0 as feed_exists
    from orders
),

first_per_order as (
    select
        conversions.*,
        order_carriers.conversion_id is not null as carries_order
    from conversions
    left join order_carriers
        on conversions.conversion_id = order_carriers.conversion_id
),

final as (
    select
        first_per_order.conversion_id,
        first_per_order.goal_id,
        goals.goal_type,
        goals.is_lead,
        cast(goals.weight as double) as weight,
        first_per_order.session_id,
        first_per_order.event_id,
        first_per_order.occurred_at_utc,
        case when first_per_order.carries_order then first_per_order.order_id end as order_id,
        case
            when not first_per_order.carries_order then null
            when orders.order_id is not null then orders.net_revenue
            when not feed.feed_exists then {{ to_reporting_currency('first_per_order.event_revenue', 'fx') }}
        end as revenue,
        case when first_per_order.carries_order then orders.gross_margin end as gross_margin,
        case
            when not first_per_order.carries_order then false
            when orders.order_id is not null then orders.is_completed
            else not feed.feed_exists
        end as is_order,
        -- what the purchase event itself says the order was worth (reconciliation: tracked vs feed revenue)
        case
            when first_per_order.carries_order
                then {{ to_reporting_currency('first_per_order.event_revenue', 'fx') }}
        end as tracked_revenue,
        cast(goals.value as double) as goal_value
    from first_per_order
    inner join goals
        on first_per_order.goal_id = goals.goal_id
    left join orders
        on first_per_order.order_id = orders.order_id
    cross join feed
    {{ fx_join('first_per_order.event_currency', to_reporting_date('first_per_order.occurred_at_utc'), 'fx') }}
)

select * from final
