-- Orders in the reporting currency (rate of the order's day in the reporting timezone).
-- Net revenue: completed -> revenue; refunded -> 0 (completed minus refunded); cancelled -> 0.
-- Gross margin: net revenue - cost_of_goods for completed orders, 0 for refunded/cancelled, NULL when the cost
-- is unknown.
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

dated as (
    select
        *,
        {{ to_reporting_date('ordered_at_utc') }} as order_date
    from orders
),

final as (
    select
        dated.order_id,
        dated.ordered_at_utc,
        dated.order_date,
        dated.user_id,
        dated.status,
        dated.status = 'completed' as is_completed,
        case
            when dated.status = 'completed' then {{ to_reporting_currency('dated.revenue', 'fx') }}
            else cast(0 as decimal(18, 4))
        end as net_revenue,
        case
            when dated.status <> 'completed' then cast(0 as decimal(18, 4))
            when dated.cost_of_goods is null then null
            else {{ to_reporting_currency('dated.revenue - dated.cost_of_goods', 'fx') }}
        end as gross_margin
    from dated
    {{ fx_join('dated.currency', 'dated.order_date', 'fx') }}
)

select * from final
