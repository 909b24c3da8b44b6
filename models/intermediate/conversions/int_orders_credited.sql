{#-
    One row per order, with the session, channel and campaign it is credited to (MARTS.md "Where a conversion
    counts"). The orders feed is the revenue truth: every order of the feed is here, on its own day, whether or not
    tracking saw it. credited_via says how the order found its session:
      purchase_session  a tracked purchase carries the order (int_conversions_valued: the first conversion of the
                        order_id); the order takes that session
      customer_session  no tracked purchase, but the order's user_id is a stitched visitor: the customer's last
                        session that starts within var('attribution_lookback_days') before the order (the window of
                        fct_attributed_conversions, so last touch there is this same session)
      untracked         neither: channel and campaign_key '(untracked)', no session
    A site without any orders feed counts its tracked purchases as orders (MARTS.md "Order"), with the event's
    revenue (is_in_feed false). goal_id is the carrying conversion's goal; for orders no purchase carries, the goal
    that carries most tracked orders (the purchase goal), so attribution can name one.
-#}

{%- set lookback_days = var('attribution_lookback_days') | int -%}

with

orders as (
    select * from {{ ref('int_orders_converted') }}
),

conversions as (
    select * from {{ ref('int_conversions_valued') }}
),

sessions as (
    select * from {{ ref('int_sessions_classified') }}
),

carriers as (
    -- int_conversions_valued gives an order_id to one conversion per order only
    select
        conversion_id,
        goal_id,
        session_id,
        order_id,
        occurred_at_utc,
        revenue,
        gross_margin,
        is_order
    from conversions
    where order_id is not null
),

order_goal as (
    select goal_id
    from carriers
    group by goal_id
    order by count(*) desc, goal_id
    limit 1
),

feed_orders as (
    select
        order_id,
        ordered_at_utc,
        user_id,
        is_completed,
        net_revenue,
        gross_margin,
        true as is_in_feed
    from orders
),

event_orders as (
    -- only when there is no feed at all: the tracked purchases are the orders
    select
        order_id,
        occurred_at_utc as ordered_at_utc,
        cast(null as string) as user_id,
        is_order as is_completed,
        revenue as net_revenue,
        gross_margin,
        false as is_in_feed
    from carriers
    where not exists (select 1 from orders)
),

all_orders as (
    select * from feed_orders
    union all
    select * from event_orders
),

carried as (
    select
        all_orders.*,
        {{ to_reporting_tz('all_orders.ordered_at_utc') }} as ordered_at,
        carriers.conversion_id,
        carriers.goal_id,
        carriers.session_id as purchase_session_id
    from all_orders
    left join carriers
        on all_orders.order_id = carriers.order_id
),

customer_sessions as (
    -- the customer's last session in the lookback window before an order no purchase carries (reporting time, as
    -- fct_attributed_conversions compares them)
    select
        carried.order_id,
        sessions.session_id
    from carried
    inner join sessions
        on
            carried.user_id = sessions.visitor_id
            and carried.ordered_at >= sessions.started_at
            and sessions.started_at >= {{ dbt.dateadd('day', -1 * lookback_days, 'carried.ordered_at') }}
    where carried.conversion_id is null
    qualify row_number() over (
        partition by carried.order_id order by sessions.started_at desc, sessions.session_id desc
    ) = 1
),

credited as (
    select
        carried.*,
        coalesce(carried.purchase_session_id, customer_sessions.session_id) as session_id,
        case
            when carried.purchase_session_id is not null then 'purchase_session'
            when customer_sessions.session_id is not null then 'customer_session'
            else 'untracked'
        end as credited_via
    from carried
    left join customer_sessions
        on carried.order_id = customer_sessions.order_id
),

final as (
    select
        credited.order_id,
        credited.is_in_feed,
        credited.ordered_at,
        cast(credited.ordered_at as date) as order_date,
        credited.user_id,
        -- the carrying session's visitor; else the customer (the stitched visitor id is the user_id)
        coalesce(sessions.visitor_id, credited.user_id) as visitor_id,
        credited.is_completed,
        credited.net_revenue,
        credited.gross_margin,
        credited.credited_via,
        credited.conversion_id,
        coalesce(credited.goal_id, order_goal.goal_id) as goal_id,
        sessions.session_id,
        sessions.started_at as session_started_at,
        sessions.session_date,
        coalesce(sessions.channel, '(untracked)') as channel,
        coalesce(sessions.campaign_key, '(untracked)') as campaign_key
    from credited
    left join sessions
        on credited.session_id = sessions.session_id
    left join order_goal
        on true
)

select * from final
