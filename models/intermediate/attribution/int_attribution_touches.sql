{#-
    The touchpoints of every macro conversion (MARTS.md "Attribution"), before any model hands out credit:
    fct_attributed_conversions credits them under the eight models, int_attribution_journeys learns the
    data-driven ones from them. Touchpoints of a conversion: the converting session, plus the same visitor's
    earlier sessions that start within var('attribution_lookback_days') before the conversion. Position 1 is the
    oldest touch, position `touches` the converting session.
    Orders of the feed that no tracked purchase carries are macro conversions too (conversion_id 'order:<id>',
    is_tracked false, int_orders_credited): an identified customer's order is credited through the customer's
    sessions within the lookback before the order (position n = the last session, the one fct_kpi_daily
    credits); an order without identity or without such a session is one '(untracked)' touch (no session).
    kpi_date is the day the KPI marts count the conversion on: the order's feed day when it carries an order,
    else the converting session's day; none is after data_through (int_data_through), like fct_kpi_daily.
-#}

with

conversions as (
    select * from {{ ref('fct_conversions') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

orders as (
    select * from {{ ref('int_orders_credited') }}
),

tracked_conversions as (
    select
        conversions.conversion_id,
        conversions.goal_id,
        conversions.occurred_at,
        conversions.conversion_date,
        conversions.session_id,
        conversions.visitor_id,
        conversions.order_id,
        conversions.revenue,
        conversions.gross_margin,
        conversions.value,
        converting_session.started_at as converting_session_started_at,
        converting_session.session_date as converting_session_date,
        coalesce(orders.order_date, converting_session.session_date) as kpi_date,
        true as is_tracked,
        'tracked' as credited_via
    from conversions
    inner join sessions as converting_session
        on conversions.session_id = converting_session.session_id
    left join orders
        on conversions.order_id = orders.order_id
    where conversions.goal_type = 'macro'
),

untracked_orders as (
    -- feed orders no tracked purchase carries: the order itself is the conversion, at the order's time
    select
        'order:' || order_id as conversion_id,
        goal_id,
        ordered_at as occurred_at,
        order_date as conversion_date,
        cast(null as string) as session_id,
        visitor_id,
        order_id,
        net_revenue as revenue,
        gross_margin,
        net_revenue as value,
        ordered_at as converting_session_started_at,
        cast(null as date) as converting_session_date,
        order_date as kpi_date,
        false as is_tracked,
        credited_via
    from orders
    where credited_via <> 'purchase_session'
),

macro_conversions as (
    select * from tracked_conversions
    union all
    select * from untracked_orders
),

-- The converting session always counts (even without a visitor id, e.g. no analytics consent);
-- earlier sessions of the same visitor count when they start inside the lookback window (for an order without
-- a purchase event: the customer's sessions up to the order); an order no session explains is one '(untracked)'
-- touch.
touch_candidates as (
    select
        macro_conversions.*,
        sessions.session_id as touch_session_id,
        sessions.started_at as touch_started_at,
        sessions.channel,
        sessions.campaign_key,
        true as is_converting_session
    from macro_conversions
    inner join sessions
        on macro_conversions.session_id = sessions.session_id

    union all

    select
        macro_conversions.*,
        sessions.session_id as touch_session_id,
        sessions.started_at as touch_started_at,
        sessions.channel,
        sessions.campaign_key,
        false as is_converting_session
    from macro_conversions
    inner join sessions
        on
            macro_conversions.visitor_id = sessions.visitor_id
            and (macro_conversions.session_id is null or macro_conversions.session_id <> sessions.session_id)
            and macro_conversions.converting_session_started_at >= sessions.started_at
            and sessions.started_at
            >= {{ dbt.dateadd('day', -1 * var('attribution_lookback_days') | int, 'macro_conversions.occurred_at') }}
    where macro_conversions.credited_via <> 'untracked'

    union all

    select
        macro_conversions.*,
        cast(null as string) as touch_session_id,
        cast(null as timestamp) as touch_started_at,
        '(untracked)' as channel,
        '(untracked)' as campaign_key,
        false as is_converting_session
    from macro_conversions
    where macro_conversions.credited_via = 'untracked'
),

numbered as (
    select
        *,
        row_number() over (
            partition by conversion_id
            order by is_converting_session, touch_started_at, touch_session_id
        ) as touch_position,
        count(*) over (partition by conversion_id) as touches,
        -- days between the session start and the conversion, for time decay (half-life 7 days); 0 without a session.
        -- Divisions by a double: Spark would divide decimal literals in decimals, cut to 6 places
        cast(coalesce(greatest({{ dbt.datediff('touch_started_at', 'occurred_at', 'second') }}, 0), 0) as double) / 86400
            as days_before_conversion
    from touch_candidates
),

final as (
    select *
    from numbered
    where kpi_date <= (select data_through.data_through from {{ ref('int_data_through') }} as data_through)
)

select * from final
