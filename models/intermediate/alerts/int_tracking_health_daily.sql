{#-
    Tracking health per reporting day, whole business: what the orders feed says against what tracking saw.
    feed_orders: orders placed that day in the feed, whatever their status now (a later refund or cancellation
    does not change whether the purchase was tracked, and an old day's health would otherwise move when one
    arrives); matched_orders: those of them that a tracked purchase event carries (any day); sessions and events:
    tracked sessions started that day and their events. Per channel is not meaningful: a feed order has no channel
    unless tracking gives it one. Days are dense from the first to the last day of either side, so a day that
    tracking missed entirely still has its feed orders (and 0 sessions).
-#}

with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

sessions as (
    select * from {{ ref('int_sessions_aggregated') }}
),

conversions as (
    select * from {{ ref('int_conversions_matched') }}
),

tracked_orders as (
    select distinct order_id
    from conversions
    where order_id is not null
),

feed_days as (
    select
        {{ to_reporting_date('orders.ordered_at_utc') }} as date,
        count(*) as feed_orders,
        count(tracked_orders.order_id) as matched_orders
    from orders
    left join tracked_orders
        on orders.order_id = tracked_orders.order_id
    group by 1
),

session_days as (
    select
        {{ to_reporting_date('started_at_utc') }} as date,
        count(*) as sessions,
        sum(events) as events
    from sessions
    group by 1
),

bounds as (
    select
        min(date) as first_date,
        max(date) as last_date
    from (
        select date from feed_days
        union all
        select date from session_days
    ) as days
),

calendar as (
    {{ days_between('(select bounds.first_date from bounds)', '(select bounds.last_date from bounds)', 'date') }}
),

final as (
    select
        calendar.date,
        cast(coalesce(feed_days.feed_orders, 0) as bigint) as feed_orders,
        cast(coalesce(feed_days.matched_orders, 0) as bigint) as matched_orders,
        cast(coalesce(session_days.sessions, 0) as bigint) as sessions,
        cast(coalesce(session_days.events, 0) as bigint) as events,
        {{ safe_divide('coalesce(session_days.sessions, 0)', 'feed_days.feed_orders') }} as sessions_per_order,
        {{ safe_divide('coalesce(session_days.events, 0)', 'feed_days.feed_orders') }} as events_per_order,
        {{ safe_divide('feed_days.matched_orders', 'feed_days.feed_orders') }} as match_rate
    from calendar
    left join feed_days
        on calendar.date = feed_days.date
    left join session_days
        on calendar.date = session_days.date
)

select * from final
