-- One row per visitor (stitched): first seen, acquisition channel, orders, revenue and customer lifetime value.
-- clv_historical = gross margin to date (revenue when no cost is known).
-- clv_predicted  = AOV × purchase frequency × margin rate × var('expected_lifetime_years'), where purchase frequency
-- is the average orders per customer per year over the data's span (one number for all customers, so a
-- one-order customer seen yesterday does not get a huge frequency) and margin rate is the customer's gross margin /
-- revenue (the overall rate when unknown). NULL for visitors without orders.
-- Orders come from the orders feed (int_orders_credited): a customer's order counts whether or not tracking saw the
-- purchase, as long as identity ties it to the visitor (the carrying session's visitor, else the order's user_id).
with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

credited_orders as (
    select * from {{ ref('int_orders_credited') }}
),

visits as (
    -- A group-by, not a window over all sessions: each visitor's first session and session count in one pass.
    select
        visitor_id,
        {{ first_by('session_id', '(started_at, session_id)') }} as first_session_id,
        count(*) as sessions
    from sessions
    group by visitor_id
),

first_sessions as (
    select
        visits.visitor_id,
        sessions.started_at as first_seen_at,
        sessions.channel as acquisition_channel,
        sessions.campaign_key as acquisition_campaign_key
    from visits
    inner join sessions
        on visits.first_session_id = sessions.session_id
),

orders as (
    select
        visitor_id,
        min(ordered_at) as first_order_at,
        count(*) as orders,
        {{ exact_sum('net_revenue') }} as revenue,
        {{ exact_sum('coalesce(gross_margin, net_revenue)') }} as gross_margin
    from credited_orders
    where is_completed and visitor_id is not null
    group by visitor_id
),

span as (
    -- Years of data (at least one day), customers with orders, orders and the overall margin rate.
    select
        -- a double, not Spark's decimal division (6 places)
        cast(greatest({{ dbt.datediff('min(session_date)', 'max(session_date)', 'day') }} + 1, 1) as double) / 365.25 as years,
        (select count(o.visitor_id) from orders as o) as customers,
        (select sum(o.orders) from orders as o) as total_orders,
        (select {{ safe_divide(exact_sum('o.gross_margin'), exact_sum('o.revenue')) }} from orders as o) as margin_rate
    from sessions
),

final as (
    select
        first_sessions.visitor_id,
        first_sessions.first_seen_at,
        first_sessions.acquisition_channel,
        first_sessions.acquisition_campaign_key,
        cast(visits.sessions as bigint) as sessions,
        orders.first_order_at,
        cast(coalesce(orders.orders, 0) as bigint) as orders,
        cast(coalesce(orders.revenue, 0) as double) as revenue,
        cast(coalesce(orders.gross_margin, 0) as double) as gross_margin,
        {{ safe_divide('orders.revenue', 'orders.orders') }} as aov,
        cast(coalesce(orders.gross_margin, 0) as double) as clv_historical,
        cast(
            {{ safe_divide('orders.revenue', 'orders.orders') }}
            * {{ safe_divide(safe_divide('span.total_orders', 'span.customers'), 'span.years') }}
            * coalesce({{ safe_divide('orders.gross_margin', 'orders.revenue') }}, span.margin_rate)
            * {{ var('expected_lifetime_years') }}
            as double
        ) as clv_predicted
    from first_sessions
    inner join visits
        on first_sessions.visitor_id = visits.visitor_id
    left join orders
        on first_sessions.visitor_id = orders.visitor_id
    cross join span
)

select * from final
