-- One row per goal conversion, with the visitor, channel and campaign of the session it happened in.
-- revenue: net revenue of the order (orders feed; completed - refunded), NULL when the conversion has no order.
-- value: revenue when the conversion carries an order, else the goal's value.
-- conversion_date is the session's day, the day fct_kpi_daily counts the conversion on: a session that runs past
-- midnight keeps its conversions on its own day, so no row is dated after the last session day (data_through)
-- and the conversions of a day here are the ones fct_kpi_daily counts. occurred_at keeps the exact time.
-- A table rebuilt whole on every run, like fct_sessions (a refund or re-stitching changes old rows).
with

conversions as (
    select * from {{ ref('int_conversions_valued') }}
),

sessions as (
    select * from {{ ref('int_sessions_classified') }}
),

final as (
    select
        conversions.conversion_id,
        conversions.goal_id,
        conversions.goal_type,
        conversions.is_lead,
        cast(conversions.weight as double) as weight,
        cast(
            case when conversions.order_id is not null then conversions.revenue else conversions.goal_value end
            as double
        ) as value,
        {{ to_reporting_tz('conversions.occurred_at_utc') }} as occurred_at,
        sessions.session_date as conversion_date,
        conversions.session_id,
        sessions.visitor_id,
        sessions.channel,
        sessions.campaign_key,
        conversions.order_id,
        cast(conversions.revenue as double) as revenue,
        cast(conversions.gross_margin as double) as gross_margin,
        conversions.is_order
    from conversions
    inner join sessions
        on conversions.session_id = sessions.session_id
)

select * from final
