-- The orders feed is the revenue truth (MARTS.md "Order"): per day, fct_kpi_daily's orders equal the feed's
-- completed orders and its revenue the feed's net revenue (completed - refunded, reporting currency) to the cent,
-- whether or not tracking saw the orders, up to data_through (an order stamped after it waits for its day,
-- int_data_through). Returns the days that differ; passes when empty (and when there is no feed: then the tracked
-- purchases are the orders).
with

feed as (
    select * from {{ ref('int_orders_converted') }}
),

kpi_daily as (
    select * from {{ ref('fct_kpi_daily') }}
),

feed_days as (
    select
        order_date as day,
        count(case when is_completed then 1 end) as orders,
        sum(net_revenue) as revenue
    from feed
    where order_date <= (select data_through from {{ ref('int_data_through') }})
    group by order_date
),

mart_days as (
    select
        date as day,
        sum(orders) as orders,
        {{ exact_sum('revenue') }} as revenue
    from kpi_daily
    group by date
),

final as (
    select
        coalesce(feed_days.day, mart_days.day) as day,
        coalesce(feed_days.orders, 0) as feed_orders,
        coalesce(mart_days.orders, 0) as mart_orders,
        coalesce(feed_days.revenue, 0) as feed_revenue,
        coalesce(mart_days.revenue, 0) as mart_revenue
    from feed_days
    full outer join mart_days
        on feed_days.day = mart_days.day
    where
        exists (select 1 from feed)
        and (
            coalesce(feed_days.orders, 0) <> coalesce(mart_days.orders, 0)
            or abs(coalesce(feed_days.revenue, 0) - coalesce(mart_days.revenue, 0)) >= 0.005
        )
)

select * from final
